"""Exploratory: a model's replicas gathered from several databases, against another's, per task and averaged.

    python benchmarks/pooled_compare.py --a larva-kor-tiny@8000 --b larva-kor-tiny-random-init@0 \\
        --db sqlite:///first.db --db sqlite:///confirm.db

A confirming run filed in a database of its own (fresh seeds, as in benchmarks/preregistered/) can be read
together with the first run: every database's results of each model are pooled, and the comparison is the
one ``claf compare`` makes (the same multi-bootstrap, the task average with each model's replicas drawn once
per draw). A replica that is in two of the databases is refused by the bootstrap, since it would count twice.
Use it for the pooled estimate; a pre-registered test reads its own database alone.
"""

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def gather(urls: list[str], target: str, benchmark: str) -> tuple[dict, dict]:
    """({task: [(replica, seed, result)]} over every database, {task: (metric, position, averaged)})."""
    from sqlalchemy import select

    from claf.db.engine import open_engine, session_factory
    from claf.db.tables import Benchmark, Task
    from claf.results.compare import parse_target, target_results

    model, step = parse_target(target)
    pooled: dict = {}
    meta: dict = {}
    for url in urls:
        with session_factory(open_engine(url))() as session:
            by_task, _ = target_results(session, benchmark, model, step)
            for task, entries in by_task.items():
                pooled.setdefault(task, []).extend(entries)
            query = select(Task).join(Benchmark, Benchmark.id == Task.benchmark_id).where(Benchmark.name == benchmark)
            for t in session.execute(query).scalars():
                meta[t.name] = (t.metric, t.position, bool(t.average_weight) and t.higher_is_better)
    return pooled, meta


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--a", required=True, help="MODEL@STEP")
    ap.add_argument("--b", required=True, help="MODEL@STEP")
    ap.add_argument("--db", action="append", required=True, help="a database to read; give it once per database")
    ap.add_argument("--benchmark", default="klue")
    ap.add_argument("--draws", type=int, default=2000)
    args = ap.parse_args()
    from claf.results.compare import runs_of
    from claf.stats.bootstrap import compare, compare_average, point

    a, meta = gather(args.db, args.a, args.benchmark)
    b, _ = gather(args.db, args.b, args.benchmark)
    avg_a, avg_b, metrics = {}, {}, {}
    print(f"{args.a} against {args.b}, pooled over {len(args.db)} databases ({args.draws} draws, 95% intervals)")
    for task in sorted(set(a) & set(b), key=lambda t: meta[t][1]):
        runs_a, metric, _ = runs_of(a[task], meta[task][0])
        runs_b, _, _ = runs_of(b[task], meta[task][0])
        out = compare(runs_a, runs_b, metric=metric, B=args.draws, rng=0)
        n_a, n_b = (" x ".join(map(str, n)) for n in (out["n_a"], out["n_b"]))
        print(
            f"| {task} | {point(runs_a, metric):.2f} | {point(runs_b, metric):.2f} | {out['delta']:+.2f} "
            f"[{out['low']:+.2f}, {out['high']:+.2f}] | {n_a}; {n_b} | {out['verdict']} |"
        )
        if meta[task][2]:
            avg_a[task], avg_b[task], metrics[task] = runs_a, runs_b, metric
    out = compare_average(avg_a, avg_b, metrics=metrics, B=args.draws, rng=0)
    print(
        f"| average ({len(avg_a)} tasks) | | | {out['delta']:+.2f} [{out['low']:+.2f}, {out['high']:+.2f}] | | {out['verdict']} |"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
