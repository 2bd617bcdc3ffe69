"""Mixed precision: bf16 autocast (CPU and GPU), fp16 autocast + gradient scaler (GPU), or plain fp32.

Parameters, optimizer states and saved checkpoints stay fp32; only the matmuls run in low precision.
"""

import contextlib

import torch

from claf.config.errors import ConfigError

DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16}


def check_precision(precision):
    if precision not in ("fp32", "bf16", "fp16"):
        raise ConfigError(f"trainer.precision '{precision}' is not one of fp32, bf16, fp16")
    if precision == "fp16" and not torch.cuda.is_available():
        raise ConfigError("trainer.precision fp16 needs a CUDA GPU; use bf16 on CPU")


def autocast(precision, device_type=None):
    if precision == "fp32":
        return contextlib.nullcontext()
    device_type = device_type or ("cuda" if torch.cuda.is_available() else "cpu")
    return torch.autocast(device_type=device_type, dtype=DTYPES[precision])


def grad_scaler(precision):
    """fp16 needs its loss scaled so small gradients survive; bf16 and fp32 do not (None)."""
    if precision != "fp16":
        return None
    return torch.amp.GradScaler("cuda")
