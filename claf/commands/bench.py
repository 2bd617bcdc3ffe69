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


def latency_parser():
    from claf.serve.latency import BATCHES, LENGTHS
    from claf.serve.random_model import SHAPES

    parser = argparse.ArgumentParser(
        prog="python -m claf bench latency", description="Latency by batch x length x backend."
    )
    parser.add_argument(
        "model", help=f"a run folder, a checkpoint directory, or a random model shape ({', '.join(SHAPES)})"
    )
    parser.add_argument(
        "--backends",
        default="torch,onnx,onnx-int8",
        help="comma list of torch, torch-bf16, torch-fp16, onnx, onnx-int8 (the first is the reference)",
    )
    parser.add_argument("--batches", type=int_list, default=list(BATCHES))
    parser.add_argument("--lengths", type=int_list, default=list(LENGTHS))
    parser.add_argument("--threads", type=int, default=None, help="threads for every backend (default: all cores)")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=5, help="rounds in which the backends take turns")
    parser.add_argument("--cell_seconds", type=float, default=2.0, help="time per backend per cell (sets iterations)")
    parser.add_argument("--min_iterations", type=int, default=10)
    parser.add_argument("--max_iterations", type=int, default=300)
    parser.add_argument("--budget_ms", type=float, default=100.0, help="time budget of the 'longest input' row")
    parser.add_argument("--output", default=None, help="path stem for .json/.csv (default: <run>/latency or ./latency)")
    parser.add_argument("--cache", default=None, help="where random models are built (default: $CLAF_CACHE/serve)")
    return parser


def latency(argv) -> int:
    args = latency_parser().parse_args(argv)
    setup_logging()

    def run() -> int:
        require("serve", "claf bench latency")
        from pathlib import Path

        from claf.experiment import find_checkpoint
        from claf.runtime.backends import check_backend
        from claf.serve.latency import format_table, post, run_latency, save
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
            args.batches,
            args.lengths,
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
    parser = argparse.ArgumentParser(
        prog="python -m claf bench load",
        description="Start the server on loopback and load it at several concurrencies.",
    )
    parser.add_argument("checkpoint", help="a run folder or a checkpoint directory")
    parser.add_argument("--backend", default="onnx-int8")
    parser.add_argument("--concurrency", type=int_list, default=[1, 4, 16, 64])
    parser.add_argument("--requests", type=int, default=200, help="requests per level (at least 4 x concurrency)")
    parser.add_argument("--max_batch", type=int, default=16)
    parser.add_argument("--max_wait_ms", type=float, default=None, help="see claf serve (default: 0 on a CPU)")
    parser.add_argument("--workers", type=int, default=1, help="server processes (see claf serve)")
    parser.add_argument("--model_batch", type=int, default=None, help="inputs per model call (see claf serve)")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--input", help="JSON lines of inputs (default: the run's validation rows)")
    parser.add_argument("--output", help="write the rows as JSON here")
    args = parser.parse_args(argv)
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
    if not argv or argv[0] in ("-h", "--help"):
        print(
            "usage: python -m claf bench latency <run dir | checkpoint | bert-base> [options]\n"
            "       python -m claf bench load <run dir | checkpoint> [--backend B] [--concurrency 1,4,16,64]"
        )
        return 0 if argv else 2
    if argv[0] not in BENCHES:
        return fail(f"unknown bench '{argv[0]}'; available: {', '.join(BENCHES)}", 2)
    return BENCHES[argv[0]](argv[1:])
