"""``python -m claf bench latency <run dir | checkpoint | bert-base> [options]``: the latency table.

    python -m claf bench latency bert-base --backends torch,onnx,onnx-int8
    python -m claf bench latency logs/glue/sst2_bert --batches 1,8 --lengths 128,512 --output bench/latency

Prints the table (avg, p50, p90, p95, p99, throughput per batch x length x backend, the environment,
the longest input within ``--budget_ms``), writes ``<output>.json`` / ``<output>.csv``, and posts the
JSON to ``$CLAF_SERVER_URL/api/v1/latency`` when a benchmark server is configured (best effort; the token
is ``$CLAF_SERVER_TOKEN`` or the local server's), where the dashboard's speed tab shows it.
"""

import argparse
import os
import sys

from claf.commands.args import Arg, Flag, Spec, dispatch, parse
from claf.commands.common import fail, guarded, setup_logging
from claf.extras import require


def int_list(text):
    try:
        values = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got {text!r}") from None
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError(f"expected positive integers, got {text!r}")
    return values


BACKENDS = "torch, torch-bf16, torch-fp16, onnx, onnx-int8"
SPECS = {
    "latency": Spec(
        "python -m claf bench latency",
        "Latency by batch x length x backend.",
        (
            Arg("model", "a run folder, a checkpoint directory, or a random model shape (bert-tiny, bert-base, ...)"),
            Flag("backends", f"comma list of {BACKENDS} (the first is the reference)", default="torch,onnx,onnx-int8"),
            Flag("batches", "batch sizes (default: claf.serve.latency.BATCHES)", type=int_list, metavar="N,N"),
            Flag("lengths", "input lengths (default: claf.serve.latency.LENGTHS)", type=int_list, metavar="N,N"),
            Flag("threads", "threads for every backend (default: all cores)", type=int),
            Flag("warmup", "warm-up calls per cell", type=int, default=3),
            Flag("rounds", "rounds in which the backends take turns", type=int, default=5),
            Flag("cell_seconds", "time per backend per cell (sets iterations)", type=float, default=2.0),
            Flag("min_iterations", type=int, default=10),
            Flag("max_iterations", type=int, default=300),
            Flag("budget_ms", "time budget of the 'longest input' row", type=float, default=100.0),
            Flag("output", "path stem for .json/.csv (default: <run>/latency or ./latency)"),
            Flag("cache", "where random models are built (default: $CLAF_CACHE/serve)"),
        ),
    ),
    "load": Spec(
        "python -m claf bench load",
        "Start the server on loopback and load it at several concurrencies.",
        (
            Arg("checkpoint", "a run folder or a checkpoint directory"),
            Flag("backend", BACKENDS, default="onnx-int8"),
            Flag("concurrency", "concurrency levels", type=int_list, default=[1, 4, 16, 64], metavar="N,N"),
            Flag("requests", "requests per level (at least 4 x concurrency)", type=int, default=200),
            Flag("max_batch", "see claf serve", type=int, default=16),
            Flag("max_wait_ms", "see claf serve (default: 0 on a CPU)", type=float),
            Flag("workers", "server processes (see claf serve)", type=int, default=1),
            Flag("model_batch", "inputs per model call (see claf serve)", type=int),
            Flag("threads", type=int),
            Flag("input", "JSON lines of inputs (default: the run's validation rows)"),
            Flag("output", "write the rows as JSON here"),
        ),
    ),
}


def latency(argv) -> int:
    args = parse(SPECS["latency"], argv)
    setup_logging()

    def run() -> int:
        require("serve", "claf bench latency")
        from pathlib import Path

        from claf.experiment import find_checkpoint
        from claf.runtime.backends import check_backend
        from claf.serve.latency import BATCHES, LENGTHS, format_table, post, run_latency, save
        from claf.serve.random_model import SHAPES, random_checkpoint

        backends = [b.strip() for b in args.backends.split(",") if b.strip()]
        for backend in backends:
            check_backend(backend)
        if args.model in SHAPES and not Path(args.model).exists():
            from claf.paths import cache_dir

            cache = Path(args.cache) if args.cache else cache_dir() / "serve"
            checkpoint, default_output = random_checkpoint(args.model, cache), Path(f"latency-{args.model}")
        else:
            try:
                checkpoint = find_checkpoint(args.model)
            except FileNotFoundError as e:
                return fail(str(e), 1)
            default_output = checkpoint.parent.parent / "latency"

        def progress(batch, length, p50s):
            shown = ", ".join(f"{k} {v:.1f} ms" for k, v in p50s.items())
            print(f"batch {batch} length {length}: p50 {shown}", file=sys.stderr, flush=True)

        report = run_latency(
            checkpoint,
            backends,
            args.batches or list(BATCHES),
            args.lengths or list(LENGTHS),
            args.threads,
            args.warmup,
            args.rounds,
            args.cell_seconds,
            args.min_iterations,
            args.max_iterations,
            args.budget_ms,
            progress,
        )
        print(format_table(report))
        json_path, csv_path = save(report, args.output or default_output)
        print(f"saved {json_path} and {csv_path}")
        server = os.environ.get("CLAF_SERVER_URL")
        if server and post(report, server):
            print(f"posted to {server.rstrip('/')}/speed")
        return 0

    return guarded(run)


def load(argv) -> int:
    args = parse(SPECS["load"], argv)
    setup_logging()

    def run() -> int:
        require("serve", "claf bench load")
        import json

        from claf.experiment import find_checkpoint
        from claf.runtime.backends import check_backend, environment
        from claf.serve.inputs import validation_records
        from claf.serve.loadtest import format_load, load_test, server_process

        check_backend(args.backend)
        checkpoint = find_checkpoint(args.checkpoint)
        if args.input:
            with open(args.input, encoding="utf-8") as f:
                records = [json.loads(line) for line in f if line.strip()]
        else:
            records = validation_records(checkpoint, limit=1000)
        with server_process(
            checkpoint,
            args.backend,
            args.max_batch,
            args.max_wait_ms,
            args.threads,
            model_batch=args.model_batch,
            workers=args.workers,
        ) as url:
            rows = load_test(url, records, args.concurrency, args.requests)
        print(format_load(rows))
        if args.output:
            from claf.atomic import atomic_write_text

            report = {
                "schema": "claf.load/v1",
                "backend": args.backend,
                "max_batch": args.max_batch,
                "max_wait_ms": args.max_wait_ms,
                "workers": args.workers,
                "environment": environment(args.threads),
                "rows": rows,
            }
            atomic_write_text(args.output, json.dumps(report, indent=2) + "\n")
        return 0

    return guarded(run)


BENCHES = {"latency": latency, "load": load}


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    helps = {"latency": "latency table of a run, checkpoint or random model", "load": "load-test the HTTP server"}
    return dispatch("python -m claf bench", {name: (helps[name], BENCHES[name]) for name in BENCHES}, argv)
