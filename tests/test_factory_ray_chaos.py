"""The factory's Ray executor on a real multi-node cluster (a head and two worker nodes, separate processes on
127.0.0.1) while a chaos loop kills worker nodes: every job ends done with one result, no attempt is repeated
more than once per kill, and a job killed past its first checkpoint resumes from it."""

import json
import os
import re
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from tests.factory_support import publish_tiny, tiny_recipe
from tests.ray_chaos_support import LOCAL, Chaos, start_cluster

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[1]
# Ray rewrites a bootstrap address of 127.0.0.1 to the host's outward address, where these nodes do not
# listen; this setting keeps the driver on the loopback address (ray._private.services.get_node_ip_address)
LOOPBACK_DRIVER = {"RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0"}
RESUMED = re.compile(r"resumed from \S+ at epoch \d+, batch \d+, step (\d+)")
LONGER = {  # 20 steps with a checkpoint every 2: a kill can land between the first checkpoint and the end
    "data_reader.train_limit": 160,
    "data_reader.valid_limit": 8,
    "iterator.eval_batch_size": 8,
    "seq_cls.max_seq_length": 24,
    "trainer.eval_and_save_step_count": 2,
}


def attempt_text(job_dir, attempt: int) -> str:
    text = (job_dir / "factory.log").read_text(encoding="utf-8", errors="replace")
    parts = re.split(r"=== attempt (\d+) on ", text)
    return "".join(parts[i + 1] for i in range(1, len(parts) - 1, 2) if int(parts[i]) == attempt)


def test_ray_cluster_survives_killed_nodes(factory_env):
    from claf.factory.factory import status_text
    from tests.test_factory_e2e import database, results

    for step, seed in ((1000, 1), (2000, 2)):
        publish_tiny(factory_env, f"tiny-{step // 1000}k", step, seed=seed)
    db = f"sqlite:///{factory_env / 'chaos.sqlite'}"
    work = factory_env / "shared-work"  # one folder every node sees, as a cluster's shared file system
    cluster = start_cluster(workers=2)
    chaos = Chaos(cluster, work, kills=3, seed=7, claimed=lambda: running_keys(db))
    try:
        path = tiny_recipe(
            factory_env / "chaos.json",
            tasks=("nsmc", "qp"),
            seeds=10,  # 2 checkpoints x 2 tasks x 10 seeds = 40 jobs
            executor={
                "name": "ray",
                "work_dir": str(work),
                "lease_seconds": 60,
                "heartbeat_seconds": 1,
                "ray": {"address": cluster.address, "num_cpus": 1, "node_ip": LOCAL},
            },
        )
        recipe_json = json.loads(path.read_text(encoding="utf-8"))
        for task in recipe_json["suite"]["tasks"]:
            task["overrides"].update(LONGER)
        path.write_text(json.dumps(recipe_json), encoding="utf-8")
        began = time.monotonic()
        with open(factory_env / "driver.log", "w", encoding="utf-8") as log:
            driver = subprocess.Popen(
                [sys.executable, "-m", "claf", "factory", "run", "--base_config", str(path), "--db", db],
                cwd=REPO,
                env=dict(os.environ, **LOOPBACK_DRIVER),
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            try:
                chaos.run(busy=lambda: driver.poll() is None)
                driver.wait(timeout=1500)
            finally:
                if driver.poll() is None:
                    driver.kill()
        wall = time.monotonic() - began
        out = (factory_env / "driver.log").read_text(encoding="utf-8")
    finally:
        cluster.shutdown()
    assert driver.returncode == 0, out[-3000:]
    counts = next(json.loads(line) for line in reversed(out.splitlines()) if line.startswith('{"done"'))
    store = database(db)
    jobs = store.jobs("chaos")
    assert len(chaos.log) >= 3, f"only {len(chaos.log)} node(s) killed: {chaos.log}"
    assert len(jobs) == 40 and all(j["state"] == "done" for j in jobs), status_text(jobs)
    assert counts == {"done": 40, "failed": 0, "queued": 40}, out[-3000:]
    stored = results(store)
    assert len(stored) == 40, f"{len(stored)} result rows for 40 jobs"
    assert all(j["result_id"] for j in jobs) and len({j["result_id"] for j in jobs}) == 40
    assert Counter(j["key"] for j in jobs).most_common(1)[0][1] == 1
    repeats = sum(j["attempts"] - 1 for j in jobs)
    assert repeats <= len(chaos.log), f"{repeats} repeated attempts for {len(chaos.log)} kills"
    assert all(j["attempts"] <= 2 for j in jobs), [(j["key"], j["attempts"]) for j in jobs if j["attempts"] > 2]
    hit = [k for k in chaos.log if k["checkpointed"]]
    assert hit, f"no kill landed on a job past its first checkpoint: {chaos.log}"
    steps, waits = [], []
    for kill in hit:  # the next attempt of the killed job starts from its checkpoint, not from step 0
        text = attempt_text(kill["job_dir"], kill["attempt"] + 1)
        resumed = RESUMED.findall(text)
        assert resumed and int(resumed[0]) >= 2, text[-3000:]
        steps.append(int(resumed[0]))
        waits.append(seconds_after(kill["at"], text))
    print(
        f"ray chaos: {len(chaos.log)} worker nodes killed ({len(hit)} running a job past its first checkpoint), "
        f"{repeats} repeated attempts, 40/40 jobs done, 0 lost, 0 duplicate results; each fresh node up in "
        f"{max(k['replaced_s'] for k in chaos.log):.1f} s at most; killed jobs resumed at steps {steps}, their "
        f"next attempt started {', '.join(f'{w:.0f}' for w in waits)} s after the kill; driver wall {wall:.0f} s"
    )


def running_keys(db: str) -> list[str]:
    """The keys of the jobs the factory's store lists as running (claimed, maybe not started on a node yet)."""
    from tests.test_factory_e2e import database

    try:
        return [j["key"] for j in database(db).jobs("chaos") if j["state"] == "running"]
    except Exception:  # the driver has not created the tables yet: nothing is claimed
        return []


def seconds_after(at: float, text: str) -> float:
    """Seconds from ``at`` (a kill's epoch time) to the first HH:MM:SS log time of an attempt's text."""
    stamp = re.search(r"^(\d\d):(\d\d):(\d\d) ", text, re.MULTILINE)
    if stamp is None:
        return float("nan")
    day = time.localtime(at)
    then = time.mktime(day[:3] + tuple(int(x) for x in stamp.groups()) + day[6:])
    return then - at
