"""``python -m claf serve <run dir or checkpoint> [--backend onnx-int8] [--port 8766]``: HTTP inference.

Requests are micro-batched (``--max_batch`` inputs or ``--max_wait_ms`` after the first); see
``claf.serve.server`` for the endpoints.
"""

import sys

from claf.commands.args import Arg, Flag, Spec, parse
from claf.commands.common import guarded, setup_logging
from claf.extras import require

SPECS = {
    "": Spec(
        "python -m claf serve",
        "Serve a trained model over HTTP.",
        (
            Arg("checkpoint", "a run folder (its checkpoints/best is used) or a checkpoint directory"),
            Flag("backend", "torch, torch-bf16, torch-fp16, onnx, onnx-int8", default="torch"),
            Flag("host", default="127.0.0.1"),
            Flag("port", type=int, default=8766),
            Flag("max_batch", "most inputs in one model call", type=int, default=16),
            Flag(
                "max_wait_ms",
                "longest wait for a batch to fill (default: 0 on a CPU, where requests that arrive while the "
                "model runs form the next batch anyway and waiting only adds latency; 5 on a GPU)",
                type=float,
            ),
            Flag(
                "model_batch",
                "inputs per model call inside a micro-batch, sorted by length so padding stays small "
                "(default: 4 on CPU, where compute grows with padded tokens; max_batch on a GPU)",
                type=int,
            ),
            Flag("threads", "compute threads per worker (default: all cores)", type=int),
            Flag(
                "workers",
                "server processes, each with its own model and batcher (on a CPU: workers x threads <= cores)",
                type=int,
                default=1,
            ),
        ),
    )
}


def main(argv: list[str] | None = None) -> int:
    args = parse(SPECS[""], argv)
    setup_logging()

    def run() -> int:
        require("serve", "claf serve")
        import os

        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")  # the cores are the model's, not a tokenizer pool
        from claf.experiment import find_checkpoint
        from claf.predictor import Predictor
        from claf.serve.server import serve

        checkpoint = find_checkpoint(args.checkpoint)  # a MissingFileError: one line, exit 1 (guarded)
        from claf.runtime.backends import device

        gpu = device().type == "cuda"
        model_batch = args.model_batch or (args.max_batch if gpu else 4)
        max_wait_ms = args.max_wait_ms if args.max_wait_ms is not None else (5.0 if gpu else 0.0)
        if args.workers > 1:
            from claf.runtime.backends import check_backend
            from claf.serve.server import serve_workers

            check_backend(args.backend)
            if args.backend.startswith("onnx"):  # export once here, not in every worker at once
                from claf.runtime.backends import onnx_file

                onnx_file(checkpoint, args.backend)
            print(
                f"serving {checkpoint} ({args.backend}, {args.workers} workers) on http://{args.host}:{args.port}",
                file=sys.stderr,
                flush=True,
            )
            serve_workers(
                args.workers,
                args.host,
                args.port,
                checkpoint=checkpoint,
                backend=args.backend,
                threads=args.threads,
                model_batch=model_batch,
                max_batch=args.max_batch,
                max_wait_ms=max_wait_ms,
            )
            return 0
        predictor = Predictor(checkpoint, batch_size=model_batch, backend=args.backend, threads=args.threads)
        print(f"serving {checkpoint} ({args.backend}) on http://{args.host}:{args.port}", file=sys.stderr, flush=True)
        serve(predictor, args.host, args.port, args.max_batch, max_wait_ms)
        return 0

    return guarded(run)
