"""``trainer.budget_minutes``: a pre-training run fits its steps to a time budget on this machine, every
replica runs the first one's steps, and the fitted run is the run given those steps."""

import json

import pytest
import torch

from claf.config.errors import ConfigError
from claf.experiment import Experiment
from claf.pretrain.budget import fit_steps, phase_ranges
from tests.pretrain_support import review_corpus, tiny_recipe

RECIPE = "pretrain/larva_kor_tiny"


def test_the_steps_that_fit_count_each_phase_and_checkpoint():
    # one phase: 0.1 s a step and 1 s a checkpoint every 10 steps is 0.2 s a step
    assert fit_steps(100.0, [(0, None, 0.1)], 1.0, 10) == 500
    assert fit_steps(99.9, [(0, None, 0.1)], 1.0, 10) == 490  # 499 fit, rounded down to tens
    # two phases: 20 steps at 0.5 s (10 s), then 1 s a step
    assert fit_steps(30.0, [(0, 20, 0.5), (20, None, 1.0)], 0.0, 1000) == 40
    assert fit_steps(5000.0, [(0, None, 1.0)], 0.0, 10**6) == 5000  # hundreds from 1,000 steps on
    assert fit_steps(0.5, [(0, None, 1.0)], 0.0, 10) == 0  # not one step
    assert phase_ranges([(20, 32, 16), (None, 64, 8)]) == [(0, 20), (20, None)]


@pytest.fixture(scope="module")
def corpus_file(mirror, tmp_path_factory):
    return review_corpus(mirror, tmp_path_factory.mktemp("pretrain_budget") / "reviews.txt", 600)


def recipe(corpus_file, folder, **overrides):
    values = {"checkpoint.save_every_steps": 1000, "evaluation.holdout_documents": 50, "trainer.max_steps": 5}
    values["corpus.exclude"] = None  # reading the suite's files would take most of a small budget
    return tiny_recipe("larva-budget", corpus_file, folder, prepared=folder.parent / "prepared", **values) | overrides


@pytest.mark.slow
def test_replicas_run_the_steps_the_first_fitted_and_equal_a_run_given_them(corpus_file, hub):
    overrides = recipe(corpus_file, hub, **{"trainer.budget_minutes": 0.3, "seeds": "7,8"})
    summary = Experiment("pretrain", RECIPE, overrides=overrides)()
    first, second = (json.loads((hub / "run" / f"s{s}" / "budget.json").read_text()) for s in (7, 8))
    steps = first["max_steps"]
    assert steps > 5  # the recipe's own max_steps is replaced
    assert first["budget_minutes"] == 0.3 and first["seconds_per_step"][0]["seconds"] > 0
    assert second["max_steps"] == steps and second["fitted_by"] == str(hub / "run" / "s7")
    for seed in (7, 8):
        frozen = json.loads((hub / "run" / f"s{seed}" / "config.json").read_text())
        assert frozen["trainer"]["max_steps"] == steps and frozen["trainer"]["budget_minutes"] == 0.3
    last = f"{steps / 1000:g}k" if steps >= 1000 else str(steps)
    published = [p["name"] for p in summary["published"]]
    assert f"larva-budget-s7-{last}" in published and f"larva-budget-s8-{last}" in published
    assert summary["replicas"][0]["budget"]["max_steps"] == steps

    # the same seed given those steps, no budget: the same weights (the measurement left the run untouched)
    plain = hub / "plain"
    plain.mkdir()
    given = recipe(corpus_file, plain, **{"trainer.max_steps": steps, "seed_num": 7, "name": "larva-plain"})
    Experiment("pretrain", RECIPE, overrides=given)()
    from transformers import AutoModelForMaskedLM

    a = AutoModelForMaskedLM.from_pretrained(hub / "run" / "s7" / "checkpoints" / f"larva-budget-s7-{last}")
    b = AutoModelForMaskedLM.from_pretrained(plain / "run" / "checkpoints" / f"larva-plain-{last}")
    for (name, x), (_, y) in zip(a.state_dict().items(), b.state_dict().items()):
        assert torch.equal(x, y), name
    assert not (plain / "run" / "budget.json").exists()


@pytest.mark.slow
def test_a_budget_too_small_fails_in_one_line_and_writes_no_run(corpus_file, hub):
    with pytest.raises(ConfigError, match=r"--trainer.budget_minutes 0.001: .* give a larger budget"):
        Experiment("pretrain", RECIPE, overrides=recipe(corpus_file, hub, **{"trainer.budget_minutes": 0.001}))()
    assert not (hub / "run" / "config.json").exists() and not (hub / "run" / "checkpoints").exists()


@pytest.mark.slow
def test_resuming_with_a_budget_keeps_the_fitted_steps_or_says_why_it_cannot(corpus_file, hub):
    Experiment("pretrain", RECIPE, overrides=recipe(corpus_file, hub, **{"trainer.max_steps": 2}))()
    resumed = recipe(corpus_file, hub, **{"trainer.budget_minutes": 5, "trainer.resume": True})
    with pytest.raises(ConfigError, match=r"not started with a budget .* --trainer.max_steps"):
        Experiment("pretrain", RECIPE, overrides=resumed)()
