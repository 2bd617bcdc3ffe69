"""A task model: a transformers Auto* model plus the task's decoding and metadata.

A saved model is a ``save_pretrained`` directory plus its tokenizer and ``claf_task.json``
(what the reader and head need to serve raw input again), so ``AutoModel.from_pretrained``
loads it and ``predict.py`` serves it.
"""

import json
from pathlib import Path

import torch

from claf.atomic import atomic_dir

TASK_FILE = "claf_task.json"


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

    def save(self, path, tokenizer, reader_name, reader_options, model_name):
        meta = {"model": {"name": model_name, "options": self.options()},
                "data_reader": {"dataset": reader_name, "options": reader_options}}
        with atomic_dir(path) as tmp:
            self.net.save_pretrained(tmp)
            tokenizer.save_pretrained(tmp)
            (Path(tmp) / TASK_FILE).write_text(json.dumps(meta, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")

    # Evaluation: per-feature results -> per-example predictions -> metric inputs.
    def feature_results(self, outputs, batch):
        raise NotImplementedError

    def predictions(self, examples, features, results):
        raise NotImplementedError

    def references(self, examples):
        raise NotImplementedError


def read_task_file(path):
    file = Path(path) / TASK_FILE
    if not file.is_file():
        raise FileNotFoundError(f"{file} not found: {path} is not a checkpoint saved by claf "
                                "(give a run folder or its checkpoints/best)")
    return json.loads(file.read_text(encoding="utf-8"))
