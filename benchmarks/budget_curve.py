"""Issue 25's budget curve: the general recipe's suite-average gain over random init against pre-training compute.

    python pretrain.py --base_config pretrain/larva_kor_tiny --name larva-kor-tiny-cpu5m --trainer.max_steps 3500 \\
        --checkpoint.save_every_steps 3500 --trainer.log_dir RUNS/cpu5m            # and 15, 60 CPU-minutes
    python -m claf factory run --base_config factory/larva_kor_tiny_wide --checkpoints.names '["larva-kor-tiny-cpu*"]'
    python benchmarks/budget_curve.py --db sqlite:///factory.db --kind "AVX-512 bf16" \\
        --point larva-kor-tiny-cpu5m@3500=RUNS/cpu5m --point 'larva-kor-tiny@8000=RUNS/s*' ...

``--db`` may be given more than once: each side's results are pooled over those databases (points fine-tuned in
different runs, the baseline in another). Each ``--point MODEL@STEP=RUNS`` is one budget: ``claf compare`` of
MODEL@STEP (all its replicas) against the random init of the same architecture (``--baseline``), and the pre-training compute read from the run folders
that RUNS matches (a glob): the training seconds their ``metrics.json`` history records, times the threads the
run used, averaged over replicas. Adds (or replaces) the entry ``--kind`` of ``benchmarks/budget_curve.json`` as its
first entry (the README's table shows the first); ``benchmarks/render_results.py`` renders its table and chart.
"""

import argparse
import glob
import json
import statistics
import sys
import time
from contextlib import ExitStack
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from payoff_compare import cpu_kind  # noqa: E402

OUT = Path(__file__).resolve().parent / "budget_curve.json"


def compute(pattern: str, seconds_per_step: float | None = None, upto: int | None = None) -> dict:
    """Pre-training seconds, threads and CPU-seconds per replica folder matching ``pattern``. With
    ``seconds_per_step`` (the machine's rate measured alone), CPU-seconds are the run's steps at that rate times
    its threads: the nominal budget, not inflated by whatever else shared the cores. ``upto``: count the run only
    to that step, so a run's intermediate checkpoints are budget points of their own."""
    runs = {}
    for folder in sorted(Path(p) for p in glob.glob(pattern)):
        history = json.loads((folder / "metrics.json").read_text(encoding="utf-8")).get("history", [])
        if upto is not None:
            history = [h for h in history if (h.get("global_step") or 0) <= upto]
        config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
        threads = (config.get("trainer") or {}).get("num_threads") or 2
        seconds = sum(h.get("train_time") or 0.0 for h in history)
        steps = max((h.get("global_step") or 0 for h in history), default=0)
        nominal = seconds if seconds_per_step is None else steps * seconds_per_step
        runs[folder.name] = {
            "steps": steps,
            "seconds": round(seconds, 1),
            "threads": threads,
            "cpu_seconds": round(nominal * threads),
        }
    if not runs:
        raise SystemExit(f"--point ...={pattern}: no run folder matches; give the pre-training log_dir (a glob)")
    return runs


def point(session: list, spec: str, baseline: str, benchmark: str, draws: int, rate: float | None) -> dict:
    from claf.results.compare import compare_models

    target, _, pattern = spec.partition("=")
    report = compare_models(session, target, baseline, benchmark, B=draws)
    runs = compute(pattern, rate, report["a"]["step"])
    return {
        "target": target,
        "replicas": len(runs),
        "cpu_seconds": round(statistics.mean(r["cpu_seconds"] for r in runs.values())),
        "runs": runs,
        **gain_of(report),
    }


def gain_of(report: dict) -> dict:
    """A point's ``gain`` (the suite average) and per-task rows, from a ``claf compare`` report."""
    avg = report["average"]
    return {
        "gain": {k: avg[k] for k in ("delta", "low", "high", "verdict", "p_a_better")},
        "tasks": {
            t["task"]: {k: t[k] for k in ("delta", "low", "high", "verdict")} | {"n": t["a"]["n"]}
            for t in report["tasks"]
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--db", action="append", required=True, help="a benchmark database; repeat to pool results over several"
    )
    parser.add_argument("--kind", required=True, help="the machine kind this entry is for, e.g. 'AVX-512 bf16'")
    parser.add_argument("--point", action="append", required=True, help="MODEL@STEP=RUNS_GLOB, one per budget")
    parser.add_argument("--baseline", default="larva-kor-tiny-random-init@0")
    parser.add_argument("--benchmark", default="klue")
    parser.add_argument("--draws", type=int, default=2000)
    parser.add_argument("--command", default="budget runs of pretrain/larva_kor_tiny; factory larva_kor_tiny_wide")
    parser.add_argument("--out", default=str(OUT))
    parser.add_argument(
        "--seconds_per_step",
        type=float,
        help="the recipe's seconds per step on this machine measured alone: CPU-seconds become steps x rate x "
        "threads (when other work shared the cores during some runs); default: each run's measured seconds",
    )
    args = parser.parse_args()

    from claf.atomic import atomic_write_text
    from claf.db.engine import open_engine, session_factory
    from claf.results.store import NotFound

    with ExitStack() as stack:
        sessions = [stack.enter_context(session_factory(open_engine(url))()) for url in args.db]
        try:
            points = [
                point(sessions, spec, args.baseline, args.benchmark, args.draws, args.seconds_per_step)
                for spec in args.point
            ]
        except (NotFound, ValueError) as err:  # a model or step no database holds: one line, nothing written
            raise SystemExit(f"budget_curve: {err}") from None
    points.sort(key=lambda p: p["cpu_seconds"])
    entry = {
        "cpu": cpu_kind(),
        "date": time.strftime("%Y-%m-%d"),
        "command": args.command,
        "baseline": args.baseline,
        "cpu_seconds": "nominal: steps x seconds_per_step x threads" if args.seconds_per_step else "measured",
        "seconds_per_step": args.seconds_per_step,
        "points": points,
    }
    out = Path(args.out)
    data = json.loads(out.read_text(encoding="utf-8")) if out.is_file() else {}
    data = {args.kind: entry, **{k: v for k, v in data.items() if k != args.kind}}
    atomic_write_text(out, json.dumps(data, indent=1) + "\n")
    for p in points:
        g = p["gain"]
        print(f"{p['target']}: {p['cpu_seconds']} CPU-s, {g['delta']:+.2f} [{g['low']:+.2f}, {g['high']:+.2f}]")


if __name__ == "__main__":
    main()
