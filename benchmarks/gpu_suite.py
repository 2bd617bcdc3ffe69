"""The GPU check (issue 27): fine-tuning, pre-training, serving and the factory, each beside its reference, in
one run of under 8 minutes on one CUDA GPU, written to one JSON file with a printed table.

    python benchmarks/gpu_suite.py --prepare .gpu_carry                     # here: what the GPU machine lacks
    python3 benchmarks/gpu_suite.py --carry .gpu_carry --out gpu_suite.json   # there (docs/gpu.md has the line)
    python benchmarks/gpu_suite.py --dry_run --out /tmp/gpu_suite.json      # a CPU, tiny shapes, the same code

Sections (each a function in benchmarks/gpu_suite_<section>.py, run in this order):
  finetune  SST-2, BERT-base shape (random init) and MiniLM, fp32/bf16/fp16/auto: this framework vs HF Trainer
  pretrain  BERT-base shape, masked LM at length 128, bf16, SDPA (--compile: torch.compile): vs BertForMaskedLM
            + DataCollatorForLanguageModeling; sequences/s, tokens/s, MFU, the GPU's busy share
  serving   claf bench latency's grid: torch, torch-fp16, torch-bf16, ONNX Runtime (CUDA provider; TensorRT when
            present), batch 1-16 x length 32-512 (--post URL: to the benchmark server's speed tab)
  factory   the tiny suite with one worker on the GPU: jobs per minute vs the 2-core CPU run

A section's failure is recorded in its entry (``status: error``) and the next one runs; each has a time cap
after which it starts nothing new (``caps``), with a hard stop a minute later. ``--dry_run`` forces the CPU
(CUDA hidden), 1-2 layer hidden-64 models, a handful of steps and rows; what needs a GPU (fp16, torch-fp16)
is recorded as skipped with the reason.
"""

import argparse
import json
import os
import sys
import tempfile
import time
import traceback
from pathlib import Path

SECTIONS = ("finetune", "pretrain", "serving", "factory")
SCHEMA = "claf.gpu_suite/v1"


def parse(argv):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", help="the JSON file to write (also <out stem>-latency.json/.csv)")
    p.add_argument("--dry_run", action="store_true", help="CPU, tiny shapes, the same code paths")
    p.add_argument("--carry", help="the carried folder (--prepare's output): data.tar.xz, minilm/")
    p.add_argument("--work", help="scratch folder (default: a new temporary one)")
    p.add_argument("--sections", default=",".join(SECTIONS), help="comma list of " + ", ".join(SECTIONS))
    p.add_argument("--post", help="benchmark server URL to post the latency grid to")
    p.add_argument("--compile", action="store_true", help="pre-training: torch.compile the model (slower start)")
    p.add_argument("--serve_onnx_on_cpu", action="store_true", help="time ONNX Runtime's CPU provider if no CUDA one")
    p.add_argument("--train_rows", type=int, help="fine-tuning rows per run (default 6000; dry run 16)")
    p.add_argument("--prepare", metavar="DIR", help="write the carried folder DIR here and exit")
    p.add_argument("--post_latency", metavar="FILE", help="post this latency report to --post URL and exit")
    args = p.parse_args(argv)
    if args.post_latency and not args.post:
        p.error("--post_latency needs --post URL")
    if not (args.prepare or args.post_latency or args.out):
        p.error("--out is required (or --prepare DIR, or --post_latency FILE --post URL)")
    unknown = set(args.sections.split(",")) - set(SECTIONS)
    if unknown:
        p.error(f"--sections: unknown {', '.join(sorted(unknown))}; choose from {', '.join(SECTIONS)}")
    return args


def environment(settings):
    import platform

    import torch
    import transformers
    from provenance import stamp

    env = {
        "device": torch.cuda.get_device_name(0) if settings.device == "cuda" else "cpu",
        "cuda": torch.version.cuda if settings.device == "cuda" else None,
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "python": platform.python_version(),
        "cpu_cores": os.cpu_count(),
        **stamp(),
    }
    try:
        import onnxruntime

        env["onnxruntime"] = onnxruntime.__version__
    except ImportError:
        env["onnxruntime"] = None
    return env


def measure_peaks(settings):
    """TFLOP/s of a square matmul per precision on this device (fp16 on a GPU only); the MFU denominators."""
    from gpu_suite_common import matmul_peak

    names = {"fp32": "float32", "bf16": "bfloat16"}
    if settings.device == "cuda":
        names["fp16"] = "float16"
    return {k: round(matmul_peak(v, settings.device, settings.peak_size), 3) for k, v in names.items()}


