"""The factory's job queue on a real SQLite database: keys, order, leases, attempts, OOM retry, suite
notifications; and recipe expansion from a real model index."""

import json
import time

import pytest

from claf.config import ConfigError
from claf.db.engine import open_engine, session_factory
from claf.factory.factory import status_text
from claf.factory.recipe import Checkpoint, discover, expand, load_recipe, random_baseline, random_source
from claf.notify import slack
from claf.queue import jobs
from claf.queue.suite import suite_summary
from claf.results.catalog import migrate
from claf.results.replicas import replica_of


@pytest.fixture
def sessions(tmp_path):
    engine = open_engine(f"sqlite:///{tmp_path / 'bench.sqlite'}")
    migrate(engine)
    return session_factory(engine)


def spec(task="nsmc", step=1000, seed=42, cost=1.0, sha=None, attempts=3, channel="CLAF_TEST_HOOK"):
    sha = sha or f"{step:064d}"
    return {
        "recipe": "r",
        "benchmark": "klue",
        "task": task,
        "seed": seed,
        "config_hash": "c" * 64,
        "checkpoint": f"m-{step // 1000}k",
        "checkpoint_sha256": sha,
        "model": "m",
        "step": step,
        "cost": cost,
        "max_attempts": attempts,
        "spec": {"notify": {"channel": channel, "dashboard_url": "http://x/benchmarks/klue"}},
    }


def result(job, score):
    return {
        "ok": True,
        "wall_time": 1.0,
        "result": {
            "benchmark": "klue",
            "task": job["task"],
            "seed": job["seed"],
            "checkpoint": {"model": job["model"], "step": job["step"], "name": job["checkpoint"]},
            "metrics": {"accuracy": score, "f1": score, "spearman": score},
            "config": {"x": job["key"]},
        },
    }


def test_keys_order_and_no_repeats(sessions):
    specs = [spec("nsmc", 1000, cost=5), spec("qp", 1000, cost=1), spec("nsmc", 2000, cost=5), spec("qp", 2000, cost=1)]
    assert jobs.enqueue(sessions, specs) == 4
    assert jobs.enqueue(sessions, specs) == 0  # same keys: nothing new
    order = []
    while (job := jobs.claim(sessions, "w", 60)) is not None:
        order.append((job["step"], job["task"]))
        jobs.finish(sessions, job["id"], "w", result(job, 80.0))
    assert order == [(2000, "qp"), (2000, "nsmc"), (1000, "qp"), (1000, "nsmc")]  # newest first, cheap first
    with sessions() as s:
        assert all(j["state"] == "done" and j["attempts"] == 1 for j in jobs.list_jobs(s))
        text = status_text(jobs.list_jobs(s, "r"))
    assert (
        text.splitlines()[0].split() == ["checkpoint", "qp", "nsmc", "job", "seconds"]
        and "m-2k" in text.splitlines()[1]
    )
    assert text.splitlines()[1].split()[-1] == "2"  # the cost of a checkpoint: its two 1 s jobs


def test_unknown_task_is_refused_before_any_job_is_queued(sessions):
    from claf.results.store import NotFound

    with pytest.raises(NotFound, match="unknown task 'nsmc@1e-3' in benchmark 'klue'; known tasks: .*nsmc"):
        jobs.enqueue(sessions, [spec("nsmc", 1000), spec("nsmc@1e-3", 1000)])
    with sessions() as s:
        assert jobs.list_jobs(s) == []  # the good spec was not queued either
    assert jobs.enqueue(sessions, [spec("nsmc", 1000)]) == 1


def test_expired_lease_is_taken_again_and_attempts_end_in_failure(sessions):
    jobs.enqueue(sessions, [spec(attempts=2)])
    first = jobs.claim(sessions, "dead-worker", lease_s=0.2)
    assert jobs.claim(sessions, "w2", 60) is None  # leased
    time.sleep(0.3)
    second = jobs.claim(sessions, "w2", 60)
    assert second["id"] == first["id"] and second["attempts"] == 2
    assert not jobs.heartbeat(sessions, first["id"], "dead-worker", 60)  # the old worker lost it
    with pytest.raises(jobs.LeaseLost):
        jobs.finish(sessions, first["id"], "dead-worker", {"ok": False, "error": "x"})
    ended = jobs.finish(sessions, second["id"], "w2", {"ok": False, "error": "boom", "log_tail": "Traceback ... boom"})
    assert ended["state"] == "failed" and "boom" in ended["error"] and "Traceback" in ended["log_tail"]
    with sessions() as s:
        keys = [n["dedupe_key"] for n in slack.pending(s)]
    assert any(k.startswith("failed:") for k in keys) and any(k.startswith("suite:") for k in keys)


