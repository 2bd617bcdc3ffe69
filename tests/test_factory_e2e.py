"""The evaluation factory end to end with real components: tiny checkpoints published to a local store,
job subprocesses that fine-tune them, the benchmark database, a real server, a local Ray."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from tests.bench_support import TOKEN, ServerProcess, auth
from tests.factory_support import factory_cli as cli
from tests.factory_support import publish_tiny, tiny_recipe

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[1]
TIMING = ("time", "per_second")


def database(url):
    from claf.factory.job_store import DbStore

    return DbStore(url)


def results(store):
    from sqlalchemy import select

    from claf.db.tables import Result

    with store.sessions() as s:
        return [(r.seed, r.config_hash, r.metrics, r.config) for r in s.scalars(select(Result))]


def task_metrics(metrics):
    return {k: v for k, v in metrics.items() if not any(t in k for t in TIMING)}


def test_kill_resume_no_repeats(factory_env):
    publish_tiny(factory_env, "tiny-1k", 1000, seed=1)
    longer = {"executor": {"lease_seconds": 3, "heartbeat_seconds": 1, "work_dir": str(factory_env / "work")}}
    recipe = tiny_recipe(factory_env / "kill.json", **longer)
    data = json.loads(recipe.read_text())
    data["suite"]["tasks"][0]["overrides"].update(
        {"data_reader.train_limit": 1600, "trainer.eval_and_save_step_count": 20}
    )
    recipe.write_text(json.dumps(data))
    db = f"sqlite:///{factory_env / 'factory.sqlite'}"
    run = cli("run", "--base_config", str(recipe), "--db", db)
    last = None
    deadline = time.time() + 240
    while last is None and time.time() < deadline and run.poll() is None:
        last = next(iter((factory_env / "work").glob("kill/tiny-1k/*/checkpoints/last")), None)
        time.sleep(0.05)
    assert last is not None, run.communicate()[0][-3000:]
    run.send_signal(signal.SIGKILL)  # the worker dies mid-job; its job process dies with it
    run.wait()
    job_dir = last.parent.parent
    assert not (job_dir / "factory_result.json").exists()
    store = database(db)
    [job] = store.jobs("kill")
    assert job["state"] == "running" and job["attempts"] == 1

    out, _ = cli("run", "--base_config", str(recipe), "--db", db).communicate(timeout=300)
    [job] = store.jobs("kill")
    assert job["state"] == "done" and job["attempts"] == 2, out[-3000:]
    assert "resumed from" in (job_dir / "factory.log").read_text()
    [(seed, _h, metrics, config)] = results(store)  # exactly one result for the key

    # the same job uninterrupted, in another database and folder
    clean = dict(longer["executor"], work_dir=str(factory_env / "clean"))
    data["executor"].update(clean)
    (factory_env / "clean.json").write_text(json.dumps(dict(data, name="kill")))
    other = f"sqlite:///{factory_env / 'clean.sqlite'}"
    out, _ = cli("run", "--base_config", str(factory_env / "clean.json"), "--db", other).communicate(timeout=300)
    [(_s, _h2, reference, _c)] = results(database(other))
    assert task_metrics(metrics) == pytest.approx(task_metrics(reference), rel=1e-6, abs=1e-9)
    assert task_metrics(metrics)["accuracy"] == task_metrics(reference)["accuracy"]

    # no repeats: a second run starts no job; re-publishing the checkpoint queues nothing
    out, _ = cli("run", "--base_config", str(recipe), "--db", db).communicate(timeout=120)
    assert json.loads(out.strip().splitlines()[-1]) == {"done": 0, "failed": 0, "queued": 0}
    from claf.factory.factory import publish_hook
    from claf.hub.index import lookup

    entry = dict(lookup("tiny-1k"), name="tiny-1k")
    publish_hook(str(recipe), db=db)(entry)
    [job] = store.jobs("kill")
    assert job["attempts"] == 2 and len(results(store)) == 1
    status = cli("status", "--base_config", str(recipe), "--db", db).communicate(timeout=60)[0]
    assert "tiny-1k" in status and "1 done" in status


def test_oom_retry_halves_the_batch_and_notifies(factory_env, monkeypatch):
    from claf.factory.factory import open_store_for, run
    from claf.factory.recipe import load_recipe
    from tests.test_factory_notify import Receiver

    publish_tiny(factory_env, "tiny-1k", 1000, seed=1)
    slack = Receiver()
    monkeypatch.setenv("CLAF_SLACK_WEBHOOK_URL", slack.url)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    # first attempt: batch 8 x 40 MB > 200 MB of address space left -> MemoryError; the retry: 4 x 40 MB fits
    monkeypatch.setenv("CLAF_FACTORY_MEMORY_PROBE", "200:40")
    recipe = load_recipe(
        str(tiny_recipe(factory_env / "oom.json", executor={"max_attempts": 1, "work_dir": str(factory_env / "w")}))
    )
    store = open_store_for(recipe, db=f"sqlite:///{factory_env / 'oom.sqlite'}")
    counts = run(recipe, store)
    [job] = store.jobs("oom")
    assert counts["done"] == 1 and job["state"] == "done" and job["oom_retries"] == 1 and job["attempts"] == 2
    [(_s, _h, _m, config)] = results(store)
    assert config["iterator"]["batch_size"] == 4 and config["trainer"]["gradient_accumulation_steps"] == 2
    folders = list((factory_env / "w" / "oom" / "tiny-1k").glob("nsmc-seed42-*"))
    first_log = next(p for p in folders if not p.name.endswith("-oom1")) / "factory.log"
    assert "out of memory" in first_log.read_text()
    texts = [body["text"] for _t, body in slack.requests]
    slack.close()
    assert len(texts) == 2 and texts[0].startswith("Checkpoint tiny-1k published (step 1,000")
    assert texts[1].startswith("tiny-1k finished the oom suite") and f"nsmc {job['score']:.2f}" in texts[1]


def test_ray_executor_runs_the_suite(factory_env):
    from claf.factory.factory import open_store_for, run, status_text
    from claf.factory.recipe import load_recipe

    publish_tiny(factory_env, "tiny-1k", 1000, seed=1)
    path = tiny_recipe(
        factory_env / "rayed.json",
        tasks=("nsmc", "qp"),
        executor={"name": "ray", "work_dir": str(factory_env / "w"), "ray": {"num_cpus": 1}},
    )
    recipe = load_recipe(str(path))
    store = open_store_for(recipe, db=f"sqlite:///{factory_env / 'ray.sqlite'}")
    counts = run(recipe, store)
    jobs = store.jobs("rayed")
    assert counts == {"done": 2, "failed": 0, "queued": 2}, status_text(jobs)
    assert {j["task"] for j in jobs if j["state"] == "done"} == {"nsmc", "qp"}
    assert all(j["lease_owner"] is None and j["result_id"] for j in jobs) and len(results(store)) == 2


def test_pull_worker_through_the_server(factory_env):
    from claf.factory.factory import queue
    from claf.factory.job_store import RestStore
    from claf.factory.recipe import load_recipe

    publish_tiny(factory_env, "tiny-1k", 1000, seed=1)
    server = ServerProcess(f"sqlite:///{factory_env / 'server.sqlite'}", factory_env).start()
    try:
        recipe = load_recipe(str(tiny_recipe(factory_env / "pulled.json")))
        os.environ["CLAF_SERVER_TOKEN"] = TOKEN
        assert queue(recipe, RestStore(server.url, TOKEN)) == {"tiny-1k": 1}
        made = subprocess.run(  # the worker runs with a token of scope 'worker' only, not the shared one
            [sys.executable, "-m", "claf", "server", "token", "create", "--scope", "worker", "--name", "node-1"]
            + ["--db", server.db_url],
            env=server.env(),
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert made.returncode == 0, made.stderr
        worker_token = made.stdout.strip()
        env = dict(server.env(), CLAF_HOME=str(factory_env / "worker-home"), CLAF_SERVER_TOKEN=worker_token)
        out, _ = cli(
            "worker", "--server", server.url, "--once", "--lease", "30", "--heartbeat", "1", env=env
        ).communicate(timeout=300)
        assert json.loads(out.strip().splitlines()[-1]) == {"done": 1, "failed": 0}, out[-3000:]
        [job] = requests.get(f"{server.url}/api/v1/jobs", params={"recipe": "pulled"}, timeout=10).json()
        assert job["state"] == "done" and job["result_id"] and job["lease_token"] is None
        assert job["attempts"] == 1  # claimed, heartbeaten and finished under the worker token
        claim = requests.post(f"{server.url}/api/v1/jobs", json={"jobs": []}, headers=auth(worker_token), timeout=10)
        assert claim.status_code == 403 and claim.json()["scope"] == "admin"
        table = requests.get(f"{server.url}/api/v1/benchmarks/klue/table", timeout=10).json()
        row = next(r for r in table["rows"] if r["model"] == "tiny")
        assert row["cells"]["nsmc"]["value"] == pytest.approx(job["score"])
        assert requests.post(f"{server.url}/api/v1/jobs/claim", json={"worker": "x"}, timeout=10).status_code == 401
    finally:
        os.environ.pop("CLAF_SERVER_TOKEN", None)
        server.kill9()


def test_replicas_run_through_the_factory_and_compare_with_intervals(factory_env):
    # two pre-training replicas of model "tiny", with what their pre-training cost
    publish_tiny(factory_env, "tiny-s1-1k", 1000, seed=1, compute={"pretrain_seconds": 50, "pretrain_cpu_seconds": 100})
    publish_tiny(factory_env, "tiny-s2-1k", 1000, seed=2, compute={"pretrain_seconds": 70, "pretrain_cpu_seconds": 140})
    recipe = tiny_recipe(factory_env / "replicas.json", seeds=2, random_init=True)
    db = f"sqlite:///{factory_env / 'replicas.sqlite'}"
    out, _ = cli("run", "--base_config", str(recipe), "--db", db).communicate(timeout=600)
    assert json.loads(out.strip().splitlines()[-1])["done"] == 6, out[-3000:]  # (2 replicas + 1 baseline) x 2
    models = {job["model"] for job in database(db).jobs("replicas")}
    assert models == {"tiny-s1", "tiny-s2", "tiny-random-init"}  # one random-init baseline for both replicas
    compared = subprocess.run(
        [sys.executable, "-m", "claf", "compare", "tiny@1k", "random-init", "--db", db, "--json", "--draws", "300"],
        capture_output=True,
        text=True,
        cwd=factory_env,
        env=dict(os.environ),
    )
    assert compared.returncode == 0, compared.stderr
    [row] = json.loads(compared.stdout)["tasks"]
    assert row["task"] == "nsmc" and row["examples_resampled"] and row["paired_examples"]
    assert row["a"]["n"] == [2, 2, 24] and row["b"]["n"] == [1, 2, 24]
    assert row["low"] <= row["delta"] <= row["high"]
    assert row["verdict"] in ("better", "worse", "no detectable difference")
    # the factory filed each replica's compute with its checkpoint: the budget chart's point is their mean
    from claf.db.engine import open_engine, session_factory
    from claf.results.budget import budget_points

    with session_factory(open_engine(db))() as session:
        budget = budget_points(session, "klue", draws=300)
    assert budget["points"] == [] and budget["skipped"][0]["target"] == "tiny@1000"  # one task: no average
    with session_factory(open_engine(db))() as session:
        from claf.results.budget import compute_groups

        figures = compute_groups(session)[("tiny", 1000)]
    assert sorted(figures["pretrain_cpu_seconds"]) == [100.0, 140.0] and set(figures) == {"pretrain_cpu_seconds"}
