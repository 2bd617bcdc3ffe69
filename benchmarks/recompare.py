"""Re-run the comparison stored in a results entry against its database, in place.

    python benchmarks/recompare.py --file benchmarks/levers.json --entry "AMX (bf16 auto), ..." \\
        --db sqlite:///mean.db [--db-b sqlite:///cls.db]

An entry written by ``payoff_compare.py`` (a ``compare`` block) gets that block again from ``claf compare``
as it is now; one written by ``budget_curve.py`` (``points``) gets each point's gain and per-task rows again.
Use it when the statistics change, so that stored figures and the code that produced them agree. The entry
records ``average_replicas: joint`` (how the task average drew replicas, see ``claf.stats.bootstrap``) and
the date of the recomputation. The database must hold the entry's runs.
"""

import argparse
import datetime
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))  # budget_curve, beside it


def _target(side: dict) -> str:
    return f"{side['model']}@{side['step']}"


def recompare(entry: dict, session, session_b, draws: int) -> dict:
    from claf.results.compare import compare_models

    if "compare" in entry:
        old = entry["compare"]
        report = compare_models(
            session, _target(old["a"]), _target(old["b"]), old["benchmark"], B=draws, session_b=session_b
        )
        if old["b"].get("db"):
            report["b"]["db"] = old["b"]["db"]
        entry["compare"] = report
    elif "points" in entry:
        from budget_curve import gain_of

        for p in entry["points"]:
            p.update(gain_of(compare_models(session, p["target"], entry["baseline"], "klue", B=draws)))
    else:
        raise SystemExit("the entry has neither a 'compare' block nor 'points': not a comparison entry")
    entry["average_replicas"] = "joint"
    entry["recompared"] = datetime.date.today().isoformat()
    return entry


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--file", required=True, type=Path)
    ap.add_argument("--entry", required=True, help="the entry's key in the file")
    ap.add_argument("--db", required=True)
    ap.add_argument("--db-b", default=None, help="B's database, for an entry that read B from another one")
    ap.add_argument("--draws", type=int, default=2000)
    args = ap.parse_args(argv)
    from claf.db.engine import open_engine, session_factory

    data = json.loads(args.file.read_text(encoding="utf-8"))
    if args.entry not in data:
        raise SystemExit(f"{args.file}: no entry '{args.entry}'; entries: {', '.join(data)}")
    with session_factory(open_engine(args.db))() as session:
        if args.db_b:
            with session_factory(open_engine(args.db_b))() as session_b:
                recompare(data[args.entry], session, session_b, args.draws)
        else:
            recompare(data[args.entry], session, None, args.draws)
    tmp = args.file.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    tmp.replace(args.file)
    print(f"{args.file}: '{args.entry}' recompared")
    return 0


if __name__ == "__main__":
    sys.exit(main())
