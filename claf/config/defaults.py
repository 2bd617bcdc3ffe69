"""Config defaults, in one place: every key a component reads exists in the resolved config.

A BaseConfig may omit these keys; loading fills them in (the BaseConfig's own values win), so
``--help`` lists them, overrides reach them and the frozen ``config.json`` records them.
Constructor options of registered components (a reader's, a trainer's, ...) are not listed here:
their defaults are the constructor's own, and overrides of omitted ones are checked against it.
"""

import copy

DEFAULTS: dict[str, dict] = {
    "finetune": {
        "data_reader": {"train_limit": None, "valid_limit": None, "extra_valid_file_paths": {}},
        "iterator": {"eval_batch_size": None, "group_by_length": True},
        "token": {"tokenizer": {}, "indexer": {"name": "bert"}},
        "trainer": {"name": "default"},
        "plugins": [],
        "seed_num": 42,
        "resolved_checkpoint": None,  # written into a run's config.json: the exact weights it loaded
    },
    "pretrain": {
        "corpus": {"text_column": None, "header": False, "line_limit": None, "sentence_split": True},
        "instances": {
            "order": "shards",
            "group_by_length": 0,
            "copy_share": 0.0,
            "copy_noise": 0.0,
            "copy_splice": False,
        },
        "masking": {"mask_replace_prob": 0.8, "random_replace_prob": 0.1, "max_ngram": 3},
        "schedule": {"ngram_share": {"start": 0.0, "end": 0.0, "start_step": 0, "end_step": 0}},
        "model": {
            "objective": "mlm",
            "pretrained_model_name": None,
            "electra": None,
            "embedding_init": None,
            "contrastive": None,
        },
        "evaluation": {"holdout_documents": 0, "holdout_from": "spread", "num_instances": 512, "batch_size": 64},
        "trainer": {"name": "default"},
        "checkpoint": {
            "keep_archive": False,
            "local": {"root": None},
            "s3": {"bucket": None, "prefix": "larva", "endpoint_url": None},
        },
        "plugins": [],
        "seed_num": 42,
        "factory": None,  # a factory recipe: every published checkpoint queues its jobs (claf/commands/pretrain.py)
        "seeds": None,  # pre-training seeds: one replica each (--seeds 42,43,44)
    },
    "vocab": {
        "corpus": {"seed": 42, "min_chars": 1, "sentences": None},
        "normalization": {
            "unicode": None,
            "do_lower_case": False,
            "strip_accents": False,
            "morphemes": None,
            "tokenize_chinese_chars": True,
        },
        "vocab": {"algorithm": "wordpiece", "min_frequency": 2, "limit_alphabet": None, "output_dir": None},
    },
    "factory": {
        "name": None,
        "checkpoints": {"names": [], "random_init": False},
        "suite": {"head_options": {}},
        "benchmark": {"name": "klue", "server": None, "db": None},
        "executor": {
            "name": "local",
            "workers": None,
            "threads": None,
            "lease_seconds": 120,
            "heartbeat_seconds": 10,
            "max_attempts": 3,
            "work_dir": None,
            "poll_seconds": 60,
            "ray": {"address": None, "num_cpus": 1, "num_gpus": 0, "node_ip": None},
        },
        "notify": {"enabled": True, "slack": {"webhook_env": "CLAF_SLACK_WEBHOOK_URL"}, "dashboard_url": None},
    },
}


def with_defaults(data: dict, kind: str) -> dict:
    """``data`` with the defaults of its recipe kind filled in where it has no value (a copy, data's order first)."""
    return _fill(copy.deepcopy(data), DEFAULTS.get(kind, {}))


def _fill(data: dict, defaults: dict) -> dict:
    for key, value in defaults.items():
        if key not in data:
            data[key] = copy.deepcopy(value)
        elif isinstance(value, dict) and value and isinstance(data[key], dict):
            _fill(data[key], value)
    return data
