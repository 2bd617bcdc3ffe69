"""Issue 24's payoff: pre-training replicas x fine-tuning seeds against random init, through ``claf compare``.

    python pretrain.py --base_config pretrain/larva_kor_tiny --seeds 42,43,44 --trainer.log_dir RUNS
    python -m claf factory run --base_config factory/larva_kor_tiny_klue \\
        --checkpoints.names '["larva-kor-tiny-s*-8k"]' --db sqlite:///factory.db
    python benchmarks/payoff_compare.py --db sqlite:///factory.db --runs RUNS --kind "AVX2 only"

Adds (or replaces) the entry ``--kind`` of ``benchmarks/payoff_3x3.json``: the comparison (per task the
difference, its 95% multi-bootstrap interval, P(A > B), n and the verdict; the task average), each
replica's per-task mean, each replica's held-out pre-training figures at the compared step, and the
factory's CPU-seconds. ``benchmarks/render_results.py`` renders it into docs/results/pretraining.md.
"""

import argparse
import json
import platform
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

HERE = Path(__file__).resolve().parent
OUT = HERE / "payoff_3x3.json"


def cpu_kind() -> str:
    flags = set()
    model = platform.processor() or "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("flags"):
                flags = set(line.split(":", 1)[1].split())
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
    isa = [f for f in ("avx2", "avx512f", "avx512_bf16", "amx_tile") if f in flags]
    import os

    return f"{model}, {os.cpu_count()} cores, {' '.join(isa) or 'no AVX2'}"


def held_out(runs: Path, step: int) -> dict:
    out = {}
    folders = [runs] if (runs / "metrics.json").is_file() else sorted(runs.glob("s*"))  # one run, or replicas
    for folder in folders:
        history = json.loads((folder / "metrics.json").read_text(encoding="utf-8")).get("history", [])
        at = next((h for h in history if h.get("global_step") == step), None)
        if at:
            out[folder.name] = {k.split("/", 1)[1]: v for k, v in at.items() if k.startswith("valid/")}
    return out


def replica_means(sessions, benchmark: str, model: str, step, pooled_results) -> tuple[dict, int]:
    """{replica: {task: [scores over fine-tuning seeds]}} of one model at one step (its results pooled over
    ``sessions``, as ``claf compare --db X --db Y`` pools them), and the step."""
    by_task, step = pooled_results(sessions, benchmark, model, step)
    out: dict = {}
    for task, entries in by_task.items():
        for replica, _seed, result in entries:
            out.setdefault(replica, {}).setdefault(task, []).append(result.score)
    return out, step


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True, action="append", help="repeat to pool several databases")
    parser.add_argument("--runs", required=True, help="the pre-training log_dir holding s<seed>/ folders (or one run)")
    parser.add_argument("--kind", required=True, help="the machine kind this entry is for, e.g. 'AVX2 only'")
    parser.add_argument("--a", default="larva-kor-tiny@8k")
    parser.add_argument("--b", default="random-init")
    parser.add_argument("--benchmark", default="klue")
    parser.add_argument("--draws", type=int, default=2000)
    parser.add_argument("--command", default="pretrain.py --seeds 42,43,44; factory larva_kor_tiny_klue on -s*-8k")
    parser.add_argument("--note", default="", help="a line printed under the entry's table (load, timings)")
    parser.add_argument(
        "--db-b", action="append", help="read B from this database (the same models, another protocol); repeatable"
    )
    parser.add_argument("--out", default=str(OUT), help="the JSON to add the entry to (payoff_general.json: issue 25)")
    args = parser.parse_args()

    from contextlib import ExitStack

    from sqlalchemy import select

    from claf.db.engine import open_engine, session_factory
    from claf.db.tables import Job
    from claf.results.compare import compare_models, parse_target, pooled_results

    with ExitStack() as stack:
        sessions = [stack.enter_context(session_factory(open_engine(url))()) for url in args.db]
        sessions_b = [stack.enter_context(session_factory(open_engine(url))()) for url in args.db_b or []]
        report = compare_models(sessions, args.a, args.b, args.benchmark, B=args.draws, session_b=sessions_b or None)
        model, step = parse_target(args.a)
        per_replica, step = replica_means(sessions, args.benchmark, model, step, pooled_results)
        b = report["b"]  # "random-init" resolves to the other model's baseline: take its name from the report
        per_replica_b, _ = replica_means(sessions_b or sessions, args.benchmark, b["model"], b["step"], pooled_results)
        jobs = [job for s in sessions for job in s.scalars(select(Job).where(Job.state == "done"))]
    if args.db_b:
        report["b"]["db"] = args.db_b[0] if len(args.db_b) == 1 else args.db_b
    cost: dict = {}
    for job in jobs:
        cost.setdefault(job.checkpoint, []).append(job.wall_time or 0.0)
    entry = {
        "cpu": cpu_kind(),
        "date": time.strftime("%Y-%m-%d"),
        "command": args.command,
        "compare": report,
        "per_replica": {
            r: {t: statistics.mean(v) for t, v in tasks.items()} for r, tasks in sorted(per_replica.items())
        },
        "per_replica_b": {
            r: {t: statistics.mean(v) for t, v in tasks.items()} for r, tasks in sorted(per_replica_b.items())
        },
        "held_out": held_out(Path(args.runs), step),
        "job_seconds": {ck: round(sum(v), 1) for ck, v in sorted(cost.items())},
        **({"note": args.note} if args.note else {}),
    }
    out = Path(args.out)
    data = json.loads(out.read_text(encoding="utf-8")) if out.is_file() else {}
    data[args.kind] = entry
    out.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    print(json.dumps({k: entry[k] for k in ("cpu", "held_out", "job_seconds")}, indent=1))


if __name__ == "__main__":
    main()
