"""pretrained_model_name forms and the tokenizer travelling with the checkpoint."""

import shutil

import pytest

from claf.config import ConfigError
from claf.experiment import Experiment
from claf.hub.archive import pack

QUICK = {
    "data_reader.train_limit": 64,
    "data_reader.valid_limit": 64,
    "trainer.num_epochs": 1,
    "trainer.progress": False,
}


def test_tar_gz_checkpoint_by_path_and_by_url(tmp_path, tiny_korean_bert, server, monkeypatch):
    monkeypatch.setenv("CLAF_CACHE", str(tmp_path / "cache"))
    archive = pack(tiny_korean_bert, tmp_path / "tiny-ko-1k.tar.gz")
    shutil.copy(archive, server.root / archive.name)
    for i, name in enumerate((str(archive), f"{server.url}/{archive.name}")):
        summary = Experiment(
            "train",
            "klue/nsmc_bert",
            overrides={
                **QUICK,
                "bert_for_seq_cls.pretrained_model_name": name,
                "trainer.log_dir": str(tmp_path / f"run{i}"),
            },
        )()
        assert summary["best"]["valid/accuracy"] >= 0
    assert server.hits == [f"/{archive.name}"]


def test_config_casing_that_contradicts_the_checkpoint_is_an_error(tmp_path, tiny_korean_bert):
    with pytest.raises(ConfigError, match="do_lower_case is true but the checkpoint .* keeps case"):
        Experiment(
            "train",
            "klue/nsmc_bert",
            overrides={
                **QUICK,
                "bert_for_seq_cls.pretrained_model_name": str(tiny_korean_bert),
                "bert_basic.do_lower_case": True,
                "trainer.log_dir": str(tmp_path),
            },
        )()


def test_config_vocab_that_differs_from_the_checkpoint_is_an_error(tmp_path, tiny_korean_bert, minilm_path):
    with pytest.raises(ConfigError, match="differs from the vocab of checkpoint"):
        Experiment(
            "train",
            "klue/nsmc_bert",
            overrides={
                **QUICK,
                "bert_for_seq_cls.pretrained_model_name": str(tiny_korean_bert),
                "wordpiece.vocab_path": str(minilm_path / "vocab.txt"),
                "trainer.log_dir": str(tmp_path),
            },
        )()


def test_checkpoint_without_tokenizer_takes_the_configured_vocab(tmp_path, tiny_korean_bert, mirror):
    weights_only = tmp_path / "weights_only"
    weights_only.mkdir()
    for name in ("config.json", "model.safetensors"):
        shutil.copy(tiny_korean_bert / name, weights_only / name)
    log_dir = tmp_path / "run"
    Experiment(
        "train",
        "klue/nsmc_bert",
        overrides={
            **QUICK,
            "bert_for_seq_cls.pretrained_model_name": str(weights_only),
            "wordpiece.vocab_path": str(mirror / "vocab" / "koelectra" / "vocab.txt"),
            "trainer.log_dir": str(log_dir),
        },
    )()
    from transformers import AutoTokenizer

    saved = AutoTokenizer.from_pretrained(log_dir / "checkpoints" / "best")
    assert len(saved) == 32200 and saved.tokenize("Hello")[0] == "He"  # cased, as configured
