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


def check_max_length(data_reader, model_dir, model_key, model_name=None):
    """Fail before training when a reader's ``max_seq_length`` exceeds the checkpoint's positions.

    ``data_reader`` is the config block (every ``max_seq_length`` in it is checked, multi-task included);
    ``model_key`` names the checkpoint setting, e.g. ``model.bert_for_qa.pretrained_model_name``.
    """
    import transformers

    from claf.config import ConfigError

    try:
        config = transformers.AutoConfig.from_pretrained(str(model_dir))
    except (OSError, ValueError):
        return  # not loadable as a config here: the model load reports it
    positions = getattr(config, "max_position_embeddings", None)
    if not positions:
        return
    if config.model_type in ("roberta", "xlm-roberta", "camembert"):
        positions -= (config.pad_token_id or 0) + 1  # positions are numbered from pad_token_id + 1
    for key, length in _max_lengths(data_reader, "data_reader"):
        if isinstance(length, int) and length > positions:
            raise ConfigError(f"--{key} {length} is longer than the checkpoint's max_position_embeddings "
                              f"{positions} (--{model_key} {model_name or model_dir}): lower --{key} to {positions} or "
                              f"pre-train with a larger model.transformers_config.max_position_embeddings")


def _max_lengths(block, prefix):
    for key, value in dict(block).items():
        if key == "max_seq_length":
            yield f"{prefix}.{key}", value
        elif isinstance(value, dict) or hasattr(value, "items"):
            yield from _max_lengths(value, f"{prefix}.{key}")