def test_failed_jobs_are_queued_again_with_fresh_attempts_on_request(sessions, tmp_path):
    jobs.enqueue(sessions, [spec(attempts=1), spec(step=2000, attempts=1), spec(seed=43, attempts=1)])
    for _ in range(3):
        job = jobs.claim(sessions, "w", 60)
        if job["seed"] == 43:
            jobs.finish(sessions, job["id"], "w", result(job, 80.0))
        else:
            assert jobs.finish(sessions, job["id"], "w", {"ok": False, "error": "IndexError"})["state"] == "failed"
    assert jobs.requeue_failed(sessions, "other-recipe") == 0
    assert jobs.requeue_failed(sessions, "r", checkpoint="m-2*") == 1  # a glob picks the checkpoints
    with sessions() as s:
        by_step = {(j["step"], j["seed"]): j for j in jobs.list_jobs(s, "r")}
    again = by_step[(2000, 42)]
    assert again["state"] == "queued" and again["attempts"] == 0 and "IndexError" in again["error"]
    assert by_step[(1000, 42)]["state"] == "failed" and by_step[(1000, 43)]["state"] == "done"
    taken = jobs.claim(sessions, "w", 60)
    assert taken["id"] == again["id"] and taken["attempts"] == 1
    # through the server (admin scope), what `claf factory run --retry_failed --server URL` calls
    from fastapi.testclient import TestClient

    from claf.server.app import create_app

    url = str(sessions.kw["bind"].url)
    with TestClient(create_app(url, token="secret")) as client:
        body = {"recipe": "r"}
        assert client.post("/api/v1/jobs/requeue", json=body).status_code == 401
        r = client.post("/api/v1/jobs/requeue", json=body, headers={"Authorization": "Bearer secret"})
        assert r.status_code == 200 and r.json() == {"requeued": 1}  # the 1k job; the 2k one is running


def test_release_requeues_at_once_without_counting_and_retried_calls_change_nothing(sessions):
    jobs.enqueue(sessions, [spec(attempts=1), spec(seed=7, attempts=1)])
    held = jobs.claim(sessions, "w1", 600, single=True)
    again = jobs.claim(sessions, "w1", 600, single=True)  # a claim retried after its answer was lost
    assert again["id"] == held["id"] and again["attempts"] == held["attempts"] == 1
    other = jobs.claim(sessions, "w2", 600)
    assert other["id"] != held["id"]
    released = jobs.release(sessions, held["id"], "w1")  # preempted: back in the queue, attempt not counted
    assert released["state"] == "queued" and released["attempts"] == 0 and released["lease_owner"] is None
    assert jobs.release(sessions, held["id"], "w1") == released  # a retried release changes nothing
    taken = jobs.claim(sessions, "w3", 600)  # at once, long before the 600 s lease would have expired
    assert taken["id"] == held["id"] and taken["attempts"] == 1
    assert jobs.release(sessions, held["id"], "w1")["lease_owner"] == "w3"  # not w1's to release any more
    done = jobs.finish(sessions, taken["id"], "w3", result(taken, 80.0))
    assert done["state"] == "done" and jobs.finish(sessions, taken["id"], "w3", result(taken, 80.0)) == done
    with pytest.raises(jobs.LeaseLost):  # a failure report for a job that is not held still fails
        jobs.finish(sessions, other["id"], "w1", {"ok": False, "error": "x"})


def test_oom_is_retried_once_beyond_attempts(sessions):
    jobs.enqueue(sessions, [spec(attempts=1)])
    job = jobs.claim(sessions, "w", 60)
    assert (
        jobs.finish(sessions, job["id"], "w", {"ok": False, "oom": True, "error": "MemoryError"})["state"] == "queued"
    )
    job = jobs.claim(sessions, "w", 60)
    assert job["oom_retries"] == 1
    assert jobs.finish(sessions, job["id"], "w", {"ok": False, "oom": True, "error": "again"})["state"] == "failed"


def test_suite_message_has_deltas_and_best_marks(sessions):
    jobs.enqueue(sessions, [spec("nsmc", 1000), spec("qp", 1000, cost=0.5)])
    for score in (70.0, 60.0):
        job = jobs.claim(sessions, "w", 60)
        jobs.finish(sessions, job["id"], "w", result(job, score))
    jobs.enqueue(sessions, [spec("nsmc", 2000), spec("qp", 2000, cost=0.5)])
    for score in (65.0, 62.5):  # qp first (cheap): 70 -> 65, nsmc 60 -> 62.5
        job = jobs.claim(sessions, "w", 60)
        jobs.finish(sessions, job["id"], "w", result(job, score))
    with sessions() as s:
        summary = suite_summary(s, "r", f"{2000:064d}")
    by_task = {t["task"]: t for t in summary["tasks"]}
    assert by_task["qp"]["delta"] == pytest.approx(-5.0) and not by_task["qp"]["highest_so_far"]
    assert by_task["nsmc"]["delta"] == pytest.approx(2.5) and by_task["nsmc"]["highest_so_far"]
    # one run a side: no interval can be given, so no checkpoint is called "best"
    assert by_task["nsmc"]["delta_verdict"] is None and not by_task["nsmc"]["best_so_far"]
    assert summary["average"] == pytest.approx(63.75) and summary["previous"] == "m-1k"
    line = slack.task_line(by_task["nsmc"])
    assert "one run: no interval" in line and "best so far" not in line


