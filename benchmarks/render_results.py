"""Render the pre-training results page from the data, never by hand.

    python benchmarks/render_results.py            # writes docs/results/pretraining.md
    python benchmarks/render_results.py --check    # exit 1 when the page differs from what the data gives

Sources: ``benchmarks/payoff_3x3.json`` (``claf compare`` of pre-training replicas against random init,
one entry per machine kind) and ``benchmarks/table_intervals.json`` (the shipped tables' gains with
intervals, and the old "bold best" against the new rule; ``benchmarks/table_intervals.py`` writes it).
"""

import argparse
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
PAGE = HERE.parent / "docs" / "results" / "pretraining.md"


def _interval(entry: dict) -> str:
    if entry.get("verdict") is None:
        return f"{entry['delta']:+.2f} (one seed: no interval)"
    return f"{entry['delta']:+.2f} [{entry['low']:+.2f}, {entry['high']:+.2f}] {entry['verdict']}"


def compare_section(runs: dict) -> list[str]:
    lines = ["## The tiny recipe against random init, pre-training seeds x fine-tuning seeds", ""]
    for kind, run in runs.items():
        report = run["compare"]
        lines += [
            f"### {kind}",
            "",
            f"- Machine: {run['cpu']}; {run['date']}.",
            f"- Command: `{run['command']}`.",
            f"- {report['a']['model']}@{report['a']['step']} against {report['b']['model']} "
            f"({report['bootstrap']['draws']} multi-bootstrap draws, 95% intervals).",
            "",
            "| task | A mean | B mean | A - B [95% interval] | P(A > B) | n (A; B) | verdict |",
            "|---|---|---|---|---|---|---|",
        ]
        for t in report["tasks"]:
            n_a = " x ".join(str(x) for x in t["a"]["n"])
            n_b = " x ".join(str(x) for x in t["b"]["n"])
            lines.append(
                f"| {t['task']} | {t['a']['mean']:.2f} | {t['b']['mean']:.2f} | {t['delta']:+.2f} "
                f"[{t['low']:+.2f}, {t['high']:+.2f}] | {t['p_a_better']:.2f} | {n_a}; {n_b} | {t['verdict']} |"
            )
        avg = report.get("average")
        if avg:
            lines.append(
                f"| average ({', '.join(avg['tasks'])}) | | | {avg['delta']:+.2f} [{avg['low']:+.2f}, "
                f"{avg['high']:+.2f}] | {avg['p_a_better']:.2f} | | {avg['verdict']} |"
            )
        lines += ["", "n is replicas x fine-tuning seeds per replica x dev examples.", ""]
        if run.get("per_replica"):
            lines += ["Each replica's mean per task (fine-tuning seeds averaged):", ""]
            tasks = sorted({t for r in run["per_replica"].values() for t in r})
            lines += ["| replica | " + " | ".join(tasks) + " |", "|---" * (len(tasks) + 1) + "|"]
            for replica, scores in run["per_replica"].items():
                lines.append(f"| {replica} | " + " | ".join(f"{scores[t]:.2f}" for t in tasks) + " |")
            lines.append("")
        if run.get("held_out"):
            lines += ["Held-out pre-training figures of each replica at that step:", ""]
            lines += ["| replica | MLM loss | MLM accuracy % | NSP loss |", "|---|---|---|---|"]
            for replica, figures in run["held_out"].items():
                lines.append(
                    f"| {replica} | {figures.get('mlm_loss', float('nan')):.3f} | "
                    f"{figures.get('mlm_accuracy', float('nan')):.1f} | {figures.get('nsp_loss', float('nan')):.3f} |"
                )
            lines.append("")
        if run.get("job_seconds"):
            total = ", ".join(f"{ck} {s:.0f} s" for ck, s in run["job_seconds"].items())
            lines += [f"Fine-tuning job seconds per checkpoint (the suite, all seeds): {total}.", ""]
    return lines


def tables_section(data: dict) -> list[str]:
    survival = data["bold_survival"]
    lines = [
        "## The shipped tables through the multi-bootstrap",
        "",
        f"Source: `{data['source']}`, judged by `benchmarks/table_intervals.py` ({data['draws']} draws). Each row",
        "of those tables is **one** pre-training run fine-tuned with 1-3 seeds, so these intervals resample",
        "fine-tuning seeds only and are narrower than the truth: pre-training-seed variance is not in them.",
        "",
        f"**The old bold best against the new rule**: of {survival['judged']} task columns that can be judged "
        f"(every cell has 2+ seeds), the old bold survives in {survival['survived']} "
        f"({100 * survival['survived'] / max(1, survival['judged']):.0f}%); in the others it cannot be told "
        f"from the runner-up. {survival['no_interval']} more columns have a one-seed cell and cannot be judged.",
        "",
        "| table | row | task | gain over random init [95% interval] verdict |",
        "|---|---|---|---|",
    ]
    for name, entry in data["tables"].items():
        for row, tasks in entry["gains"].items():
            for task, gain in tasks.items():
                lines.append(f"| {name} | {row} | {task} | {_interval(gain)} |")
    return lines + [""]


def render() -> str:
    lines = [
        "# Pre-training results",
        "",
        "Generated by `python benchmarks/render_results.py` from `benchmarks/payoff_3x3.json` and",
        "`benchmarks/table_intervals.json`; do not edit by hand.",
        "",
    ]
    runs_file = HERE / "payoff_3x3.json"
    if runs_file.is_file():
        lines += compare_section(json.loads(runs_file.read_text(encoding="utf-8")))
    lines += tables_section(json.loads((HERE / "table_intervals.json").read_text(encoding="utf-8")))
    return "\n".join(lines).rstrip() + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail when the page is not what the data gives")
    args = parser.parse_args()
    text = render()
    if args.check:
        if not PAGE.is_file() or PAGE.read_text(encoding="utf-8") != text:
            print(f"{PAGE} is out of date: run python benchmarks/render_results.py", file=sys.stderr)
            return 1
        return 0
    PAGE.parent.mkdir(parents=True, exist_ok=True)
    PAGE.write_text(text, encoding="utf-8")
    print(f"wrote {PAGE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
