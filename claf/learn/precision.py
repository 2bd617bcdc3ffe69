"""Mixed precision: bf16 autocast (CPU and GPU), fp16 autocast + gradient scaler (GPU), or plain fp32.

Parameters, optimizer states and saved checkpoints stay fp32; only the matmuls run in low precision.

``auto`` (the shipped default) picks what the hardware computes fast:

    CUDA with bf16 support          -> bf16
    other CUDA GPUs                 -> fp16 (with a gradient scaler)
    a CPU with native bf16 (AMX, or AVX512-BF16)  -> bf16
    any other CPU (e.g. AVX2 only)  -> fp32

The CPU rule goes by the flags in /proc/cpuinfo (``amx_bf16``, ``avx512_bf16``): without them bf16
autocast is emulated and several times slower than fp32, so an explicit ``bf16`` there still runs but
logs one warning saying why it is slow.
"""

import contextlib
import functools
import logging

import torch

from claf.config import ConfigError

logger = logging.getLogger(__name__)

PRECISIONS = ("auto", "fp32", "bf16", "fp16")
DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16}
NATIVE_BF16_FLAGS = ("amx_bf16", "avx512_bf16")


@functools.lru_cache(maxsize=8)
def cpu_bf16_flags(cpuinfo="/proc/cpuinfo"):
    """The CPU's bf16 instruction flags (a subset of NATIVE_BF16_FLAGS); empty when unknown."""
    try:
        with open(cpuinfo, encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.startswith("flags"):
                    return frozenset(line.split(":", 1)[1].split()) & frozenset(NATIVE_BF16_FLAGS)
    except OSError:
        pass
    return frozenset()


def cpu_has_native_bf16(cpuinfo="/proc/cpuinfo"):
    return bool(cpu_bf16_flags(cpuinfo))


def check_precision(precision):
    if precision not in PRECISIONS:
        raise ConfigError(f"--trainer.precision '{precision}' is not one of {', '.join(PRECISIONS)}")
    if precision == "fp16" and not torch.cuda.is_available():
        raise ConfigError("--trainer.precision fp16 needs a CUDA GPU; use auto or bf16 on CPU")


def resolve_precision(precision, device_type=None, native_bf16=None):
    """``auto`` -> the precision this device computes fast; an explicit one is kept (warned when slow).

    ``native_bf16`` is the CPU's bf16 support (None: read from /proc/cpuinfo)."""
    check_precision(precision)
    device_type = device_type or ("cuda" if torch.cuda.is_available() else "cpu")
    if device_type == "cpu" and native_bf16 is None:
        native_bf16 = cpu_has_native_bf16()
    if precision == "auto":
        if device_type == "cuda":
            return "bf16" if torch.cuda.is_bf16_supported() else "fp16"
        return "bf16" if device_type == "cpu" and native_bf16 else "fp32"
    if precision == "bf16" and device_type == "cpu" and not native_bf16:
        _warn_slow_bf16()
    return precision


def _warn_slow_bf16():
    logger.warning(
        "trainer.precision bf16: this CPU has no native bf16 (no amx_bf16/avx512_bf16 flag), so bf16 "
        "is emulated and several times slower than fp32; use --trainer.precision auto or fp32"
    )


def describe_cpu():
    """e.g. 'AVX512, bf16: avx512_bf16' for the run log."""
    flags = ", ".join(sorted(cpu_bf16_flags())) or "none"
    return f"{torch.backends.cpu.get_cpu_capability()}, bf16 flags: {flags}"


def autocast(precision, device_type=None):
    if precision in ("fp32", None):
        return contextlib.nullcontext()
    device_type = device_type or ("cuda" if torch.cuda.is_available() else "cpu")
    if precision == "auto":  # the trainer resolves once (and warns there); evaluators may pass "auto" as is
        precision = resolve_precision(precision, device_type)
    if precision == "fp32":
        return contextlib.nullcontext()
    return torch.autocast(device_type=device_type, dtype=DTYPES[precision])


def grad_scaler(precision):
    """fp16 needs its loss scaled so small gradients survive; bf16 and fp32 do not (None)."""
    if precision != "fp16":
        return None
    return torch.amp.GradScaler("cuda")
