"""``suite.head_options``: one head option (encoder dropout, a re-drawn pooler) for every task of a suite,
under each task's own head; a task's own override wins, and a wrong option names the task."""

import json

import pytest

from claf.config import ConfigError, resolve_config
from claf.factory.recipe import Checkpoint, expand, load_recipe

CKPT = Checkpoint(name="tiny-8k", sha256="0" * 64, step=8000, model="tiny", source="/nowhere/tiny-8k")


def jobs(head_options: dict) -> list[dict]:
    return expand(load_recipe("factory/larva_kor_tiny_wide", {"suite.head_options": head_options}), [CKPT])


def test_every_task_gets_the_option_under_its_own_head():
    plain, dropped = jobs({}), jobs({"encoder_dropout": 0.1})
    assert len(plain) == len(dropped) == 21  # 7 tasks x 3 seeds
    heads = set()
    for job in dropped:
        keys = [k for k in job["spec"]["overrides"] if k.endswith(".encoder_dropout")]
        assert len(keys) == 1 and job["spec"]["overrides"][keys[0]] == 0.1
        heads.add(keys[0].split(".")[1])
    assert heads == {"bert_for_seq_cls", "bert_for_reg"}
    # the option is part of the job's identity: a database never mixes the two as one result
    assert {j["config_hash"] for j in plain}.isdisjoint(j["config_hash"] for j in dropped)


def test_a_tasks_own_override_wins_over_the_suites(tmp_path):
    recipe = load_recipe("factory/larva_kor_tiny_wide").to_dict()
    recipe["suite"]["head_options"] = {"encoder_dropout": 0.1}
    recipe["suite"]["tasks"][0]["overrides"]["bert_for_seq_cls.encoder_dropout"] = 0.3
    path = tmp_path / "own.json"
    path.write_text(json.dumps(recipe), encoding="utf-8")
    by_task = {j["task"]: j["spec"] for j in expand(load_recipe(str(path)), [CKPT])}
    for task, want in (("nsmc", 0.3), ("qp", 0.1)):
        cfg = resolve_config(by_task[task]["base_config"], by_task[task]["overrides"], kind="finetune")
        assert cfg.model.bert_for_seq_cls.encoder_dropout == want


def test_a_misspelt_option_names_the_task_and_the_key():
    with pytest.raises(ConfigError, match=r"suite task 'nsmc' .*encoder_dropot.*did you mean encoder_dropout"):
        jobs({"encoder_dropot": 0.1})


def test_the_tiny_suites_read_their_sts_tasks_as_pairs_whatever_the_suite_option():
    """Both STS rows learn only with ``pooling: pair`` (benchmarks/preregistered/pair_pooling_epyc.md, H3),
    so the recipes set it per task, and a suite-wide ``pooling`` leaves those two alone."""
    for head_options, other in (({}, "cls"), ({"pooling": "mean"}, "mean")):
        for job in jobs(head_options):
            cfg = resolve_config(job["spec"]["base_config"], job["spec"]["overrides"], kind="finetune")
            sts = job["task"] in ("korsts", "klue_sts_split")
            assert cfg.model.options.get("pooling", "cls") == ("pair" if sts else other), job["task"]
    klue = expand(load_recipe("factory/larva_kor_tiny_klue"), [CKPT])
    assert {j["task"] for j in klue if j["spec"]["overrides"].get("bert_for_reg.pooling") == "pair"} == {"korsts"}
