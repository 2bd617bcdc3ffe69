"""Helpers for the factory tests: tiny published checkpoints and a tiny recipe."""

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import MIRROR, build_tiny_bert

VOCAB = MIRROR / "vocab" / "koelectra" / "vocab.txt"
TINY = {
    "data_reader.train_limit": 48,
    "data_reader.valid_limit": 24,
    "trainer.num_epochs": 1,
    "iterator.batch_size": 8,
    "iterator.eval_batch_size": 24,
    "seq_cls.max_seq_length": 32,
    "trainer.eval_and_save_step_count": 2,
    "trainer.verbose_step_count": 0,
}


def publish_tiny(root: Path, name: str, step: int, seed: int, compute: dict | None = None) -> dict:
    """Build a tiny random BERT as checkpoint ``name`` (pre-training step ``step``) and publish it (with
    ``compute``, the pre-training compute figures a real run publishes)."""
    from claf.hub.store import LocalStore
    from claf.pretrain.publish import PRETRAIN_FILE, publish_checkpoint

    folder = build_tiny_bert(root / "exports" / name, VOCAB, hidden=32, seed=seed)
    (folder / PRETRAIN_FILE).write_text(json.dumps({"recipe": "tiny", "step": step}), encoding="utf-8")
    return publish_checkpoint(folder, LocalStore(root / "store"), keep_archive=False, compute=compute)


def tiny_recipe(path: Path, tasks=("nsmc",), seeds=1, random_init=False, executor=None, **extra) -> Path:
    suite = {
        "nsmc": {"task": "nsmc", "base_config": "klue/nsmc_bert", "seeds": seeds, "overrides": dict(TINY)},
        "qp": {
            "task": "qp",
            "base_config": "klue/qp_bert",
            "seeds": seeds,
            "overrides": dict(TINY, **{"data_reader.train_limit": 32}),
        },
    }
    recipe = {
        "name": path.stem,
        "checkpoints": {"names": ["tiny-*"], "random_init": random_init},
        "suite": {"tasks": [suite[t] for t in tasks]},
        "benchmark": {"name": "klue"},
        "executor": dict(
            {"name": "local", "workers": 1, "lease_seconds": 30, "heartbeat_seconds": 1}, **(executor or {})
        ),
        **extra,
    }
    path.write_text(json.dumps(recipe, indent=1), encoding="utf-8")
    return path


def factory_cli(*args, env=None, **kw) -> subprocess.Popen:
    """``python -m claf factory ARGS`` from the repository root, output and errors on one text pipe."""
    return subprocess.Popen(
        [sys.executable, "-m", "claf", "factory", *args],
        cwd=Path(__file__).resolve().parents[1],
        env=env or dict(os.environ),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        **kw,
    )
