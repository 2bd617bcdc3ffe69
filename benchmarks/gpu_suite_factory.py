"""Factory section of benchmarks/gpu_suite.py: the tiny suite (base_config/factory/larva_kor_tiny_klue, one
seed) on a tiny checkpoint and its random-init baseline, one local worker holding the machine's first GPU
(``worker_env``, as ``run_local`` gives it), jobs per minute against the 2-core CPU run of
benchmarks/factory_overhead_results.json."""

import json
import statistics
import threading
import time
from pathlib import Path

from gpu_suite_common import LARVA_TINY, ROOT, TINY, mirror, random_bert, slice_or_mirror

SUITE = ROOT / "base_config" / "factory" / "larva_kor_tiny_klue.json"
CPU_RUN = ROOT / "benchmarks" / "factory_overhead_results.json"
NSMC_FILES = {
    "data_reader.train_file_path": "nsmc/ratings_train.txt",
    "data_reader.valid_file_path": "nsmc/ratings_test.txt",
}


def recipe_file(settings, checkpoint, slices):
    suite = json.loads(SUITE.read_text(encoding="utf-8"))
    tasks = []
    for entry in suite["suite"]["tasks"]:
        if entry["task"] not in settings.fa_tasks:
            continue
        overrides = dict(entry.get("overrides") or {}, **settings.fa_overrides)
        if entry["task"] == "nsmc":  # the carried slices hold the rows the limits read (10,000 and 5,000)
            overrides.update({k: slice_or_mirror(slices, v) for k, v in NSMC_FILES.items()})
        tasks.append(dict(entry, seeds=1, overrides=overrides))
    recipe = {
        "name": "gpu_suite_tiny",
        "checkpoints": {"names": [str(checkpoint)], "random_init": not settings.dry_run},
        "suite": {"tasks": tasks},
        "benchmark": {"name": "klue"},
        "executor": {"name": "local", "workers": 1, "lease_seconds": 120, "heartbeat_seconds": 5},
        "notify": {"enabled": False},
    }
    path = Path(settings.work) / "factory" / "gpu_suite_tiny.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(recipe, indent=1), encoding="utf-8")
    return path


def cpu_baseline():
    """Jobs per minute and mean job seconds per task of the recorded 2-core CPU run of the tiny suite."""
    if not CPU_RUN.is_file():
        return None
    data = json.loads(CPU_RUN.read_text(encoding="utf-8"))
    summary, jobs = data["summary"], data["jobs"]
    per_task = {}
    for job in jobs:
        per_task.setdefault(job["task"], []).append(job["job_wall_s"])
    return {
        "source": CPU_RUN.name,
        "machine": data.get("machine", "2 CPU cores"),
        "jobs_per_minute": round(summary["jobs"] / summary["run_wall_s"] * 60, 3),
        "mean_job_s": {t: round(statistics.fmean(v), 1) for t, v in per_task.items()},
    }


def factory(settings, deadline, slices=None):
    from claf.factory.executors import visible_devices, worker_env
    from claf.factory.factory import queue
    from claf.factory.job_store import DbStore
    from claf.factory.recipe import load_recipe
    from claf.factory.worker import Worker

    shape = TINY if settings.dry_run else LARVA_TINY
    checkpoint = random_bert(
        Path(settings.work) / "factory" / "larva-kor-tiny-gpucheck-1k", shape, mirror() / "vocab" / "koelectra"
    )
    recipe = load_recipe(str(recipe_file(settings, checkpoint, slices)))
    store = DbStore(f"sqlite:///{Path(settings.work) / 'factory' / 'jobs.sqlite'}")
    queued = sum(queue(recipe, store, "gpu_suite_tiny").values())
    env = worker_env(0, visible_devices())  # what run_local gives its first worker
    worker = Worker(
        store, "gpu-suite-w0", Path(settings.work) / "factory" / "work", 120, 5, None, "gpu_suite_tiny", env=env
    )
    timer = threading.Timer(max(deadline.left(), 1.0), worker.stop.set)  # the cap: a running job is stopped
    timer.start()
    start = time.monotonic()
    try:
        while not worker.stop.is_set() and not deadline.over() and worker.run_one():
            pass
    finally:
        timer.cancel()
    elapsed = time.monotonic() - start
    jobs = store.jobs("gpu_suite_tiny")
    done = [j for j in jobs if j["state"] == "done"]
    per_task = {}
    for j in done:
        per_task.setdefault(j["task"], []).append(float(j["wall_time"]))
    baseline = cpu_baseline()
    mean_job = {t: round(statistics.fmean(v), 1) for t, v in per_task.items()}
    out = {
        "worker_env": env,
        "jobs_queued": queued,
        "jobs_done": len(done),
        "jobs_failed": sum(j["state"] == "failed" for j in jobs),
        "jobs_left": sum(j["state"] in ("queued", "running") for j in jobs),
        "seconds": round(elapsed, 1),
        "jobs_per_minute": round(len(done) / elapsed * 60, 3) if elapsed > 0 else None,
        "mean_job_s": mean_job,
        "scores": {f"{j['task']}@{j['checkpoint']}": j["score"] for j in done},
        "errors": [f"{j['task']}: {j['error'][:300]}" for j in jobs if j["state"] == "failed"],
        "cpu_baseline": baseline,
    }
    if baseline and out["jobs_per_minute"]:
        out["jobs_per_minute_vs_cpu"] = round(out["jobs_per_minute"] / baseline["jobs_per_minute"], 2)
        out["job_speedup_vs_cpu"] = {
            t: round(baseline["mean_job_s"][t] / s, 2) for t, s in mean_job.items() if t in baseline["mean_job_s"]
        }
    return out
