"""Latency benchmark: batch x sequence length x backend, the same thread count for every backend.

Method: every backend is warmed up on a cell's input, then the backends take turns in rounds
(the order rotates each round) so drift in machine load hits them alike; each call is timed on
its own. Reported per cell: avg, p50, p90, p95, p99 (ms) and throughput (sequences/s), plus the
environment (CPU flags, threads, versions) and, per backend, the longest input answered at batch 1
within a time budget (p95).

JSON schema ``claf.latency/v1``: {"schema", "created", "model": {...}, "environment": {...},
"settings": {...}, "rows": [{"backend", "batch", "length", "iterations", "avg_ms", "p50_ms",
"p90_ms", "p95_ms", "p99_ms", "throughput"}], "budget": [{"backend", "batch", "budget_ms",
"longest_length", "p95_ms"}]}; the CSV holds the rows.
"""

import csv
import io
import json
import logging
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import torch

from claf.results.payloads import LATENCY_COLUMNS

logger = logging.getLogger(__name__)

SCHEMA = "claf.latency/v1"
BATCHES = (1, 2, 4, 8, 16)
LENGTHS = (32, 64, 128, 256, 512)
COLUMNS = LATENCY_COLUMNS  # the benchmark server's latency row, so the CSV and the server agree


def load_nets(checkpoint, backends, threads):
    """backend -> the encoder callable (``net(**inputs)``) of the checkpoint's task head on that backend."""
    from claf.models.task_file import read_task_file
    from claf.registry import MODELS
    from claf.runtime.backends import apply_backend

    meta = read_task_file(checkpoint)["model"]
    nets = {}
    for backend in backends:
        head = MODELS.get(meta["name"])(pretrained_model_name=checkpoint, **meta["options"]).eval()
        nets[backend] = apply_backend(head, checkpoint, backend, threads).net
    return nets


def make_inputs(batch, length, vocab_size, input_names, device, seed=0):
    generator = torch.Generator().manual_seed(seed + 1000 * batch + length)
    ids = torch.randint(5, vocab_size, (batch, length), generator=generator)
    values = {"input_ids": ids, "attention_mask": torch.ones_like(ids), "token_type_ids": torch.zeros_like(ids)}
    return {k: values[k].to(device) for k in input_names}


def summarize(times_ms, batch) -> dict:
    t = np.asarray(times_ms)
    avg = float(t.mean())
    return {
        "iterations": len(t),
        "avg_ms": avg,
        "p50_ms": float(np.percentile(t, 50)),
        "p90_ms": float(np.percentile(t, 90)),
        "p95_ms": float(np.percentile(t, 95)),
        "p99_ms": float(np.percentile(t, 99)),
        "throughput": batch * 1000.0 / avg,
    }


