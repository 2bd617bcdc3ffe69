"""The quick start page: the README's main-job line run by a newcomer on a fresh clone, step times and verdicts."""

from .common import compare_table, load, num, page, provenance, table

PAGE = "quickstart.md"
TITLE = "The quick start on a fresh clone"
SUMMARY = "the README's main-job line on a fresh clone and venv: wall time per step and the compare verdicts"
SOURCES = ["quickstart_runs.json"]
SOURCE = SOURCES[0]


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
        body += compare_table(report)
        if run.get("finetune"):
            body += [f"The quick start's own NSMC run: {run['finetune']}.", ""]
    return page(TITLE, SOURCES, body)
