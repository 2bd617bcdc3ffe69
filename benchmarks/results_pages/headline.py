"""The README's headline table: rendered from ``payoff_3x3.json`` into the block between two markers.

The block holds one row per task plus the average (difference [95% interval] and verdict) and one line
naming the machine and date, for the first machine kind in the JSON.
"""

import json
from pathlib import Path

from .common import ROOT, DataError, field, load, table

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


def block(text: str, path: Path) -> tuple[int, int]:
    """(start, end) offsets of the content between the markers; a one-line DataError when they are absent."""
    start, end = text.find(START), text.find(END)
    if start < 0 or end < 0 or end < start:
        raise DataError(f"{path.name} has no {START} ... {END} block; add the two markers where the headline goes")
    return start + len(START), end


def problem(path: Path) -> str | None:
    """None when the README's block is what the JSON gives, else one line saying what differs."""
    text = path.read_text(encoding="utf-8")
    try:
        start, end = block(text, path)
    except DataError as e:
        return str(e)
    if text[start:end].strip("\n") != render():
        return f"{path.name}'s headline block differs from benchmarks/{SOURCE}: run python benchmarks/render_results.py"
    return None


def update(path: Path) -> bool:
    """Rewrite the README's block in place; False (nothing written) when the markers are absent."""
    text = path.read_text(encoding="utf-8")
    try:
        start, end = block(text, path)
    except DataError:
        return False
    new = text[:start] + "\n" + render() + "\n" + text[end:]
    if new != text:
        path.write_text(new, encoding="utf-8")
    return True
