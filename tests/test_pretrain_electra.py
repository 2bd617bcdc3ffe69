"""The ELECTRA objective on real Korean text: its loss falls, its exported discriminator fine-tunes
through train.py, and the generator's size and the shared embeddings follow the config."""

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from claf.config import resolve_config
from claf.config.errors import ConfigError
from claf.experiment import Experiment
from tests.pretrain_support import review_corpus

ROOT = Path(__file__).resolve().parents[1]
LINES = 1500
RECIPE = "pretrain/electra_kor_tiny"


@pytest.fixture(scope="module")
def corpus_file(mirror, tmp_path_factory):
    return review_corpus(mirror, tmp_path_factory.mktemp("electra_corpus") / "reviews.txt", LINES)


def small(**overrides):
    """The shipped recipe at test size (hidden 32, 1 layer; generator half of it)."""
    values = {
        "transformers_config.hidden_size": 32,
        "transformers_config.embedding_size": 32,
        "transformers_config.num_hidden_layers": 1,
        "transformers_config.num_attention_heads": 2,
        "transformers_config.intermediate_size": 64,
    }
    values.update(overrides)
    return values


@pytest.fixture(scope="module")
def electra_run(corpus_file, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("electra_run")
    env = {"CLAF_HUB_DIR": str(tmp / "hub"), "CLAF_CACHE": str(tmp / "cache")}
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    overrides = small(
        **{
            "name": "electra-test",
            "corpus.files": [str(corpus_file)],
            "corpus.shard_size_mb": 0.02,
            "corpus.prepared_dir": str(tmp / "prepared"),
            "trainer.log_dir": str(tmp / "run"),
            "schedule.sequence_length": [[20, 32, 16], [None, 64, 8]],
            "trainer.max_steps": 30,
            "checkpoint.save_every_steps": 15,
            "evaluation.holdout_documents": 100,
            "evaluation.num_instances": 64,
            "trainer.progress": False,
            "trainer.precision": "fp32",
            "optimizer.learning_rate": 0.003,
            "trainer.verbose_step_count": 0,
        }
    )
    try:
        summary = Experiment("pretrain", RECIPE, overrides=overrides)()
        yield tmp, summary
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def test_electra_loss_falls_on_korean_reviews(electra_run):
    _, summary = electra_run
    history = summary["history"]
    assert [h["global_step"] for h in history] == [15, 30]
    first, last = history
    assert last["valid/loss"] < first["valid/loss"]  # mlm + 50 * rtd, held out
    assert last["valid/rtd_loss"] < first["valid/rtd_loss"] < 0.75  # below chance (ln 2) already at step 15
    for h in history:
        assert h["valid/loss"] == pytest.approx(h["valid/mlm_loss"] + 50 * h["valid/rtd_loss"], rel=1e-6)
        assert 0 <= h["valid/mlm_accuracy"] <= 100 and 50 < h["valid/rtd_accuracy"] <= 100  # percent
        share = h["valid/rtd_replaced"] / 100  # held-out replaced share: at most the masked 15%
        assert 0 < share < 0.16
        prior = -(share * math.log(share) + (1 - share) * math.log(1 - share))
        assert h["valid/rtd_prior"] == pytest.approx(prior, rel=1e-9)


def test_exported_discriminator_loads_and_fine_tunes_through_train_py(electra_run, mirror):
    from safetensors import safe_open
    from transformers import AutoModel, AutoModelForSequenceClassification

    tmp, summary = electra_run
    assert [p["name"] for p in summary["published"]] == ["electra-test-15", "electra-test-30"]
    folder = tmp / "run" / "checkpoints" / "electra-test-30"
    assert json.loads((folder / "config.json").read_text())["architectures"] == ["ElectraForPreTraining"]
    with safe_open(str(folder / "model.safetensors"), "pt") as f:
        keys = list(f.keys())
    assert "discriminator_predictions.dense_prediction.weight" in keys
    assert not any("generator" in k for k in keys)  # only the discriminator is exported
    assert type(AutoModel.from_pretrained(folder)).__name__ == "ElectraModel"
    assert (
        type(AutoModelForSequenceClassification.from_pretrained(folder, num_labels=2)).__name__
        == "ElectraForSequenceClassification"
    )

    log_dir = tmp / "nsmc"
    env = dict(
        os.environ,
        PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
        CLAF_DATA_MIRROR=str(mirror),
        CLAF_HUB_DIR=str(tmp / "hub"),
        CLAF_CACHE=str(tmp / "cache"),
    )
    command = [
        sys.executable,
        "train.py",
        "--base_config",
        "klue/nsmc_larva_tiny",
        "--bert_for_seq_cls.pretrained_model_name",
        "electra-test-30",  # by name, from the local index
        "--data_reader.train_limit",
        "200",
        "--data_reader.valid_limit",
        "100",
        "--seq_cls.max_seq_length",
        "64",  # the checkpoint's position table (the test schedule's longest)
        "--trainer.num_epochs",
        "1",
        "--trainer.log_dir",
        str(log_dir),
        "--trainer.progress",
        "false",
    ]
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    metrics = json.loads((log_dir / "metrics.json").read_text())
    assert 0 < metrics["best"]["valid/accuracy"] <= 100
    best = log_dir / "checkpoints" / "best"
    tuned = AutoModelForSequenceClassification.from_pretrained(best)
    assert type(tuned).__name__ == "ElectraForSequenceClassification"
    pretrained = AutoModel.from_pretrained(folder)
    # fine-tuning started from the exported weights and moved them
    assert tuned.electra.embeddings.word_embeddings.weight.shape == pretrained.embeddings.word_embeddings.weight.shape
    assert not torch.equal(
        tuned.electra.encoder.layer[0].output.dense.weight, pretrained.encoder.layer[0].output.dense.weight
    )


def build(tokenizer, **overrides):
    from claf.pretrain.build import build_model

    cfg = resolve_config(RECIPE, overrides, kind="pretrain")
    return build_model(cfg.model, tokenizer, 64)


@pytest.fixture(scope="module")
def tokenizer(tiny_korean_bert):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(tiny_korean_bert)


def test_generator_size_and_sharing_follow_the_config(tokenizer):
    model = build(tokenizer)  # the shipped recipe: hidden 128, 2 layers, 2 heads, generator_size 0.5
    d, g = model.net.config, model.generator.config
    assert (d.hidden_size, d.num_hidden_layers, d.num_attention_heads, d.intermediate_size) == (128, 2, 2, 512)
    assert (g.hidden_size, g.num_hidden_layers, g.num_attention_heads, g.intermediate_size) == (64, 2, 1, 256)
    assert g.embedding_size == d.embedding_size == 128 and g.vocab_size == d.vocab_size == len(tokenizer)
    assert model.generator.electra.embeddings is model.net.electra.embeddings
    shared = model.net.electra.embeddings.word_embeddings.weight
    assert model.generator.generator_lm_head.weight is shared  # the generator's output layer too
    own = sum(p.numel() for p in model.generator.parameters()) - sum(
        p.numel() for p in model.net.electra.embeddings.parameters()
    )
    assert sum(p.numel() for p in model.parameters()) == sum(p.numel() for p in model.net.parameters()) + own

    # the generator's MLM loss alone trains the shared table (and nothing of the discriminator's own)
    batch = tokenizer(["정말 재밌는 영화", "배우들 연기가 좋았다 다시 보고 싶다"], padding=True, return_tensors="pt")
    labels = torch.full_like(batch["input_ids"], -100)
    labels[0, 2], labels[1, 3] = batch["input_ids"][0, 2], batch["input_ids"][1, 3]
    batch["input_ids"][0, 2] = batch["input_ids"][1, 3] = tokenizer.mask_token_id
    model.generator(**batch, labels=labels).loss.backward()
    assert shared.grad is not None and shared.grad.abs().sum() > 0
    assert all(p.grad is None for p in model.net.electra.encoder.parameters())
    out = model(dict(batch, labels=labels))  # the objective: generator MLM + 50 x RTD on the same batch
    assert out.mlm_count == 2 and out.rtd_count == int(batch["attention_mask"].sum())
    assert out.loss.detach().item() == pytest.approx(out.mlm_loss.item() + 50 * out.rtd_loss.item(), rel=1e-5)

    explicit = build(
        tokenizer,
        **{"electra.generator_layers": 0.5, "electra.generator": {"hidden_size": 96, "num_attention_heads": 3}},
    )
    g = explicit.generator.config
    assert (g.hidden_size, g.num_attention_heads, g.num_hidden_layers, g.intermediate_size) == (96, 3, 1, 256)

    separate = build(tokenizer, **{"electra.share_embeddings": False})
    assert separate.generator.electra.embeddings is not separate.net.electra.embeddings
    assert separate.generator.generator_lm_head.weight is separate.generator.electra.embeddings.word_embeddings.weight


def test_bad_electra_configs_fail_with_the_key(tokenizer):
    with pytest.raises(ConfigError, match="generator_size"):
        build(tokenizer, **{"electra.generator_size": 1.5})
    with pytest.raises(ConfigError, match="model_type to electra"):
        build(tokenizer, **{"transformers_config.model_type": "bert"})
    with pytest.raises(ConfigError, match="sampling"):
        build(tokenizer, **{"electra.sampling": "top_k"})
    with pytest.raises(ConfigError, match="not a multiple"):
        build(tokenizer, **{"electra.generator": {"hidden_size": 50, "num_attention_heads": 3}})


@pytest.mark.parametrize("method", ["multinomial", "gumbel"])
def test_replacements_follow_the_generator_distribution(method):
    from claf.pretrain.electra import sample_tokens

    logits = torch.tensor([0.0, 1.0, 2.0, -1.0, -30.0])
    rows = 20000
    drawn = sample_tokens(logits.log_softmax(-1).repeat(rows, 1), method, torch.Generator().manual_seed(0))
    shares = torch.bincount(drawn, minlength=5).float() / rows
    assert torch.allclose(shares, logits.softmax(-1), atol=0.01), shares
    assert int(shares.argmax()) == 2 and float(shares[4]) == 0.0
