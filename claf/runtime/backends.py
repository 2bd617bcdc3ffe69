"""Inference backends: the same task model, its encoder run by PyTorch (fp32, bf16, fp16) or ONNX Runtime.

A backend replaces or casts the transformers model inside a task head (``model.net``), so the
head's decoding, the readers and the evaluator stay the same for every backend:

- ``torch``: fp32 eager PyTorch (on the GPU when there is one);
- ``torch-bf16``: bf16 weights, only where the hardware computes bf16 natively (a CUDA GPU with
  bf16, or a CPU with AVX512-BF16 / AMX); elsewhere a ``BackendError`` says why;
- ``torch-fp16``: fp16 weights on a CUDA GPU;
- ``onnx`` / ``onnx-int8``: the exported graph (``claf.runtime.onnx_export``, made on first use).
"""

import logging
import os
import platform
from pathlib import Path
from types import SimpleNamespace

import torch

from claf.errors import UserError
from claf.extras import require

logger = logging.getLogger(__name__)

BACKENDS = ("torch", "torch-bf16", "torch-fp16", "onnx", "onnx-int8")


class BackendError(UserError):
    """An unknown backend, or one this machine cannot run."""

    exit_code = 2


def cpu_flags() -> set:
    """The CPU feature flags of /proc/cpuinfo (empty where there is none)."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return set()
    for line in text.splitlines():
        if line.startswith(("flags", "Features")):
            return set(line.split(":", 1)[1].split())
    return set()


def native_bf16_cpu(flags=None) -> bool:
    flags = cpu_flags() if flags is None else flags
    return bool({"avx512_bf16", "amx_bf16", "bf16"} & flags)  # x86 AVX512-BF16 / AMX, Arm BF16


def check_backend(name: str) -> None:
    """Fail with the reason when ``name`` is unknown or cannot run on this machine."""
    if name not in BACKENDS:
        raise BackendError(f"--backend {name!r} is not one of {', '.join(BACKENDS)}")
    if name.startswith("onnx"):
        require("serve", f"--backend {name}")
    cuda = torch.cuda.is_available()
    if name == "torch-fp16" and not cuda:
        raise BackendError(
            "--backend torch-fp16 needs a CUDA GPU (CPUs have no fast fp16 matmul); "
            "use onnx-int8, or torch-bf16 where the CPU has AVX512-BF16/AMX"
        )
    if name == "torch-bf16":
        if cuda and not torch.cuda.is_bf16_supported():
            raise BackendError("--backend torch-bf16: this GPU does not compute bf16 natively; use torch-fp16")
        if not cuda and not native_bf16_cpu():
            raise BackendError(
                f"--backend torch-bf16: this CPU ({platform.machine()}) has no native bf16 "
                "(no avx512_bf16/amx_bf16 flag), so bf16 would be emulated and slower than fp32; "
                "use onnx-int8 or torch"
            )


def device() -> torch.device:
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


class OnnxNet(torch.nn.Module):
    """Stands in for a transformers model: ``net(**inputs)`` -> outputs with the same names, from ONNX Runtime."""

    def __init__(self, path, threads=None):
        super().__init__()
        from claf.runtime.onnx_export import session

        self.path = Path(path)
        self.session = session(self.path, threads)
        self.input_names = [i.name for i in self.session.get_inputs()]
        self.output_names = [o.name for o in self.session.get_outputs()]
        # code that asks a model for its device (the evaluator) finds the CPU here
        self.anchor = torch.nn.Parameter(torch.zeros(0), requires_grad=False)

    def forward(self, **inputs):
        feed = {k: inputs[k].cpu().numpy() for k in self.input_names}
        outputs = self.session.run(self.output_names, feed)
        return SimpleNamespace(loss=None, **{k: torch.from_numpy(v) for k, v in zip(self.output_names, outputs)})


def onnx_file(checkpoint, name) -> Path:
    """The exported model for ``onnx`` / ``onnx-int8``; exported (and checked) now when missing or stale."""
    from claf.runtime.onnx_export import export_onnx, find_export

    path = find_export(checkpoint, name)
    if path is None:
        logger.info("%s: no current ONNX export; exporting now", checkpoint)
        export_onnx(checkpoint, quantize="int8" if name == "onnx-int8" else None)
        path = find_export(checkpoint, name)
    return path


def apply_backend(model, checkpoint, name="torch", threads=None):
    """Make ``model`` (a task head, eval mode) run on backend ``name``; returns it."""
    check_backend(name)
    if threads:
        torch.set_num_threads(threads)
    if name.startswith("onnx"):
        if not hasattr(model, "net"):
            raise BackendError(f"--backend {name}: a multi-task model is served with --backend torch only")
        model.net = OnnxNet(onnx_file(checkpoint, name), threads or torch.get_num_threads())
        return model.eval()
    dtype = {"torch": torch.float32, "torch-bf16": torch.bfloat16, "torch-fp16": torch.float16}[name]
    return model.to(device=device(), dtype=dtype).eval()


def environment(threads=None) -> dict:
    """What a speed figure depends on: CPU model and flags, threads, library versions."""
    import transformers

    flags = cpu_flags()
    model = ""
    try:
        model = next(
            (
                line.split(":", 1)[1].strip()
                for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")
            ),
            "",
        )
    except OSError:
        pass
    env = {
        "cpu": model or platform.processor(),
        "machine": platform.machine(),
        "cores": os.cpu_count(),
        "threads": threads or torch.get_num_threads(),
        "cpu_flags": sorted(
            f
            for f in flags
            if f.startswith(("avx", "amx", "sse4", "fma", "f16c")) or f in ("bf16", "i8mm", "asimddp", "sve")
        ),
        "vnni": bool({"avx512_vnni", "avx_vnni", "amx_int8"} & flags),
        "native_bf16": native_bf16_cpu(flags),
        "amx": any(f.startswith("amx") for f in flags),
        "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "python": platform.python_version(),
    }
    try:
        import onnxruntime

        env["onnxruntime"] = onnxruntime.__version__
    except ImportError:
        pass
    try:
        env["loadavg"] = list(os.getloadavg())
    except OSError:
        pass
    return env
