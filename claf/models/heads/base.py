"""A task model: a transformers Auto* model plus the task's decoding and metadata.

A saved model is a ``save_pretrained`` directory plus its tokenizer and ``claf_task.json``
(what the reader and head need to serve raw input again), so ``AutoModel.from_pretrained``
loads it and ``predict.py`` serves it.
"""

import torch

from claf.atomic import atomic_dir
from claf.models.task_file import TASK_FILE, task_meta, write_task_file


class TaskModel(torch.nn.Module):
    auto_class = None  # name of a transformers Auto class, e.g. "AutoModelForSequenceClassification"
    input_keys = ("input_ids", "token_type_ids", "attention_mask")
    label_keys = ()

    def __init__(self, pretrained_model_name, **hf_kwargs):
        super().__init__()
        import transformers

        auto = getattr(transformers, self.auto_class)
        self.net = auto.from_pretrained(str(pretrained_model_name), **hf_kwargs)

    def forward(self, batch):
        keys = self.input_keys + self.label_keys
        return self.net(**{k: v for k, v in batch.items() if k in keys})

    def options(self):
        """Keyword arguments that rebuild this head from a saved checkpoint."""
        return {}

    def save(self, path, tokenizer, reader_name, reader_options, model_name, plugins=()):
        """``save_pretrained`` + tokenizer + ``claf_task.json``, written atomically."""
        with atomic_dir(path) as tmp:
            self.net.save_pretrained(tmp)
            tokenizer.save_pretrained(tmp)
            write_task_file(tmp, task_meta(model_name, self.options(), reader_name, reader_options, plugins))

    def present(self, example, prediction):
        """One prediction as the user sees it (a label, a score, entities, an answer span)."""
        raise NotImplementedError

    # Evaluation: per-feature results -> per-example predictions -> metric inputs.
    def feature_results(self, outputs, batch):
        raise NotImplementedError

    def predictions(self, examples, features, results):
        raise NotImplementedError

    def references(self, examples):
        raise NotImplementedError


__all__ = ["TASK_FILE", "TaskModel"]
