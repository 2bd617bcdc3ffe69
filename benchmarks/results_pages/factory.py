"""The factory overhead page: what the evaluation factory costs per job beyond the fine-tuning itself."""

from .common import load, num, page, provenance, table

PAGE = "factory-overhead.md"
TITLE = "Evaluation factory overhead"
SUMMARY = "per-job cost of the queue and of the job process around each fine-tuning"
SOURCES = ["factory_overhead_results.json"]
SOURCE = SOURCES[0]


def render() -> str:
    data = load(SOURCE)
    s = data["summary"]
    body = ["## One factory run", ""]
    body += provenance(data, SOURCE, "the file")
    if data.get("note"):
        body += [f"Note: {data['note']}.", ""]
    body += ["### Per job, on average", ""]
    body += table(
        ["what", "seconds"],
        [
            ["jobs", s["jobs"]],
            ["the run's wall time", num(s["run_wall_s"])],
            ["mean job wall time", num(s["mean_job_wall_s"], 2)],
            ["mean Experiment inside the job", num(s["mean_experiment_s"], 2)],
            ["mean job process start and end", num(s["mean_process_start_end_s"], 2)],
            ["queue overhead per job", num(s["queue_overhead_per_job_s"], 3)],
            ["budget: max(2 s, 5% of a job)", num(s["budget_s"], 2)],
        ],
    )
    verdict = "within" if s["within_budget"] else "over"
    body += [f"The queue overhead is {verdict} the budget.", "", "### Each job", ""]
    body += table(
        ["task", "checkpoint", "job wall s", "Experiment s", "process s"],
        [
            [j["task"], j["checkpoint"], num(j["job_wall_s"], 1), num(j["experiment_s"], 1), num(j["process_s"], 2)]
            for j in data["jobs"]
        ],
    )
    return page(TITLE, SOURCES, body, notes=(data.get("provenance_note", ""),))
