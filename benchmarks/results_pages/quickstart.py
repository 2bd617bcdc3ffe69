"""The quick start page: the README's main-job line run by a newcomer on a fresh clone, step times and verdicts."""

from .common import load, num, page, provenance, table

PAGE = "quickstart.md"
TITLE = "The quick start on a fresh clone"
SUMMARY = "the README's main-job line on a fresh clone and venv: wall time per step and the compare verdicts"
SOURCES = ["quickstart_runs.json"]
SOURCE = SOURCES[0]


def _verdicts(report: dict) -> list[str]:
    rows = []
    for t in report["tasks"]:
        n_a = " x ".join(str(x) for x in t["a"]["n"])
        n_b = " x ".join(str(x) for x in t["b"]["n"])
        rows.append(
            [
                f"{t['task']} ({t['metric']})",
                num(t["a"]["mean"], 2),
                num(t["b"]["mean"], 2),
                f"{t['delta']:+.2f} [{t['low']:+.2f}, {t['high']:+.2f}]",
                f"{n_a}; {n_b}",
                t["verdict"],
            ]
        )
    avg = report.get("average")
    if avg:
        rows.append(
            [
                f"average ({', '.join(avg['tasks'])})",
                "",
                "",
                f"{avg['delta']:+.2f} [{avg['low']:+.2f}, {avg['high']:+.2f}]",
                "",
                avg["verdict"],
            ]
        )
    return table(["task", "A mean", "B mean", "A - B [95% interval]", "n (A; B)", "verdict"], rows)


def render() -> str:
    body: list[str] = []
    for name, run in load(SOURCE).items():
        body += [f"## {name}", ""]
        body += provenance(run, SOURCE, f"'{name}'")
        if run.get("load"):
            body += [f"Load: {run['load']}.", ""]
        body += ["### Wall time per step", ""]
        body += table(["step", "seconds"], [[step, num(seconds, 0)] for step, seconds in run["steps"].items()])
        report = run["compare"]
        body += [
            f"### `claf compare {report['a']['model']}@{report['a']['step']} {report['b']['model']}`",
            "",
            f"{report['bootstrap']['draws']} multi-bootstrap draws, 95% intervals; n is replicas x fine-tuning seeds "
            "x dev examples. One pre-training seed: the interval holds fine-tuning seeds and examples only.",
            "",
        ]
        body += _verdicts(report)
        if run.get("finetune"):
            body += [f"The quick start's own NSMC run: {run['finetune']}.", ""]
    return page(TITLE, SOURCES, body)