def time_cell(nets, inputs, warmup, rounds, cell_seconds, min_iterations, max_iterations):
    """backend -> list of per-call milliseconds for one (batch, length) cell."""
    names = list(nets)
    per_call = {}
    with torch.inference_mode():
        for name in names:
            start = time.perf_counter()
            for _ in range(warmup):
                nets[name](**inputs[name])
            per_call[name] = (time.perf_counter() - start) / max(warmup, 1)
        slowest = max(per_call.values())  # every backend runs the same number of calls
        total = int(min(max_iterations, max(min_iterations, cell_seconds / max(slowest, 1e-6))))
        rounds = max(1, min(rounds, total))
        per_round = -(-total // rounds)
        times = {name: [] for name in names}
        for r in range(rounds):
            for name in names[r % len(names) :] + names[: r % len(names)]:
                net, feed = nets[name], inputs[name]
                for _ in range(per_round):
                    start = time.perf_counter_ns()
                    net(**feed)
                    if feed["input_ids"].is_cuda:
                        torch.cuda.synchronize()
                    times[name].append((time.perf_counter_ns() - start) / 1e6)
    return times


def run_latency(
    checkpoint,
    backends,
    batches=BATCHES,
    lengths=LENGTHS,
    threads=None,
    warmup=3,
    rounds=5,
    cell_seconds=2.0,
    min_iterations=10,
    max_iterations=300,
    budget_ms=100.0,
    progress=None,
) -> dict:
    from transformers import AutoConfig

    from claf.runtime.backends import device, environment

    threads = threads or torch.get_num_threads()
    torch.set_num_threads(threads)
    config = AutoConfig.from_pretrained(str(checkpoint))
    nets = load_nets(checkpoint, backends, threads)
    from claf.tokens.pipeline import load_tokenizer

    input_names = [
        k
        for k in ("input_ids", "token_type_ids", "attention_mask")
        if k in load_tokenizer(checkpoint).model_input_names
    ]
    rows = []
    for length in lengths:
        if length > config.max_position_embeddings:
            logger.warning("length %d > the model's %d positions: skipped", length, config.max_position_embeddings)
            continue
        for batch in batches:
            inputs = {
                name: make_inputs(
                    batch, length, config.vocab_size, input_names, "cpu" if name.startswith("onnx") else device()
                )
                for name in nets
            }
            times = time_cell(nets, inputs, warmup, rounds, cell_seconds, min_iterations, max_iterations)
            for name in backends:
                rows.append({"backend": name, "batch": batch, "length": length, **summarize(times[name], batch)})
            if progress:
                progress(batch, length, {n: rows[-len(backends) + i]["p50_ms"] for i, n in enumerate(backends)})
    params = sum(p.numel() for p in nets[backends[0]].parameters()) if backends[0].startswith("torch") else None
    return {
        "schema": SCHEMA,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "model": {
            "checkpoint": str(checkpoint),
            "type": config.model_type,
            "layers": config.num_hidden_layers,
            "hidden": config.hidden_size,
            "heads": config.num_attention_heads,
            "parameters": params,
        },
        "environment": environment(threads),
        "settings": {
            "backends": list(backends),
            "batches": list(batches),
            "lengths": list(lengths),
            "threads": threads,
            "warmup": warmup,
            "rounds": rounds,
            "cell_seconds": cell_seconds,
            "min_iterations": min_iterations,
            "max_iterations": max_iterations,
            "interleaved": True,
        },
        "rows": rows,
        "budget": longest_within(rows, budget_ms),
    }


def longest_within(rows, budget_ms, batch=1) -> list[dict]:
    """CLaF's row: per backend, the longest input length answered at ``batch`` with p95 <= the budget."""
    out = []
    for backend in dict.fromkeys(r["backend"] for r in rows):
        mine = sorted((r for r in rows if r["backend"] == backend and r["batch"] == batch), key=lambda r: r["length"])
        ok = [r for r in mine if r["p95_ms"] <= budget_ms]
        out.append(
            {
                "backend": backend,
                "batch": batch,
                "budget_ms": budget_ms,
                "longest_length": ok[-1]["length"] if ok else None,
                "p95_ms": ok[-1]["p95_ms"] if ok else None,
            }
        )
    return out


def format_table(report) -> str:
    """Per backend, one line per (batch, length) as in the talk's appendix, with p50 relative to the first."""
    rows, backends = report["rows"], report["settings"]["backends"]
    base = {(r["batch"], r["length"]): r["p50_ms"] for r in rows if r["backend"] == backends[0]}
    env = report["environment"]
    model = report["model"]
    lines = [
        (
            f"model {model['type']} {model['layers']} layers, hidden {model['hidden']}; {env['cpu']}; "
            f"threads {env['threads']}; vnni {env['vnni']}, native bf16 {env['native_bf16']}, amx {env['amx']}; "
            f"load {env.get('loadavg')}"
        )
    ]
    head = (
        f"{'backend':<11}{'batch':>6}{'length':>7}{'avg ms':>9}{'p50':>9}{'p90':>9}{'p95':>9}{'p99':>9}"
        f"{'seq/s':>9}{'p50 vs ' + backends[0]:>16}"
    )
    lines.append(head)
    for backend in backends:
        for r in (r for r in rows if r["backend"] == backend):
            ratio = r["p50_ms"] / base[(r["batch"], r["length"])]
            lines.append(
                f"{backend:<11}{r['batch']:>6}{r['length']:>7}{r['avg_ms']:>9.2f}{r['p50_ms']:>9.2f}"
                f"{r['p90_ms']:>9.2f}{r['p95_ms']:>9.2f}{r['p99_ms']:>9.2f}{r['throughput']:>9.1f}"
                f"{ratio:>15.2f}x"
            )
    for b in report["budget"]:
        longest = b["longest_length"] if b["longest_length"] is not None else "none"
        lines.append(f"longest input within {b['budget_ms']:g} ms (p95, batch {b['batch']}): {b['backend']}: {longest}")
    return "\n".join(lines)


def to_csv(report) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerows(report["rows"])
    return buffer.getvalue()


def save(report, output) -> tuple[Path, Path]:
    from claf.atomic import atomic_write_text

    output = Path(output)
    json_path, csv_path = output.with_suffix(".json"), output.with_suffix(".csv")
    atomic_write_text(json_path, json.dumps(report, indent=2) + "\n")
    atomic_write_text(csv_path, to_csv(report))
    return json_path, csv_path


def post(report, server_url, token=None, timeout=10.0) -> bool:
    """POST the report to ``<server>/api/v1/latency`` (token: ``CLAF_SERVER_TOKEN`` or the local
    server's); best effort: a failure or refusal is logged, never raised."""
    from claf.results.client import BenchClient, ServerUnreachable

    client = BenchClient(server_url, token=token, timeout=timeout)
    try:
        status, body = client.post_latency(report)
    except ServerUnreachable as e:  # the benchmark's result is on disk; the dashboard is optional
        logger.warning("could not post the latency table: %s", e)
        return False
    if status not in (200, 201):
        logger.warning("the benchmark server refused the latency table (HTTP %s): %s", status, body)
        return False
    logger.info("latency table posted to %s (run %s)", client.url, body.get("id") if isinstance(body, dict) else "?")
    return True
