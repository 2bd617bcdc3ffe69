"""Benchmark server figures: write throughput, and table/series read latency with 30,000 results.

    flock /tmp/claf-timing.lock python benchmarks/bench_server.py [--db URL] [--out benchmarks/bench_server.json]

1. Writes: a real server process (uvicorn, one worker) on a fresh database; C client processes post
   N results each over HTTP (token, JSON bodies of a real config's size). Reported: writes/s.
2. Fill: results are added through the data layer until 30,000 are stored (100 models x 10 steps
   x 9 KLUE tasks x 3 seeds, plus the written ones).
3. Reads: GET the KLUE table (best step / median, last step / mean) and a task series R times;
   reported: p50/p95 in ms. Targets (SQLite): >= 200 writes/s, table p95 <= 150 ms.
"""

import argparse
import json
import multiprocessing
import os
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import requests
from provenance import stamp

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
TOKEN = "bench-token"
CONFIG = json.loads((REPO / "base_config" / "klue" / "nsmc_bert.json").read_text())
TASKS = ["korquad", "nsmc", "paws", "qp", "kornli", "korsts", "klue_nli", "klue_sts", "klue_ner"]
METRICS = {"korquad": "f1", "korsts": "spearman", "klue_sts": "pearson", "klue_ner": "entity_f1"}


def body(model, step, task, seed, score):
    config = dict(CONFIG, seed_num=seed, trainer=dict(CONFIG["trainer"], log_dir=f"logs/{model}/{task}/{seed}"))
    config["model"] = {"name": "bert_for_seq_cls", "bert_for_seq_cls": {"pretrained_model_name": f"{model}-{step}"}}
    metric = METRICS.get(task, "accuracy")
    return {
        "benchmark": "klue",
        "task": task,
        "checkpoint": {"model": model, "step": step},
        "seed": seed,
        "metrics": {metric: score, "em": score - 8, "pearson": score, "f1": score, "loss": 0.3},
        "history": [{"epoch": e, "global_step": 100 * e, f"valid/{metric}": score - 3 + e} for e in (1, 2, 3)],
        "config": config,
        "provenance": {"claf_revision": "bench", "device": "cpu", "threads": 2},
    }


def writer(url, worker, count):
    session = requests.Session()
    codes = []
    for i in range(count):
        r = session.post(
            f"{url}/api/v1/results",
            json=body(f"writer-{worker}", 1000 * (1 + i % 10), "nsmc", i, 80 + (i % 7)),
            headers={"Authorization": f"Bearer {TOKEN}"},
        )
        codes.append(r.status_code)
    return codes


def fill(db_url, models=100, steps=10, seeds=3):
    from sqlalchemy import select

    from claf.db.engine import open_engine, session_factory, write_session
    from claf.db.tables import Benchmark, Checkpoint, Model, Result, Task
    from claf.results.payloads import config_hash, sha256_of

    engine = open_engine(db_url)
    factory = session_factory(engine)
    with write_session(factory) as s:
        bench = s.scalar(select(Benchmark).where(Benchmark.name == "klue"))
        tasks = {t.name: t for t in s.scalars(select(Task).where(Task.benchmark_id == bench.id))}
        n = 0
        for m in range(models):
            model = Model(
                name=f"model-{m:03d}",
                options={"masking": ["subword", "space", "ngram"][m % 3], "vocab_size": [32000, 64000][m % 2]},
            )
            s.add(model)
            s.flush()
            for k in range(steps):
                step = 100_000 * (k + 1)
                ck = Checkpoint(
                    model_id=model.id,
                    step=step,
                    name=f"model-{m:03d}-{step // 1000}k",
                    metrics={"mlm_loss": 5.0 - 0.2 * k},
                    body_sha256="x",
                )
                s.add(ck)
                s.flush()
                rows = []
                for task in TASKS:
                    for seed in range(seeds):
                        b = body(model.name, step, task, seed, 70 + (m * 7 + k * 3 + seed) % 25)
                        rows.append(
                            Result(
                                checkpoint_id=ck.id,
                                task_id=tasks[task].id,
                                seed=seed,
                                config_hash=config_hash(b["config"]),
                                score=b["metrics"][METRICS.get(task, "accuracy")],
                                metrics=b["metrics"],
                                history=b["history"],
                                config=b["config"],
                                provenance=b["provenance"],
                                body_sha256=sha256_of(b),
                            )
                        )
                s.add_all(rows)
                n += len(rows)
    engine.dispose()
    return n


