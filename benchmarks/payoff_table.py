"""The factory's table of pre-trained checkpoints against random initialisation (issue 15's measure).

    python benchmarks/payoff_table.py --db sqlite:///factory.db --recipe larva_kor_tiny_klue [--json out.json]

Per checkpoint and task: the median score over seeds, its range and n; per checkpoint the gain of each
task's median over the random-init row of the same model family (``<model>-random-init``), how many tasks
gain at least 2 points and how many are worse. Reads the jobs table, so it works while jobs still run.
"""

import argparse
import json
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def table(jobs: list[dict]) -> dict:
    from claf.results.run_payloads import split_checkpoint_name

    cells: dict = {}
    steps: dict = {}
    for j in jobs:
        if j["state"] == "done" and j["score"] is not None:
            cells.setdefault(j["checkpoint"], {}).setdefault(j["task"], []).append(float(j["score"]))
            steps[j["checkpoint"]] = j["step"]
    tasks = sorted({t for row in cells.values() for t in row})
    rows = {}
    for ck, row in cells.items():
        rows[ck] = {
            t: {"median": statistics.median(v), "min": min(v), "max": max(v), "n": len(v), "scores": v}
            for t, v in row.items()
        }
    out = {"tasks": tasks, "rows": {}}
    for ck in sorted(rows, key=lambda c: (c.endswith("random-init"), c)):
        base = None if ck.endswith("random-init") else rows.get(f"{split_checkpoint_name(ck)[0]}-random-init")
        entry = {"cells": rows[ck], "step": steps[ck]}
        if base:
            gains = {t: rows[ck][t]["median"] - base[t]["median"] for t in tasks if t in rows[ck] and t in base}
            entry["gain"] = gains
            entry["tasks_gaining_2"] = sum(g >= 2 for g in gains.values())
            entry["tasks_worse"] = sum(g < 0 for g in gains.values())
        out["rows"][ck] = entry
    return out


def markdown(result: dict) -> str:
    tasks = result["tasks"]
    lines = ["| checkpoint | " + " | ".join(tasks) + " | tasks >= +2 | worse |", "|---" * (len(tasks) + 3) + "|"]
    for ck, entry in result["rows"].items():
        cells = []
        for t in tasks:
            c = entry["cells"].get(t)
            if not c:
                cells.append("-")
                continue
            text = f"{c['median']:.2f}"
            if c["n"] > 1:
                text += f" [{c['min']:.1f}-{c['max']:.1f}]"
            if "gain" in entry and t in entry["gain"]:
                text += f" ({entry['gain'][t]:+.2f})"
            cells.append(text)
        extra = [str(entry.get("tasks_gaining_2", "")), str(entry.get("tasks_worse", ""))]
        lines.append(f"| {ck} | " + " | ".join(cells + extra) + " |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", required=True)
    parser.add_argument("--recipe", required=True)
    parser.add_argument("--json")
    args = parser.parse_args()
    from claf.factory.job_store import DbStore

    result = table(DbStore(args.db).jobs(args.recipe))
    print(markdown(result))
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
