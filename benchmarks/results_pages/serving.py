"""The serving page: backends' accuracy, the latency grids and the server under load (``serve_speed.json``)."""

from .common import DataError, environment_machine, load, num, page, provenance, ratio, table

PAGE = "serving.md"
TITLE = "Serving speed"
SUMMARY = "backends' accuracy cost, latency by batch x length x backend, the HTTP server under load"
SOURCES = ["serve_speed.json"]
SOURCE = SOURCES[0]


def _load_line(env: dict) -> list[str]:
    before, after = env.get("loadavg_before"), env.get("loadavg_after")
    if not before or not after:
        return []
    return [f"Load average (1 min) {before[0]:.1f} before, {after[0]:.1f} after.", ""]


def _machine(section: dict) -> str | None:
    env = section.get("environment")
    return environment_machine(env) if env else None


def accuracy(data: dict) -> list[str]:
    section, trained = data["accuracy"], data.get("train", {})
    lines = ["## Accuracy cost of each backend", ""]
    lines += provenance(section, SOURCE, "'accuracy'", _machine(section))
    if trained:
        lines += [
            f"The model: MiniLM fine-tuned through `glue/sst2_bert` on {trained['train_rows']:,} SST-2 training rows for "
            f"{trained['epochs']} epoch (dev accuracy {trained['dev_accuracy']:.2f}), by `{trained.get('command', 'not recorded')}`.",
            "",
        ]
    rows = [
        [
            r["backend"],
            f"{r['score']:.2f}",
            "" if r.get("delta") is None else f"{r['delta']:+.2f}",
            "" if r.get("agreement") is None else f"{100 * r['agreement']:.2f}%",
            f"{r['seconds']:.1f}",
        ]
        for r in section["rows"]
    ]
    return lines + table(["backend", "accuracy", "delta vs first", "argmax agreement", "seconds"], rows)


def latency(key: str, section: dict) -> list[str]:
    model, settings = section["model"], section["settings"]
    lines = [f"## Latency: `{key}`", ""]
    lines += provenance(section, SOURCE, f"'{key}'", _machine(section))
    lines += [
        f"Model: {model['type']}, {model['layers']} layers, hidden {model['hidden']}, {model['parameters']:,} parameters "
        f"(`{model['checkpoint']}`). {settings['threads']} thread(s), {settings['warmup']} warm-up calls, "
        f"{settings['rounds']} interleaved rounds, {settings['cell_seconds']} s per cell, "
        f"{settings['min_iterations']}-{settings['max_iterations']} calls. Milliseconds:",
        "",
    ]
    lines += _load_line(section["environment"])
    vs = section.get("p50_vs_torch", {})
    rows = [
        [
            r["backend"],
            r["batch"],
            r["length"],
            r["iterations"],
            num(r["avg_ms"]),
            num(r["p50_ms"]),
            num(r["p90_ms"]),
            num(r["p95_ms"]),
            num(r["p99_ms"]),
            num(r["throughput"], 2),
            ratio(vs.get(f"{r['backend']} b{r['batch']} l{r['length']}")),
        ]
        for r in section["rows"]
    ]
    header = ["backend", "batch", "length", "calls", "avg", "p50", "p90", "p95", "p99", "seq/s", "p50 vs torch"]
    lines += table(header, rows)
    if section.get("budget"):
        lines += ["Longest input answered at batch 1 within the budget (p95):", ""]
        lines += table(
            ["backend", "budget ms", "longest length", "its p95 ms"],
            [
                [b["backend"], num(b["budget_ms"], 0), b["longest_length"] or "none", num(b["p95_ms"])]
                for b in section["budget"]
            ],
        )
    return lines


def _server_rows(rows: list[dict]) -> list[str]:
    header = ["concurrency", "requests", "p50 ms", "p99 ms", "requests/s", "mean batch", "model busy", "client CPU"]
    return table(
        header,
        [
            [
                r["concurrency"],
                r["requests"],
                num(r["p50_ms"]),
                num(r["p99_ms"]),
                num(r["throughput"]),
                num(r.get("mean_batch")),
                "-" if r.get("model_busy") is None else f"{100 * r['model_busy']:.0f}%",
                "-" if r.get("client_cpu_share") is None else f"{100 * r['client_cpu_share']:.0f}%",
            ]
            for r in rows
        ],
    )