def run_section(name, settings, call):
    """Run one section under its cap; its fields, or its error, with status and seconds."""
    from gpu_suite_common import Deadline, hard_cap

    cap = settings.caps.get(name, 120)
    deadline = Deadline(cap)
    start = time.monotonic()
    try:
        with hard_cap(cap + 60):
            result = {"status": "ok", **call(deadline)}
    except BaseException as e:  # noqa: B036 -- a section's failure (even a hard-cap stop) must not end the suite
        if isinstance(e, KeyboardInterrupt):
            raise
        result = {
            "status": "error",
            "error": f"{type(e).__name__}: {e}"[:2000],
            "traceback": traceback.format_exc()[-4000:],
        }
    result.update(seconds=round(time.monotonic() - start, 1), cap_s=cap)
    return result


def write(path, report):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(report, indent=2, default=str) + "\n", encoding="utf-8")
    tmp.replace(path)


def main(argv=None):
    args = parse(argv)
    if args.prepare:
        from gpu_suite_carry import prepare

        return prepare(Path(args.prepare))
    if args.post_latency:  # a report the GPU machine wrote, posted from a machine that reaches the server
        sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
        from claf.serve.latency import post

        return 0 if post(json.loads(Path(args.post_latency).read_text(encoding="utf-8")), args.post) else 1
    if args.dry_run:
        os.environ["CUDA_VISIBLE_DEVICES"] = ""  # the CPU, even on a GPU machine (read when CUDA starts)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    from gpu_suite_common import ROOT, Settings, use_carry

    os.environ.setdefault("CLAF_DATA_MIRROR", str(ROOT.parent / "shared" / "data"))
    import torch

    if not args.dry_run and not torch.cuda.is_available():
        print("error: no CUDA GPU here; on a CPU run with --dry_run", file=sys.stderr)
        return 2
    work = Path(args.work or tempfile.mkdtemp(prefix="gpu_suite_"))
    work.mkdir(parents=True, exist_ok=True)
    slices = use_carry(args.carry, work)
    extra = {"post": args.post, "pt_compile": args.compile}
    if args.serve_onnx_on_cpu:
        extra["sv_onnx_on_cpu"] = True
    if args.train_rows:
        extra["ft_train_rows"] = args.train_rows
    settings = (Settings.dry if args.dry_run else Settings.full)(
        work, Path(args.carry) if args.carry else None, **extra
    )
    began = time.monotonic()
    report = {"schema": SCHEMA, "dry_run": args.dry_run, "device": settings.device, "work": str(work)}
    try:
        report["peaks_tflops"] = peaks = measure_peaks(settings)
    except Exception as e:  # MFU is then left out; the sections still run
        report["peaks_tflops"], peaks = {"error": f"{type(e).__name__}: {e}"}, {}
    report["environment"] = environment(settings)
    report["sections"] = {}
    out_stem = str(Path(args.out).with_suffix(""))
    calls = section_calls(settings, peaks, slices, out_stem)
    chosen = args.sections.split(",")
    for name in SECTIONS:
        if name not in chosen:
            report["sections"][name] = {"status": "skipped", "reason": "not in --sections"}
            continue
        print(f"== {name} (cap {settings.caps[name]} s)", flush=True)
        report["sections"][name] = run_section(name, settings, calls[name])
        report["total_seconds"] = round(time.monotonic() - began, 1)
        write(args.out, report)  # after every section: a killed run keeps what it measured
    report["total_seconds"] = round(time.monotonic() - began, 1)
    write(args.out, report)
    from gpu_suite_table import table

    print(table(report), flush=True)
    print(f"wrote {args.out}")
    return 0


def section_calls(settings, peaks, slices, out_stem):
    def finetune(deadline):
        from gpu_suite_finetune import finetune as run

        return run(settings, deadline, peaks)

    def pretrain(deadline):
        from gpu_suite_pretrain import pretrain as run

        return run(settings, deadline, peaks, slices)

    def serving(deadline):
        from gpu_suite_serve import serving as run

        return run(settings, deadline, out_stem)

    def factory(deadline):
        from gpu_suite_factory import factory as run

        return run(settings, deadline, slices)

    return {"finetune": finetune, "pretrain": pretrain, "serving": serving, "factory": factory}


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    sys.exit(main())
