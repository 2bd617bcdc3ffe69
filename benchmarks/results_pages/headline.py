"""The README's headline table: rendered from ``payoff_3x3.json`` into the block between two markers.

The block holds one row per task plus the average (difference [95% interval] and verdict) and one line
naming the machine and date, for the first machine kind in the JSON.
"""

import json
from pathlib import Path

from .common import RENDER, ROOT, DataError, field, load, table

START = "<!-- results:headline:start -->"
END = "<!-- results:headline:end -->"
SOURCE = "payoff_3x3.json"
CATALOG = ROOT / "claf" / "results" / "catalog.json"


def _titles(benchmark: str) -> dict:
    """Task name -> its title in the shipped catalog (``nsmc`` -> ``NSMC``); empty when not found."""
    if not CATALOG.is_file():
        return {}
    catalog = json.loads(CATALOG.read_text(encoding="utf-8"))
    for entry in catalog.get("benchmarks", []):
        if entry.get("name") == benchmark:
            return {task["name"]: task.get("title", task["name"]) for task in entry.get("tasks", [])}
    return {}


def render() -> str:
    """The block's content (without the markers)."""
    runs = load(SOURCE)
    if not runs:
        raise DataError(f"benchmarks/{SOURCE} holds no machine kind; the headline needs one")
    kind, run = next(iter(runs.items()))
    report = run["compare"]
    titles = _titles(report.get("benchmark", ""))
    rows = [
        [
            f"{titles.get(t['task'], t['task'])} ({t['metric']})",
            f"{t['delta']:+.2f} [{t['low']:+.2f}, {t['high']:+.2f}]",
            t["verdict"],
        ]
        for t in report["tasks"]
    ]
    avg = report.get("average")
    if avg:
        rows.append(
            [
                f"average of the {len(avg['tasks'])}",
                f"{avg['delta']:+.2f} [{avg['low']:+.2f}, {avg['high']:+.2f}]",
                avg["verdict"],
            ]
        )
    a, b = report["a"], report["b"]
    n_a, n_b = report["tasks"][0]["a"]["n"], report["tasks"][0]["b"]["n"]  # [replicas, fine-tuning seeds, examples]
    machine = field(run, SOURCE, f"'{kind}'", "machine", "cpu")
    date = field(run, SOURCE, f"'{kind}'", "date", "measured")
    lines = table(["task", "difference [95% interval]", "verdict"], rows)
    lines.append(
        f"{a['model']}@{a['step']} ({n_a[0]} pre-training x {n_a[1]} fine-tuning seeds) against {b['model']} "
        f"({n_b[0]} x {n_b[1]}), 95% multi-bootstrap intervals; measured on {machine}, {date}; "
        "details in [docs/results/pretraining.md](docs/results/pretraining.md)."
    )
    return "\n".join(lines)


def blocks() -> list[tuple[str, str, str, object]]:
    """(start marker, end marker, source, render) of each README block: the headline, then the budget curve
    once ``budget_curve.json`` exists."""
    from . import budget
    from .common import BENCH

    out: list[tuple[str, str, str, object]] = [(START, END, SOURCE, render)]
    if (BENCH / budget.SOURCE).is_file():
        out.append((budget.START, budget.END, budget.SOURCE, budget.readme_block))
    return out


def block(text: str, path: Path, start_marker: str = START, end_marker: str = END) -> tuple[int, int]:
    """(start, end) offsets of the content between the markers; a one-line DataError when they are absent."""
    start, end = text.find(start_marker), text.find(end_marker)
    if start < 0 or end < 0 or end < start:
        raise DataError(
            f"{path.name} has no {start_marker} ... {end_marker} block; add the two markers where the table goes"
        )
    return start + len(start_marker), end


def problem(path: Path) -> str | None:
    """None when the README's blocks are what the JSON gives, else one line saying what differs."""
    text = path.read_text(encoding="utf-8")
    for start_marker, end_marker, source, make in blocks():
        try:
            start, end = block(text, path, start_marker, end_marker)
        except DataError as e:
            return str(e)
        if text[start:end].strip("\n") != make():
            return f"{path.name}'s block {start_marker} differs from benchmarks/{source}: run {RENDER}"
    return None


def update(path: Path) -> bool:
    """Rewrite the README's blocks in place; False (nothing written) when a block's markers are absent."""
    text = path.read_text(encoding="utf-8")
    new = text
    for start_marker, end_marker, _source, make in blocks():
        try:
            start, end = block(new, path, start_marker, end_marker)
        except DataError:
            return False
        new = new[:start] + "\n" + make() + "\n" + new[end:]
    if new != text:
        path.write_text(new, encoding="utf-8")
    return True
