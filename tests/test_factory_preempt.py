"""Preempted pull workers: SIGTERM saves a checkpoint, releases the lease at once, and another worker
resumes the job from that checkpoint to the metrics of an uninterrupted run."""

import json
import re
import signal
import time
from pathlib import Path

import pytest

from tests.bench_support import TOKEN, ServerProcess
from tests.factory_support import factory_cli as factory
from tests.factory_support import publish_tiny, tiny_recipe

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[1]
TIMING = ("time", "per_second")
LONG_LEASE = "600"  # far beyond the test: the second worker can only get the job by its release


def longer_recipe(path: Path, work_dir: Path) -> Path:
    """One nsmc job of 200 steps with a checkpoint every 20: long enough to be stopped mid-way."""
    recipe = tiny_recipe(path, executor={"work_dir": str(work_dir), "lease_seconds": 30, "heartbeat_seconds": 1})
    data = json.loads(recipe.read_text())
    data["suite"]["tasks"][0]["overrides"].update(
        {"data_reader.train_limit": 1600, "trainer.eval_and_save_step_count": 20}
    )
    recipe.write_text(json.dumps(data))
    return recipe


def wait_for(what, timeout: float, *procs):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = what()
        if value:
            return value
        for proc in procs:
            assert proc.poll() is None, proc.communicate()[0][-3000:]
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def stored_metrics(db_url: str) -> list[dict]:
    from sqlalchemy import create_engine, select

    from claf.db.tables import Result

    engine = create_engine(db_url)
    with engine.connect() as conn:
        rows = [dict(r.metrics) for r in conn.execute(select(Result.metrics))]
    engine.dispose()
    return [{k: v for k, v in m.items() if not any(t in k for t in TIMING)} for m in rows]


def test_sigterm_checkpoints_releases_and_another_worker_resumes(factory_env):
    from claf.factory.factory import queue
    from claf.factory.job_store import RestStore
    from claf.factory.recipe import load_recipe

    publish_tiny(factory_env, "tiny-1k", 1000, seed=1)
    work = factory_env / "shared-work"  # a shared folder (NFS, a volume): the checkpoint travels
    db_url = f"sqlite:///{factory_env / 'server.sqlite'}"
    server = ServerProcess(db_url, factory_env).start()
    first = second = None
    try:
        recipe = load_recipe(str(longer_recipe(factory_env / "preempt.json", work)))
        store = RestStore(server.url, TOKEN)
        assert queue(recipe, store) == {"tiny-1k": 1}

        def job():
            [one] = store.jobs("preempt")
            return one

        def worker(name):
            env = dict(server.env(), CLAF_HOME=str(factory_env / f"{name}-home"))
            flags = ["--lease", LONG_LEASE, "--heartbeat", "1", "--poll", "1", "--grace", "60"]
            return factory("worker", "--server", server.url, "--work_dir", str(work), *flags, env=env)

        first = worker("first")
        owner = wait_for(lambda: job()["lease_owner"], 120, first)
        second = worker("second")  # polls an empty queue while the first holds the job
        last = wait_for(lambda: next(iter(work.glob("preempt/tiny-1k/*/checkpoints/last")), None), 240, first)
        first.send_signal(signal.SIGTERM)
        out, _ = first.communicate(timeout=120)
        assert first.returncode == 0, out[-3000:]
        assert json.loads(out.strip().splitlines()[-1]) == {"done": 0, "failed": 0, "preempted": 1}, out[-3000:]

        ended = wait_for(lambda: job()["state"] == "done" and job(), 300, second)
        second.send_signal(signal.SIGTERM)  # idle: it stops at once
        out2, _ = second.communicate(timeout=60)
        assert second.returncode == 0 and json.loads(out2.strip().splitlines()[-1]) == {"done": 1, "failed": 0}
    finally:
        for proc in (first, second):
            if proc is not None and proc.poll() is None:
                proc.kill()
                proc.wait()
        server.stop()

    assert ended["lease_owner"] is None and ended["result_id"] and ended["lease_expires"] is None
    assert ended["attempts"] == 1  # the preempted attempt is not counted
    log = (last.parent.parent / "factory.log").read_text()
    saved = re.findall(r"preempted at step (\d+); checkpoint saved", log)
    resumed = re.findall(r"resumed from \S+ at epoch \d+, batch \d+, step (\d+)", log)
    assert len(saved) == 1 and len(resumed) == 1, log[-3000:]
    assert int(resumed[0]) == int(saved[0]) >= 20  # past the first checkpoint, and not restarted at step 0
    # one attempt by each worker, both numbered 1: the preempted one was not counted
    assert re.findall(r"=== attempt (\d+) on \S+ pid (\d+) ===", log) == [("1", str(first.pid)), ("1", str(second.pid))]
    assert owner.endswith(f"-{first.pid}")
    [metrics] = stored_metrics(db_url)

    # the same job uninterrupted, in another database and folder
    clean = longer_recipe(factory_env / "preempt-clean.json", factory_env / "clean-work")
    data = json.loads(clean.read_text())
    clean.write_text(json.dumps(dict(data, name="preempt")))
    other = f"sqlite:///{factory_env / 'clean.sqlite'}"
    out, _ = factory("run", "--base_config", str(clean), "--db", other).communicate(timeout=600)
    [reference] = stored_metrics(other)
    assert metrics == pytest.approx(reference, rel=1e-6, abs=1e-9), out[-2000:]
    assert metrics["accuracy"] == reference["accuracy"]
    print(f"preempted at step {saved[0]}, resumed at step {resumed[0]} by another worker; metrics {metrics}")
