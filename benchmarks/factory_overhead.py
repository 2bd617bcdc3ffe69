"""Per-job overhead of the evaluation factory, from a finished ``claf factory run``.

    python benchmarks/factory_overhead.py --db sqlite:///$CLAF_HOME/bench.sqlite --recipe larva_kor_tiny_klue \
        --wall 1234.5          # the run's wall time in seconds (e.g. from /usr/bin/time)

For each done job: ``experiment`` = the Experiment("train") call inside the job process (what a hand-started
run also spends), ``process`` = the job process's start (Python + torch imports, config) and end, ``queue`` =
the rest of the run's wall time per job (claim, heartbeats, posting the result, notifications, gaps).
The issue's budget is max(2 s, 5% of the job's wall time) for the scheduling overhead (``queue``).
"""

import argparse
import json
import statistics

from provenance import stamp
from sqlalchemy import select


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", required=True)
    parser.add_argument("--recipe", required=True)
    parser.add_argument("--wall", type=float, required=True, help="wall time of the factory run, seconds")
    parser.add_argument("--output", default=None)
    args = parser.parse_args()

    from claf.db.engine import open_engine, session_factory
    from claf.db.tables import Job, Result

    sessions = session_factory(open_engine(args.db))
    with sessions() as s:
        jobs = list(s.scalars(select(Job).where(Job.recipe == args.recipe, Job.state == "done")))
        prov = {r.id: r.provenance for r in s.scalars(select(Result).where(Result.id.in_([j.result_id for j in jobs])))}
    rows = []
    for j in jobs:
        p = prov.get(j.result_id) or {}
        if "experiment_s" in p and j.wall_time:
            rows.append(
                {
                    "task": j.task,
                    "checkpoint": j.checkpoint,
                    "job_wall_s": j.wall_time,
                    "experiment_s": p["experiment_s"],
                    "process_s": j.wall_time - p["experiment_s"],
                }
            )
    n = len(rows)
    queue_per_job = (args.wall - sum(r["job_wall_s"] for r in rows)) / n
    mean_wall = statistics.fmean(r["job_wall_s"] for r in rows)
    summary = {
        "jobs": n,
        "run_wall_s": args.wall,
        "mean_job_wall_s": round(mean_wall, 2),
        "mean_experiment_s": round(statistics.fmean(r["experiment_s"] for r in rows), 2),
        "mean_process_start_end_s": round(statistics.fmean(r["process_s"] for r in rows), 2),
        "queue_overhead_per_job_s": round(queue_per_job, 3),
        "budget_s": round(max(2.0, 0.05 * (mean_wall + queue_per_job)), 2),
    }
    summary["within_budget"] = summary["queue_overhead_per_job_s"] <= summary["budget_s"]
    print(json.dumps(summary, indent=2))
    if args.output:
        with open(args.output, "w", encoding="utf-8") as f:
            json.dump({**stamp(), "summary": summary, "jobs": rows}, f, indent=2)


if __name__ == "__main__":
    main()
