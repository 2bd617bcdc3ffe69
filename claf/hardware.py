"""What this machine computes fast, and the one rule that turns ``precision: auto`` into a concrete value.

    CUDA with bf16 support          -> bf16
    other CUDA GPUs                 -> fp16 (with a gradient scaler)
    a CPU with native bf16 (AMX, or AVX512-BF16)  -> bf16
    any other CPU (e.g. AVX2 only)  -> fp32

The CPU rule goes by the flags in /proc/cpuinfo (``amx_bf16``, ``avx512_bf16``): without them bf16
autocast is emulated and several times slower than fp32, so an explicit ``bf16`` there still runs but
logs one warning saying why it is slow. torch is imported only when a question needs it.
"""

import functools
import logging

logger = logging.getLogger(__name__)

PRECISIONS = ("auto", "fp32", "bf16", "fp16")
NATIVE_BF16_FLAGS = ("amx_bf16", "avx512_bf16")


@functools.lru_cache(maxsize=8)
def cpu_bf16_flags(cpuinfo: str = "/proc/cpuinfo") -> frozenset:
    """The CPU's bf16 instruction flags (a subset of NATIVE_BF16_FLAGS); empty when unknown."""
    try:
        with open(cpuinfo, encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.startswith("flags"):
                    return frozenset(line.split(":", 1)[1].split()) & frozenset(NATIVE_BF16_FLAGS)
    except OSError:
        pass
    return frozenset()


def cpu_has_native_bf16(cpuinfo: str = "/proc/cpuinfo") -> bool:
    return bool(cpu_bf16_flags(cpuinfo))


def cuda_available() -> bool:
    import torch

    return torch.cuda.is_available()


def resolve_precision(precision: str, device_type: str | None = None, native_bf16: bool | None = None) -> str:
    """``auto`` -> the precision this device computes fast; an explicit one is kept (warned when slow).

    ``device_type`` defaults to the device a run takes (cuda when there is one); ``native_bf16`` is the
    CPU's bf16 support (None: read from /proc/cpuinfo)."""
    if precision not in PRECISIONS:
        raise ValueError(f"precision '{precision}' is not one of {', '.join(PRECISIONS)}")
    device_type = device_type or ("cuda" if cuda_available() else "cpu")
    if device_type == "cpu" and native_bf16 is None:
        native_bf16 = cpu_has_native_bf16()
    if precision == "auto":
        if device_type == "cuda":
            import torch

            return "bf16" if torch.cuda.is_bf16_supported() else "fp16"
        return "bf16" if native_bf16 else "fp32"
    if precision == "bf16" and device_type == "cpu" and not native_bf16:
        logger.warning(
            "trainer.precision bf16: this CPU has no native bf16 (no amx_bf16/avx512_bf16 flag), so bf16 "
            "is emulated and several times slower than fp32; use --trainer.precision auto or fp32"
        )
    return precision