def _run_suite(sessions, step, scores_by_task):
    """Queue and finish one checkpoint's jobs: task -> [score per seed]."""
    specs = [spec(t, step, seed=42 + i) for t, scores in scores_by_task.items() for i in range(len(scores))]
    jobs.enqueue(sessions, specs)
    wanted = {(t, 42 + i): v for t, scores in scores_by_task.items() for i, v in enumerate(scores)}
    while (job := jobs.claim(sessions, "w", 60)) is not None:
        jobs.finish(sessions, job["id"], "w", result(job, wanted[(job["task"], job["seed"])]))


def test_suite_summary_says_best_only_when_the_interval_excludes_zero(sessions):
    """Three seeds a checkpoint: a clear gain is 'best so far' with an interval above 0; a gain inside the
    seeds' noise is 'tied for best', with the same wording as the dashboard's tied cells."""
    _run_suite(sessions, 1000, {"nsmc": [60.0, 60.5, 59.5], "qp": [70.0, 64.0, 76.0]})
    _run_suite(sessions, 2000, {"nsmc": [65.0, 65.4, 64.6], "qp": [71.0, 65.0, 77.0]})
    with sessions() as s:
        summary = suite_summary(s, "r", f"{2000:064d}")
    nsmc, qp = (next(t for t in summary["tasks"] if t["task"] == name) for name in ("nsmc", "qp"))
    assert nsmc["delta"] == pytest.approx(5.0) and nsmc["delta_low"] > 0 and nsmc["delta_verdict"] == "better"
    assert nsmc["best_so_far"] and nsmc["runner_up"] == "m-1k" and nsmc["n"] == [1, 3]
    assert nsmc["interval"][0] < 65.0 < nsmc["interval"][1]
    assert qp["delta"] == pytest.approx(1.0) and qp["delta_low"] < 0 < qp["delta_high"]
    assert qp["delta_verdict"] == "no detectable difference" and qp["tied_best"] and not qp["best_so_far"]
    message = slack.suite_message(summary)
    body = "\n".join(b["text"]["text"] for b in message["blocks"])
    assert "★ best so far (beats m-1k)" in body and "tied for best with m-1k (no detectable difference)" in body
    assert f"[{nsmc['delta_low']:.2f}, {nsmc['delta_high']:.2f}], better" in body


