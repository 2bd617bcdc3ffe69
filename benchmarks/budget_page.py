"""How long the dashboard's budget page takes on a database shaped like the wide Korean suite's.

    python benchmarks/budget_page.py [--draws 1000] [--repeat 2] [--json benchmarks/budget_page.json]

Builds a SQLite database in a temporary folder: 7 tasks with the dev sizes of the factory's wide suite
(accuracy tasks, and two correlation tasks whose metric is recomputed per draw), a general recipe with 3
pre-training replicas, its random init, and 9 single-replica families (levers, budget points), each
fine-tuned with 3 seeds and storing every dev prediction, as the factory does. Then it times
``budget_points`` (what ``/benchmarks/{name}/budget`` computes) cold and again (warm), in-process.
"""

import argparse
import json
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

# task -> (metric, dev examples, classes; 0: a regression scored by correlation)
TASKS = {
    "nsmc": ("accuracy", 5000, 2),
    "qp": ("accuracy", 700, 2),
    "korsts": ("spearman", 1379, 0),
    "kornli": ("accuracy", 2490, 3),
    "pawsx_split": ("accuracy", 1000, 2),
    "klue_nli_split": ("accuracy", 1500, 3),
    "klue_sts_split": ("pearson", 260, 0),
}
SINGLE = ("tapt", "cpu5m", "cpu15m", "cpu60m", "mask30", "cramming", "vocab4k", "vocab16k", "electra")
FAMILY = "larva-kor-tiny"


def examples(rng: random.Random, truth: list, classes: int, skill: float) -> dict:
    metric = ["accuracy"] if classes else ["pearson", "spearman"]
    if classes:
        preds = [t if rng.random() < skill else rng.randrange(classes) for t in truth]
    else:
        preds = [round(t * skill + rng.gauss(0, 1.5), 4) for t in truth]
    return {"ids": [str(i) for i in range(len(truth))], "predictions": preds, "references": truth, "metrics": metric}


def score_of(ex: dict, metric: str) -> float:
    from claf.metrics.spec import metric_function

    spec = "accuracy" if metric == "accuracy" else metric
    return float(metric_function(spec)(list(ex["predictions"]), list(ex["references"]))[metric])


def build(url: str, seed: int = 0) -> int:
    from claf.db.engine import migrate, open_engine, session_factory
    from claf.results.payloads import BenchmarkSpec, CheckpointIn, ResultIn
    from claf.results.store import put_benchmark, put_checkpoint, put_result

    engine = open_engine(url)
    migrate(engine)
    factory = session_factory(engine)
    tasks = [{"name": t, "metric": m} for t, (m, _n, _c) in TASKS.items()]
    put_benchmark(factory, BenchmarkSpec(name="klue", tasks=tasks))
    rng = random.Random(seed)
    truths = {
        t: [rng.randrange(c) for _ in range(n)] if c else [round(rng.uniform(0, 5), 2) for _ in range(n)]
        for t, (_m, n, c) in TASKS.items()
    }
    models = [(f"{FAMILY}-random-init", 0, 0.5, None)]
    models += [(f"{FAMILY}-s{s}", 8000, 0.55, 600.0 + s) for s in (42, 43, 44)]
    models += [(f"{FAMILY}-{name}", 8000, 0.5 + 0.01 * i, 300.0 * (i + 1)) for i, name in enumerate(SINGLE)]
    count = 0
    for model, step, skill, cpu in models:
        metrics = {"pretrain_cpu_seconds": cpu} if cpu else {}
        put_checkpoint(factory, CheckpointIn(model=model, step=step, metrics=metrics))
        for task, (metric, _n, classes) in TASKS.items():
            for ft_seed in (1, 2, 3):
                ex = examples(rng, truths[task], classes, skill)
                body = {
                    "benchmark": "klue",
                    "task": task,
                    "checkpoint": {"model": model, "step": step},
                    "seed": ft_seed,
                    "metrics": {metric: score_of(ex, metric)},
                    "config": {"model": model, "task": task, "seed_num": ft_seed},
                    "examples": ex,
                }
                put_result(factory, ResultIn(**body))
                count += 1
    engine.dispose()
    return count


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--draws", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    from claf.db.engine import open_engine, session_factory
    from claf.results.budget import budget_points

    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{folder}/klue.sqlite"
        start = time.perf_counter()
        results = build(url)
        built = time.perf_counter() - start
        factory = session_factory(open_engine(url))
        times = []
        for _ in range(args.repeat):
            start = time.perf_counter()
            with factory() as session:
                out = budget_points(session, "klue", draws=args.draws)
            times.append(round(time.perf_counter() - start, 2))
    from provenance import stamp

    report = {
        **stamp(),
        "before": {"seconds": 87.77, "note": "the same database before the fix (b81372b's parent), cold, 1000 draws"},
        "results": results,
        "build_seconds": round(built, 1),
        "draws": args.draws,
        "points": len(out["points"]),
        "skipped": out["skipped"],
        "seconds": times,
    }
    print(json.dumps(report, indent=1))
    if args.json:
        args.json.write_text(json.dumps(report, indent=1) + "\n")
    return report


if __name__ == "__main__":
    main()
