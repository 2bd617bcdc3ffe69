"""Serving section of benchmarks/gpu_suite.py: ``claf bench latency``'s grid (claf.serve.latency.run_latency) on
a random BERT-base-shaped classifier, for every backend this machine can run (torch, torch-fp16, torch-bf16,
ONNX Runtime with its CUDA provider) and, when onnxruntime has it, TensorRT at batch 1 x length 128. The
report is saved beside the suite's JSON and, with ``--post URL``, posted to the benchmark server."""

import os
from pathlib import Path

from gpu_suite_common import skipped

CANDIDATES = ("torch", "torch-fp16", "torch-bf16", "onnx")
TRT_CELLS = ((1, 128),)


def runnable(settings):
    """backend -> None when it runs here, else why not."""
    from claf.errors import UserError
    from claf.runtime.backends import check_backend

    reasons = {}
    for name in CANDIDATES:
        try:
            check_backend(name)
            reasons[name] = None
        except UserError as e:
            reasons[name] = str(e)
    if reasons["onnx"] is None:
        import onnxruntime as ort

        providers = ort.get_available_providers()
        if "CUDAExecutionProvider" not in providers and not settings.sv_onnx_on_cpu:
            reasons["onnx"] = (
                f"onnxruntime {ort.__version__} has no CUDAExecutionProvider (providers: {', '.join(providers)}); "
                "carry an onnxruntime-gpu wheel, or pass --serve_onnx_on_cpu to time the CPU provider"
            )
    return reasons


def tensorrt(checkpoint, settings, lengths):
    """p50/p95 of ONNX Runtime's TensorRT provider (fp16) on a few cells, or why it did not run."""
    import onnxruntime as ort
    import torch

    from claf.runtime.backends import OnnxNet, onnx_file
    from claf.serve.latency import make_inputs, summarize, time_cell

    providers = ort.get_available_providers()
    if "TensorrtExecutionProvider" not in providers:
        return skipped(
            f"onnxruntime {ort.__version__} has no TensorrtExecutionProvider (providers: {', '.join(providers)})"
        )
    net = OnnxNet(onnx_file(checkpoint, "onnx"))
    trt = ("TensorrtExecutionProvider", {"trt_fp16_enable": True})
    net.session = ort.InferenceSession(str(net.path), providers=[trt, "CUDAExecutionProvider"])
    rows = []
    for batch, length in TRT_CELLS:
        if length not in lengths:
            continue
        inputs = make_inputs(batch, length, 30522, net.input_names, "cpu")
        with torch.inference_mode():
            times = time_cell({"onnx-tensorrt": net}, {"onnx-tensorrt": inputs}, 3, 1, 1.0, 10, 100)
        rows.append(
            {"backend": "onnx-tensorrt", "batch": batch, "length": length, **summarize(times["onnx-tensorrt"], batch)}
        )
    return {"rows": rows}


def serving(settings, deadline, out_stem):
    from claf.serve.latency import format_table, post, run_latency, save
    from claf.serve.random_model import random_checkpoint

    checkpoint = random_checkpoint(settings.sv_shape, Path(settings.work) / "serve")
    reasons = runnable(settings)
    backends = [name for name, reason in reasons.items() if reason is None]
    report = run_latency(
        checkpoint,
        backends,
        list(settings.sv_batches),
        list(settings.sv_lengths),
        warmup=3,
        rounds=3,
        cell_seconds=settings.sv_cell_seconds,
        min_iterations=3,
        max_iterations=settings.sv_max_iterations,
    )
    print(format_table(report), flush=True)
    json_path, _csv = save(report, f"{out_stem}-latency")  # save() sets the suffix: no dot in the stem
    posted = None
    if settings.post:
        os.environ.setdefault("CLAF_SERVER_URL", settings.post)
        posted = post(report, settings.post)
    trt = tensorrt(checkpoint, settings, settings.sv_lengths) if not deadline.over() else skipped("time cap reached")
    cell = {(r["backend"], r["batch"], r["length"]): r for r in report["rows"]}
    anchor = {b: round(cell[(b, 1, 128)]["p50_ms"], 3) for b in backends if (b, 1, 128) in cell}
    return {
        "model": report["model"],
        "gpu": report["environment"].get("gpu"),
        "backends": {name: ({"ran": True} if reason is None else skipped(reason)) for name, reason in reasons.items()},
        "onnx_providers": _providers(),
        "tensorrt": trt,
        "batch1_length128_p50_ms": anchor,
        "rows": [
            {k: (round(v, 3) if isinstance(v, float) else v) for k, v in r.items() if k in ROW_KEYS}
            for r in report["rows"]
        ],
        "report": str(json_path),
        "posted": posted,
    }


ROW_KEYS = ("backend", "batch", "length", "iterations", "p50_ms", "p95_ms", "avg_ms", "throughput")


def _providers():
    try:
        import onnxruntime as ort

        return ort.get_available_providers()
    except ImportError:
        return []
