"""The shipped result tables judged by the multi-bootstrap (issue 24): their gains get intervals, and
their old "bold best" is tested against the dashboard's new rule.

    python benchmarks/table_intervals.py [--json benchmarks/table_intervals.json]

Reads every table of ``benchmarks/payoff_results.json`` (cells keep each fine-tuning seed's score). Each
row is one pre-training run (one replica) fine-tuned with n seeds, so an interval resamples seeds only:
it says nothing about pre-training-seed variance, which one run cannot show.

1. **Gains**: each pre-trained row against its table's random-init row, per task: the difference of the
   means, its 95% interval, P(A > B) and the verdict (``claf.stats.bootstrap.compare``, 2000 draws).
2. **Bold survival**: per table and task column with 2+ rows, the old rule bolds the highest median; the
   new rule keeps it bold only when its difference from every other row's excludes 0. A column where a
   cell has one seed cannot be judged (no interval), as on the dashboard.
"""

import argparse
import json
import re
import statistics
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

HERE = Path(__file__).resolve().parent


def tables(data, path="", cpu=None):
    """(name, table, machine) for every ``{"tasks", "rows"}`` object in the results file; the machine is the
    ``cpu`` of the nearest object around the table that names one."""
    if isinstance(data, dict):
        cpu = data["cpu"] if isinstance(data.get("cpu"), str) else cpu
        if isinstance(data.get("rows"), dict) and "tasks" in data:
            yield path.strip("/"), data, cpu
        for key, value in data.items():
            yield from tables(value, f"{path}/{key}", cpu)


def recorded_date(name: str) -> str:
    """The date a table's section is named after (``avx2_2026_12_02/...``), else "not recorded"."""
    found = re.search(r"(\d{4})_(\d{2})_(\d{2})", name)
    return "-".join(found.groups()) if found else "not recorded"


def runs(cell, label):
    from claf.stats.runs import Run

    return [Run(label, seed, np.array([score]), ("score",)) for seed, score in enumerate(cell["scores"])]


def gains(table) -> dict:
    from claf.stats.bootstrap import compare

    base = next((name for name in table["rows"] if name.endswith("random-init")), None)
    out: dict = {}
    if base is None:
        return out
    for name, row in table["rows"].items():
        if name == base:
            continue
        for task in table["tasks"]:
            a, b = row["cells"].get(task), table["rows"][base]["cells"].get(task)
            if not a or not b:
                continue
            entry = {"n_a": len(a["scores"]), "n_b": len(b["scores"])}
            if len(a["scores"]) < 2 or len(b["scores"]) < 2:
                entry.update(delta=statistics.mean(a["scores"]) - statistics.mean(b["scores"]), verdict=None)
            else:
                got = compare(runs(a, name), runs(b, base), B=2000, rng=0)
                entry.update({k: got[k] for k in ("delta", "low", "high", "p_a_better", "verdict")})
            out.setdefault(name, {})[task] = entry
    return out


def bold(table) -> list[dict]:
    """Per task column: the old bold row and whether the new rule keeps it."""
    from claf.stats.bootstrap import NO_DIFFERENCE, compare

    columns = []
    for task in table["tasks"]:
        cells = {name: row["cells"][task] for name, row in table["rows"].items() if row["cells"].get(task)}
        if len(cells) < 2:
            continue
        top = max(cells, key=lambda name: cells[name]["median"])
        column = {"task": task, "old_bold": top, "rows": len(cells)}
        if any(len(c["scores"]) < 2 for c in cells.values()):
            column["survives"] = None  # one seed somewhere: no interval, nothing to judge
        else:
            tied = [
                name
                for name in cells
                if name != top
                and compare(runs(cells[top], top), runs(cells[name], name), B=2000, rng=0)["verdict"] == NO_DIFFERENCE
            ]
            column.update(survives=not tied, tied_with=tied)
        columns.append(column)
    return columns


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", default=str(HERE / "table_intervals.json"))
    args = parser.parse_args()
    data = json.loads((HERE / "payoff_results.json").read_text(encoding="utf-8"))
    report: dict = {
        "source": "benchmarks/payoff_results.json",
        "command": "python benchmarks/table_intervals.py",
        "draws": 2000,
        "tables": {},
    }
    judged = survived = unjudged = 0
    for name, table, cpu in tables(data):
        columns = bold(table)
        report["tables"][name] = {
            "machine": cpu or "not recorded",
            "date": recorded_date(name),
            "gains": gains(table),
            "bold": columns,
        }
        judged += sum(c["survives"] is not None for c in columns)
        survived += sum(bool(c["survives"]) for c in columns)
        unjudged += sum(c["survives"] is None for c in columns)
    report["bold_survival"] = {"judged": judged, "survived": survived, "no_interval": unjudged}
    Path(args.json).write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    print(json.dumps(report["bold_survival"]))
    for name, entry in report["tables"].items():
        for row, tasks in entry["gains"].items():
            text = ", ".join(
                f"{t} {g['delta']:+.2f}"
                + (f" [{g['low']:+.2f}, {g['high']:+.2f}] {g['verdict']}" if g["verdict"] else " (1 seed)")
                for t, g in tasks.items()
            )
            print(f"{name}: {row}: {text}")


if __name__ == "__main__":
    main()