def test_recipe_expansion_from_the_index(tmp_path, monkeypatch):
    index = tmp_path / "index.json"
    models = {
        f"larva-kor-tiny-{k}k": {
            "url": f"file:///x/larva-kor-tiny-{k}k.tar.gz",
            "sha256": f"{k:064d}",
            "step": k * 1000,
            "bytes": 10,
        }
        for k in (1, 2, 3, 4)
    }
    models["larva-kor-tiny-4k"]["compute"] = {"pretrain_seconds": 40.5, "pretrain_cpu_seconds": 81.0}
    models["other-1k"] = {"url": "file:///x/other-1k.tar.gz", "sha256": "f" * 64, "step": 1000}
    index.write_text(json.dumps({"format": 1, "models": models}))
    monkeypatch.setenv("CLAF_MODEL_INDEX", str(index))
    monkeypatch.setenv("CLAF_HUB_DIR", str(tmp_path / "hub"))
    recipe = load_recipe("factory/larva_kor_tiny_klue")
    checkpoints = discover(recipe)
    assert [c.name for c in checkpoints] == [
        "larva-kor-tiny-4k",
        "larva-kor-tiny-3k",
        "larva-kor-tiny-2k",
        "larva-kor-tiny-1k",
        "larva-kor-tiny-random-init",
    ]
    assert checkpoints[-1].source == "random:larva-kor-tiny-4k" and checkpoints[-1].step == 0
    specs = expand(recipe, checkpoints)
    assert (
        len(specs) == 5 * 4 * 3
        and len({(s["checkpoint_sha256"], s["task"], s["seed"], s["config_hash"]) for s in specs}) == 60
    )
    nsmc = next(s for s in specs if s["task"] == "nsmc")
    assert nsmc["spec"]["pretrained_key"] == "model.bert_for_seq_cls.pretrained_model_name"
    # the index entry's pre-training compute travels with each job, to be filed with the checkpoint's results
    compute = {s["checkpoint"]: s["spec"]["checkpoint_metrics"] for s in specs}
    assert compute["larva-kor-tiny-4k"] == {"pretrain_seconds": 40.5, "pretrain_cpu_seconds": 81.0}
    assert compute["larva-kor-tiny-3k"] == {} and compute["larva-kor-tiny-random-init"] == {}
    korsts = next(s for s in specs if s["task"] == "korsts")
    assert korsts["spec"]["pretrained_key"] == "model.bert_for_reg.pretrained_model_name"
    # the config hash ignores where the checkpoint comes from; a changed override changes it
    again = expand(load_recipe("factory/larva_kor_tiny_klue"), [Checkpoint("a-1k", "1" * 64, 1000, "a", "a-1k")])
    assert {s["config_hash"] for s in again} == {s["config_hash"] for s in specs}
    seeds = expand(
        load_recipe(
            "factory/larva_kor_tiny_klue",
            {"suite.tasks": json.dumps([dict(recipe.to_dict()["suite"]["tasks"][0], seeds=[7, 8])])},
        ),
        [checkpoints[0]],
    )
    assert [s["seed"] for s in seeds] == [7, 8]
    assert sorted({s["seed"] for s in specs}) == [42, 43, 44]
    assert random_baseline(checkpoints[0]).sha256 != checkpoints[0].sha256
    assert random_baseline(checkpoints[0]).sha256 == random_baseline(checkpoints[1]).sha256  # one baseline row
    # random_init: 3 draws three inits, filed as the baseline and its replicas (claf compare resamples them)
    three = discover(load_recipe("factory/larva_kor_tiny_klue", {"checkpoints.random_init": "3"}))
    inits = [c for c in three if c.step == 0]
    assert [c.name for c in inits] == [
        "larva-kor-tiny-random-init",
        "larva-kor-tiny-random-init-s1",
        "larva-kor-tiny-random-init-s2",
    ]
    assert inits[0] == checkpoints[-1]  # the first init is the one a plain `true` gives: its results still count
    assert [random_source(c.source) for c in inits] == [("larva-kor-tiny-4k", k) for k in range(3)]
    assert len({c.sha256 for c in inits}) == 3 and all(replica_of(c.model, inits[0].model) for c in inits)
    assert [c.name for c in discover(load_recipe("factory/larva_kor_tiny_klue", {"checkpoints.random_init": 1}))][
        -1
    ] == "larva-kor-tiny-random-init"
    # random_init: [3, 4, 5] draws fresh inits with those weight seeds, filed as replicas of the same baseline
    fresh = [c for c in discover(load_recipe("factory/larva_kor_tiny_klue", {"checkpoints.random_init": "[3,4,5]"}))]
    fresh = [c for c in fresh if c.step == 0]
    assert [c.name for c in fresh] == [f"larva-kor-tiny-random-init-s{k}" for k in (3, 4, 5)]
    assert [random_source(c.source)[1] for c in fresh] == [3, 4, 5]
    assert not {c.sha256 for c in fresh} & {c.sha256 for c in inits}  # none of them is an old init's row
    assert all(replica_of(c.model, inits[0].model) for c in fresh)
    # the same from a recipe whose random_init is a count (the wide suite draws 3): a list, a switch, a count
    wide = {
        v: load_recipe("factory/larva_kor_tiny_wide", {"checkpoints.random_init": v}) for v in ("[3,4,5]", "0", "2")
    }
    assert [wide[v].checkpoints.random_init for v in ("[3,4,5]", "0", "2")] == [[3, 4, 5], False, 2]
    with pytest.raises(ConfigError, match=r"checkpoints\.random_init.*seeds repeat.*\[3, 4, 5\]"):
        load_recipe("factory/larva_kor_tiny_klue", {"checkpoints.random_init": "[3,3]"})
    with pytest.raises(ConfigError, match=r"checkpoints\.random_init"):
        load_recipe("factory/larva_kor_tiny_klue", {"checkpoints.random_init": "[-1]"})


def test_status_cell_is_the_median_over_seeds_with_its_range():
    from claf.factory.factory import seed_cell

    assert seed_cell([80.0]) == "80.00"
    assert seed_cell([78.6, 77.5, 90.0]) == "78.60 [77.5-90.0] n=3"  # the median, not the mean (82.03)
    assert seed_cell([1.0, 2.0, 4.0, 10.0]) == "3.00 [1.0-10.0] n=4"
