"""Mixed precision: bf16 autocast (CPU and GPU), fp16 autocast + gradient scaler (GPU), or plain fp32.

Parameters, optimizer states and saved checkpoints stay fp32; only the matmuls run in low precision.
The precision here is always concrete (fp32, bf16 or fp16): the spec resolves ``auto`` once for this
machine (``TrainerSpec.run_precision``, by the rule in ``claf.hardware``), and the trainer, the
evaluators and export all take that value.
"""

import contextlib

import torch

from claf.hardware import NATIVE_BF16_FLAGS, PRECISIONS, cpu_bf16_flags, cpu_has_native_bf16, resolve_precision

DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16}

__all__ = [
    "DTYPES",
    "NATIVE_BF16_FLAGS",
    "PRECISIONS",
    "autocast",
    "cpu_bf16_flags",
    "cpu_has_native_bf16",
    "describe_cpu",
    "grad_scaler",
    "resolve_precision",
]


def describe_cpu():
    """e.g. 'AVX512, bf16: avx512_bf16' for the run log."""
    flags = ", ".join(sorted(cpu_bf16_flags())) or "none"
    return f"{torch.backends.cpu.get_cpu_capability()}, bf16 flags: {flags}"


def autocast(precision, device_type=None):
    """The autocast context of a concrete precision (fp32: none)."""
    if precision in ("fp32", None):
        return contextlib.nullcontext()
    if precision not in DTYPES:
        raise ValueError(f"autocast takes a resolved precision (fp32, bf16, fp16), not {precision!r}")
    device_type = device_type or ("cuda" if torch.cuda.is_available() else "cpu")
    return torch.autocast(device_type=device_type, dtype=DTYPES[precision])


def grad_scaler(precision):
    """fp16 needs its loss scaled so small gradients survive; bf16 and fp32 do not (None)."""
    if precision != "fp16":
        return None
    return torch.amp.GradScaler("cuda")
