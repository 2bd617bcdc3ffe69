"""The budget curve: the general recipe's suite-average gain over random init against pre-training compute.

Source: ``budget_curve.json`` (``benchmarks/budget_curve.py``), one entry per machine kind. The README's table
lies between ``<!-- results:budget:start -->`` and ``<!-- results:budget:end -->`` (the first entry, the newest).
"""

from .common import DataError, load, provenance, table

SOURCE = "budget_curve.json"
START = "<!-- results:budget:start -->"
END = "<!-- results:budget:end -->"


def _gain(g: dict) -> str:
    return f"{g['delta']:+.2f} [{g['low']:+.2f}, {g['high']:+.2f}]"


def rows(entry: dict) -> list[list[str]]:
    out = []
    for p in entry["points"]:
        tasks = p["tasks"].values()
        better = sum(t["verdict"] == "better" for t in tasks)
        worse = sum(t["verdict"] == "worse" for t in tasks)
        out.append(
            [
                p["target"],
                f"{p['cpu_seconds'] / 60:.1f}",
                str(p["replicas"]),
                _gain(p["gain"]),
                p["gain"]["verdict"],
                f"{better} / {worse} of {len(p['tasks'])}",
            ]
        )
    return out


HEADER = [
    "checkpoint",
    "pre-training CPU-minutes",
    "replicas",
    "suite-average gain [95% interval]",
    "verdict",
    "tasks better / worse",
]


def cpu_note(entry: dict) -> str:
    if entry.get("seconds_per_step"):
        return (
            f"CPU-minutes are nominal: each run's steps at {entry['seconds_per_step']:.4f} s per step (this "
            "machine's rate with nothing else running) times its threads; vocab and corpus preparation not counted."
        )
    return "CPU-minutes are each run's training seconds times its threads; vocab and corpus preparation not counted."


def section() -> list[str]:
    data = load(SOURCE)
    lines = ["## The budget curve: gain over random init against pre-training compute", ""]
    for kind, entry in data.items():
        lines += [f"### {kind}", ""]
        lines += provenance(entry, SOURCE, f"'{kind}'")
        lines += [
            f"Each checkpoint against {entry['baseline']} on the wide suite, 3 fine-tuning seeds per replica.",
            "",
        ]
        lines += [cpu_note(entry), ""]
        lines += table(HEADER, rows(entry))
        tasks = sorted({t for p in entry["points"] for t in p["tasks"]})
        lines += ["Per task (difference [95% interval]):", ""]
        lines += table(
            ["checkpoint", *tasks],
            [
                [p["target"], *(_gain(p["tasks"][t]) if t in p["tasks"] else "-" for t in tasks)]
                for p in entry["points"]
            ],
        )
    return lines


def readme_block() -> str:
    data = load(SOURCE)
    if not data:
        raise DataError(f"benchmarks/{SOURCE} holds no machine kind; the README's budget table needs one")
    kind, entry = next(iter(data.items()))
    lines = table(HEADER, rows(entry))
    lines.append(
        f"The general recipe (`pretrain/larva_kor_tiny` at other step budgets) against {entry['baseline']} on the "
        f"wide suite; measured on {entry['cpu']}, {entry['date']}; details in "
        "[docs/results/pretraining.md](docs/results/pretraining.md)."
    )
    return "\n".join(lines)
