"""The benchmark server page: write throughput and read latency with 30,000 stored results."""

from .common import load, num, page, provenance, table

PAGE = "bench-server.md"
TITLE = "Benchmark server load"
SUMMARY = (
    "writes/s with concurrent clients, table/series/dashboard latency with 30,000 results, and the budget page's cost"
)
SOURCES = ["bench_server.json", "budget_page.json"]
SOURCE = SOURCES[0]
BUDGET = SOURCES[1]


def run_section(key: str, run: dict) -> list[str]:
    lines = [f"## `{key}`", ""]
    lines += provenance(run, SOURCE, f"'{key}'")
    lines += [
        f"Database {run['database']}; {run['clients']} client processes; {run['cpus']} CPUs; "
        f"load average {run['load_average'][0]:.1f}. Note: {run['note']}.",
        "",
    ]
    lines += table(
        ["what", "measured"],
        [
            [
                f"writes ({run['writes']:,} POSTs)",
                f"{num(run['writes_per_second'])} writes/s in {num(run['write_seconds'], 2)} s",
            ],
            ["server CPU per write", f"{num(run['server_cpu_ms_per_write'], 2)} ms"],
            ["results stored for the reads", f"{run['results_stored']:,} (filled in {num(run['fill_seconds'])} s)"],
        ],
    )
    lines += table(
        ["read", "p50 ms", "p95 ms", "server CPU ms"],
        [[name, num(r["p50_ms"]), num(r["p95_ms"]), num(r["server_cpu_ms"])] for name, r in run["reads"].items()],
    )
    return lines


def budget_section(run: dict) -> list[str]:
    """The budget page (``/benchmarks/{name}/budget``): first view and a repeat view on one database."""
    lines = ["## The budget page", ""]
    lines += provenance(run, BUDGET, "the budget page")
    lines += [
        f"A SQLite database shaped like the wide suite: {run['results']} results, {run['points']} checkpoints "
        f"compared with random init, {run['draws']} bootstrap draws. The first view computes every point; a "
        "repeat view is served from the kept points until a result or a compute figure arrives.",
        "",
    ]
    first, again = run["seconds"][0], run["seconds"][-1]
    rows = [["first view", num(first, 2)], ["repeat view", num(again, 2)]]
    if run.get("before"):
        rows.insert(0, [f"first view, before: {run['before']['note']}", num(run["before"]["seconds"], 2)])
    lines += table(["view", "seconds"], rows)
    return lines


def render() -> str:
    data = load(SOURCE)
    # bench_server.py --out writes one run; the committed file keeps several, one per key
    runs = {"latest": data} if "writes_per_second" in data else {k: v for k, v in data.items() if isinstance(v, dict)}
    body: list[str] = []
    for key, run in runs.items():
        body += run_section(key, run)
    body += budget_section(load(BUDGET))
    return page(TITLE, SOURCES, body, notes=(data.get("provenance_note", ""),))