def _rates(title: str, rates: dict, unit: str = "/s") -> list[str]:
    return [f"{title}: " + ", ".join(f"{name} {num(v)}{unit}" for name, v in rates.items()) + ".", ""]


def server(key: str, section: dict) -> list[str]:
    lines = [f"## Server under load: `{key}`", ""]
    lines += provenance(section, SOURCE, f"'{key}'", _machine(section))
    if "backend" in section:
        lines += [
            f"`claf serve --backend {section['backend']}`, {section['workers']} worker(s) x "
            f"{section['threads_per_worker']} thread(s), max_batch {section['max_batch']}, "
            f"max_wait_ms {section['max_wait_ms']:g}; the load generator runs on the same cores.",
            "",
        ]
    if section.get("note"):
        lines += [f"Note: {section['note']}.", ""]
    if section.get("environment"):
        lines += _load_line(section["environment"])
    lines += _server_rows(section["server"])
    if section.get("one_at_a_time_per_s"):
        lines += _rates("One request at a time in-process", section["one_at_a_time_per_s"])
    if section.get("pipeline_per_s"):
        lines += _rates("`transformers.pipeline`", section["pipeline_per_s"])
    if section.get("server_c16_vs_one_at_a_time"):
        lines += _rates("Server at concurrency 16 against one at a time", section["server_c16_vs_one_at_a_time"], "x")
    if section.get("server_c16_vs_pipeline"):
        lines += _rates("Server at concurrency 16 against the pipeline", section["server_c16_vs_pipeline"], "x")
    return lines


def wait_ab(section: dict) -> list[str]:
    lines = ["## Server batching wait, A/B: `server_wait_ab`", ""]
    lines += provenance(section, SOURCE, "'server_wait_ab'")
    lines += [f"Note: {section['note']}.", ""]
    for run in section["runs"]:
        config = ", ".join(f"{k} {v}" for k, v in run["config"].items())
        lines += [f"{config} (load average {run['loadavg'][0]:.1f}):", ""]
        lines += _server_rows(run["rows"])
    return lines


def options(key: str, section: dict) -> list[str]:
    lines = [f"## ONNX Runtime session options: `{key}`", ""]
    lines += provenance(section, SOURCE, f"'{key}'")
    vs = section["p50_vs_torch"]
    rows = [[name, num(ms), ratio(vs.get(name)) if name in vs else "1.00x"] for name, ms in section["p50_ms"].items()]
    return lines + table(["session", "p50 ms", "vs torch fp32"], rows)


def probe(section: dict) -> list[str]:
    lines = ["## Inputs per model call: `model_batch_probe`", ""]
    lines += provenance(section, SOURCE, "'model_batch_probe'")
    lines += [f"Note: {section['note']}.", ""]
    rows = [[n, num(v)] for n, v in section["inputs_per_s_by_model_batch"].items()]
    rows.append(["one request at a time", num(section["one_at_a_time_per_s"])])
    return lines + table(["inputs per model call", "inputs/s"], rows)


def render() -> str:
    data = load(SOURCE)
    body: list[str] = []
    if "accuracy" in data:
        body += accuracy(data)
    for key, section in data.items():
        if key in ("accuracy", "train", "provenance_note"):
            continue
        if key.startswith("latency_"):
            body += latency(key, section)
        elif key.startswith("server_") and "server" in section:
            body += server(key, section)
        elif key == "server_wait_ab":
            body += wait_ab(section)
        elif key.startswith("ort_session_options"):
            body += options(key, section)
        elif key == "model_batch_probe":
            body += probe(section)
        else:
            raise DataError(
                f"benchmarks/{SOURCE}: no renderer for section '{key}'; add one to results_pages/serving.py"
            )
    intro = (
        "Each section is one run on a shared machine: compare backends within a run, not across runs. "
        "The load average of the machine is given where the run recorded it."
    )
    return page(TITLE, SOURCES, body, intro, (data.get("provenance_note", ""),))