def cpu_seconds(pid):
    """User + system CPU time of a process so far (Linux /proc): the server's own cost, whatever the load."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def latency(url, path, params, repeats, pid=None):
    session = requests.Session()
    times = []
    cpu0 = cpu_seconds(pid) if pid else None
    for _ in range(repeats):
        t0 = time.perf_counter()
        r = session.get(f"{url}{path}", params=params)
        times.append((time.perf_counter() - t0) * 1000)
        assert r.status_code == 200, r.text
    times.sort()
    out = {"p50_ms": round(statistics.median(times), 1), "p95_ms": round(times[int(0.95 * (len(times) - 1))], 1)}
    if pid:
        out["server_cpu_ms"] = round((cpu_seconds(pid) - cpu0) * 1000 / repeats, 1)
    return out


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", default=None, help="database URL (default: a fresh SQLite file)")
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--posts", type=int, default=750)
    parser.add_argument("--repeats", type=int, default=60)
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench_server_"))
    db_url = args.db or f"sqlite:///{tmp / 'bench.sqlite'}"
    port = 18765
    env = dict(os.environ, CLAF_HOME=str(tmp), CLAF_SERVER_TOKEN=TOKEN, PYTHONPATH=str(REPO))
    server = subprocess.Popen(
        [sys.executable, "-m", "claf", "server", "--db", db_url, "--port", str(port), "--log_level", "warning"], env=env
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                requests.get(f"{url}/api/v1/health", timeout=1)
                break
            except requests.RequestException:
                time.sleep(0.2)
        t0, cpu0 = time.perf_counter(), cpu_seconds(server.pid)
        with ProcessPoolExecutor(args.clients, mp_context=multiprocessing.get_context("spawn")) as pool:
            codes = [
                c
                for cs in pool.map(writer, [url] * args.clients, range(args.clients), [args.posts] * args.clients)
                for c in cs
            ]
        elapsed, write_cpu = time.perf_counter() - t0, cpu_seconds(server.pid) - cpu0
        writes = len(codes)
        assert all(c == 201 for c in codes), {c: codes.count(c) for c in set(codes)}
        t0 = time.perf_counter()
        filled = fill(db_url, models=max(1, round((30_000 - writes) / 270)))
        fill_s = time.perf_counter() - t0
        reads = {
            "table_best_median": latency(url, "/api/v1/benchmarks/klue/table", {}, args.repeats, server.pid),
            "table_last_mean": latency(
                url, "/api/v1/benchmarks/klue/table", {"step": "last", "seeds": "mean"}, args.repeats, server.pid
            ),
            "series_nsmc": latency(
                url, "/api/v1/benchmarks/klue/tasks/nsmc/series", {"group_by": "masking"}, args.repeats, server.pid
            ),
            "table_csv": latency(url, "/api/v1/benchmarks/klue/table.csv", {}, args.repeats // 3, server.pid),
            "dashboard_page": latency(url, "/benchmarks/klue", {}, args.repeats // 3, server.pid),
        }
        report = {
            "database": db_url.split(":")[0],
            "clients": args.clients,
            "writes": writes,
            "write_seconds": round(elapsed, 2),
            "writes_per_second": round(writes / elapsed, 1),
            "server_cpu_ms_per_write": round(write_cpu * 1000 / writes, 2),
            "results_stored": writes + filled,
            "fill_seconds": round(fill_s, 1),
            "reads": reads,
            "load_average": os.getloadavg(),
            "cpus": os.cpu_count(),
            **stamp(),
        }
    finally:
        server.terminate()
        server.wait()
    print(json.dumps(report, indent=2))
    if args.out:
        Path(args.out).write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
