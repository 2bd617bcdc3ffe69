"""A task model: a transformers Auto* model plus the task's decoding and metadata.

A saved model is a ``save_pretrained`` directory plus its tokenizer and ``claf_task.json``
(what the reader and head need to serve raw input again), so ``AutoModel.from_pretrained``
loads it and ``predict.py`` serves it.
"""

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import torch

from claf.atomic import atomic_dir
from claf.models.task_file import TASK_FILE, task_meta, write_task_file


class TaskModel(torch.nn.Module):
    auto_class: str = ""  # name of a transformers Auto class, e.g. "AutoModelForSequenceClassification"
    input_keys = ("input_ids", "token_type_ids", "attention_mask")
    label_keys = ()

    def __init__(self, pretrained_model_name: str | Path, **hf_kwargs: Any) -> None:
        super().__init__()
        import transformers

        auto = getattr(transformers, self.auto_class)
        self.net = auto.from_pretrained(str(pretrained_model_name), **hf_kwargs)

    def forward(self, batch: dict) -> Any:
        keys = self.input_keys + self.label_keys
        return self.net(**{k: v for k, v in batch.items() if k in keys})

    def options(self) -> dict:
        """Keyword arguments that rebuild this head from a saved checkpoint."""
        return {}

    def save(self, path: str | Path, tokenizer: Any, reader_name: str, reader_options: dict, model_name: str,
             plugins: Iterable[str] = ()) -> None:
        """``save_pretrained`` + tokenizer + ``claf_task.json``, written atomically."""
        with atomic_dir(path) as tmp:
            self.net.save_pretrained(tmp)
            tokenizer.save_pretrained(tmp)
            write_task_file(tmp, task_meta(model_name, self.options(), reader_name, reader_options, plugins))

    def present(self, example: dict, prediction: Any) -> dict:
        """One prediction as the user sees it (a label, a score, entities, an answer span)."""
        raise NotImplementedError

    # Evaluation: per-feature results -> per-example predictions -> metric inputs.
    def feature_results(self, outputs: Any, batch: dict) -> Any:
        raise NotImplementedError

    def predictions(self, examples: list[dict], features: list[dict], results: Any) -> Any:
        raise NotImplementedError

    def references(self, examples: list[dict]) -> list:
        raise NotImplementedError


__all__ = ["TASK_FILE", "TaskModel"]
