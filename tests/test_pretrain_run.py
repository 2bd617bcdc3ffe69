"""Pre-training runs end to end on real Korean text: the loss falls, checkpoints are published and
consumed by name, the masked-only head matches the standard model's loss, and a resumed run is exact."""

import json

import numpy as np
import pytest
import torch

from claf.experiment import Experiment
from claf.hub.resolve import resolve_pretrained
from tests.pretrain_support import review_corpus, tiny_recipe

pytestmark = pytest.mark.slow  # end-to-end: real training runs, subprocesses or servers

LINES = 1500


@pytest.fixture(scope="module")
def corpus_file(mirror, tmp_path_factory):
    return review_corpus(mirror, tmp_path_factory.mktemp("pretrain_run") / "reviews.txt", LINES)


def recipe(corpus_file, tmp_path, **overrides):
    values = {
        "schedule.sequence_length": [[20, 32, 16], [None, 64, 8]],
        "trainer.max_steps": 30,
        "checkpoint.save_every_steps": 15,
        "evaluation.holdout_documents": 100,
        "evaluation.num_instances": 64,
        "optimizer.learning_rate": 0.003,
    }
    return tiny_recipe(
        "larva-test", corpus_file, tmp_path, prepared=tmp_path.parent / "prepared", **dict(values, **overrides)
    )


def test_pretraining_loss_falls_and_checkpoints_load_by_name(corpus_file, hub):
    summary = Experiment("pretrain", "pretrain/larva_kor_tiny", overrides=recipe(corpus_file, hub))()
    losses = [h["valid/loss"] for h in summary["history"]]
    assert len(losses) == 2 and losses[1] < losses[0] < np.log(32200) + 1  # held-out MLM loss falls
    names = [p["name"] for p in summary["published"]]
    assert names == ["larva-test-15", "larva-test-30"]
    run = hub / "run"
    # what each checkpoint cost: the training time of the history up to its step, x threads (evaluation excluded)
    times = [h["train_time"] for h in summary["history"]]
    compute = [p["compute"] for p in summary["published"]]
    assert [c["pretrain_seconds"] for c in compute] == pytest.approx([times[0], times[0] + times[1]], abs=1e-3)
    threads = torch.get_num_threads()
    assert [c["pretrain_cpu_seconds"] for c in compute] == pytest.approx(
        [c["pretrain_seconds"] * threads for c in compute], abs=1e-2
    )
    from claf.results.run_payloads import checkpoint_payloads

    filed = {p["name"]: p["metrics"] for p in checkpoint_payloads(run)}  # what `claf results push` sends
    assert filed["larva-test-30"]["pretrain_cpu_seconds"] == compute[1]["pretrain_cpu_seconds"]
    assert filed["larva-test-30"]["mlm_loss"] == summary["history"][1]["valid/mlm_loss"]
    assert json.loads((run / "config.json").read_text())["name"] == "larva-test"
    assert (run / "checkpoints" / "last" / "trainer_state.json").is_file()
    assert json.loads((run / "corpus.json").read_text())["tokens"] > 10000

    from transformers import AutoModelForMaskedLM, AutoTokenizer

    model_dir = resolve_pretrained("larva-test-30")
    net = AutoModelForMaskedLM.from_pretrained(model_dir)
    assert type(net).__name__ == "BertForMaskedLM" and net.config.max_position_embeddings == 512
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    inputs = tokenizer("영화 정말 [MASK] 있어요", return_tensors="pt")
    assert net(**inputs).logits.shape[-1] == len(tokenizer)
    saved = torch.load(run / "checkpoints" / "last" / "model.pt", weights_only=True)
    assert torch.equal(saved["net.bert.embeddings.word_embeddings.weight"], net.bert.embeddings.word_embeddings.weight)


