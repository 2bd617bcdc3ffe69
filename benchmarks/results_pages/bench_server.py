"""The benchmark server page: write throughput and read latency with 30,000 stored results."""

from .common import load, num, page, provenance, table

PAGE = "bench-server.md"
TITLE = "Benchmark server load"
SUMMARY = "writes/s with concurrent clients, and table/series/dashboard latency with 30,000 results"
SOURCES = ["bench_server.json"]
SOURCE = SOURCES[0]


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


def render() -> str:
    data = load(SOURCE)
    # bench_server.py --out writes one run; the committed file keeps several, one per key
    runs = {"latest": data} if "writes_per_second" in data else {k: v for k, v in data.items() if isinstance(v, dict)}
    body: list[str] = []
    for key, run in runs.items():
        body += run_section(key, run)
    return page(TITLE, SOURCES, body, notes=(data.get("provenance_note", ""),))