def test_masked_only_head_matches_the_standard_model(tiny_korean_bert):
    from transformers import AutoTokenizer, BertConfig, BertForPreTraining

    from claf.pretrain.model import PretrainModel

    tokenizer = AutoTokenizer.from_pretrained(tiny_korean_bert)
    torch.manual_seed(0)
    net = BertForPreTraining(
        BertConfig(
            vocab_size=len(tokenizer), hidden_size=32, num_hidden_layers=1, num_attention_heads=2, intermediate_size=64
        )
    ).eval()
    batch = tokenizer(["정말 재밌는 영화", "배우들 연기가 좋았다 다시 보고 싶다"], padding=True, return_tensors="pt")
    labels = torch.full_like(batch["input_ids"], -100)
    labels[0, 2], labels[1, 3], labels[1, 5] = batch["input_ids"][0, 2], batch["input_ids"][1, 3], 7
    nsp = torch.tensor([0, 1])
    ours = PretrainModel(net)(dict(batch, labels=labels, next_sentence_label=nsp))
    theirs = net(**batch, labels=labels, next_sentence_label=nsp)
    assert torch.allclose(ours.loss, theirs.loss, atol=1e-5)
    # a graded target (instances.copy_noise) at 0 and 1 is the hard label; in between, the soft cross-entropy
    hard = PretrainModel(net)(dict(batch, labels=labels, next_sentence_label=nsp, next_sentence_target=nsp.float()))
    assert torch.allclose(hard.nsp_loss, ours.nsp_loss, atol=1e-6)
    soft = torch.tensor([0.25, 0.5])
    graded = PretrainModel(net)(dict(batch, labels=labels, next_sentence_label=nsp, next_sentence_target=soft))
    logp = torch.log_softmax(net.cls.seq_relationship(net.bert(**batch).pooler_output), -1)
    expected = -((1 - soft) * logp[:, 0] + soft * logp[:, 1]).mean()
    assert torch.allclose(graded.nsp_loss, expected, atol=1e-5) and not torch.allclose(graded.nsp_loss, hard.nsp_loss)


def test_resumed_pair_run_with_accumulation_is_exact(corpus_file, tmp_path, monkeypatch):
    monkeypatch.setenv("CLAF_HUB_DIR", str(tmp_path / "hub"))
    monkeypatch.setenv("CLAF_CACHE", str(tmp_path / "cache"))
    pair = {
        "instances.format": "sentence_pair",
        "model.objective": "mlm_nsp",
        "masking.strategy": "ngram",
        "trainer.gradient_accumulation_steps": 2,
        "schedule.sequence_length": [[6, 32, 8], [None, 64, 4]],
        "trainer.max_steps": 12,
        "checkpoint.save_every_steps": 6,
        "evaluation.holdout_documents": 0,
        "optimizer.lr_scheduler_type": "constant",
    }  # the same LR whether the run is 6 + 6 or 12 steps
    straight = tmp_path / "straight"
    straight.mkdir()
    Experiment("pretrain", "pretrain/larva_kor_tiny", overrides=recipe(corpus_file, straight, **pair))()
    interrupted = tmp_path / "interrupted"
    interrupted.mkdir()
    monkeypatch.setenv("CLAF_HUB_DIR", str(tmp_path / "hub2"))  # the straight run published the same names
    first = recipe(corpus_file, interrupted, **dict(pair, **{"trainer.max_steps": 6}))
    Experiment("pretrain", "pretrain/larva_kor_tiny", overrides=first)()
    Experiment(
        "pretrain",
        "pretrain/larva_kor_tiny",
        overrides=recipe(corpus_file, interrupted, **dict(pair, **{"trainer.resume": True})),
    )()
    from transformers import AutoModelForPreTraining

    a = AutoModelForPreTraining.from_pretrained(straight / "run" / "checkpoints" / "larva-test-12")
    b = AutoModelForPreTraining.from_pretrained(interrupted / "run" / "checkpoints" / "larva-test-12")
    assert type(a).__name__ == "BertForPreTraining"
    for (name, x), (_, y) in zip(a.state_dict().items(), b.state_dict().items()):
        assert torch.equal(x, y), name


def test_pretraining_seeds_make_replicas_with_their_own_folders_and_names(corpus_file, hub):
    from claf.factory.recipe import _from_entry, random_baseline

    overrides = recipe(corpus_file, hub, **{"trainer.max_steps": 6, "checkpoint.save_every_steps": 6})
    summary = Experiment("pretrain", "pretrain/larva_kor_tiny", overrides=dict(overrides, seeds="7,8"))()
    assert [r["name"] for r in summary["replicas"]] == ["larva-test-s7", "larva-test-s8"]
    assert [p["name"] for p in summary["published"]] == ["larva-test-s7-6", "larva-test-s8-6"]
    for seed in (7, 8):
        frozen = json.loads((hub / "run" / f"s{seed}" / "config.json").read_text())
        assert frozen["seed_num"] == seed and frozen["name"] == f"larva-test-s{seed}" and frozen["seeds"] is None
    from transformers import AutoModelForMaskedLM

    nets = [AutoModelForMaskedLM.from_pretrained(resolve_pretrained(f"larva-test-s{s}-6")) for s in (7, 8)]
    first, second = (n.bert.embeddings.word_embeddings.weight for n in nets)
    assert not torch.equal(first, second)  # another seed: other weights
    replica = _from_entry("larva-test-s8-6", {"sha256": "a" * 64, "url": ""})
    assert replica.model == "larva-test-s8" and replica.step == 6
    assert random_baseline(replica).model == "larva-test-random-init"  # one baseline for every replica
