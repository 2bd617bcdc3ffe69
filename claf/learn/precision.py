"""Mixed precision: bf16 autocast (CPU and GPU), fp16 autocast (GPU), or plain fp32."""

import contextlib

import torch

DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16}


def check_precision(precision):
    if precision not in ("fp32", "bf16", "fp16"):
        raise ValueError(f"trainer.precision '{precision}' is not one of fp32, bf16, fp16")
    if precision == "fp16" and not torch.cuda.is_available():
        raise ValueError("trainer.precision fp16 needs a CUDA GPU; use bf16 on CPU")


def autocast(precision, device_type=None):
    if precision == "fp32":
        return contextlib.nullcontext()
    device_type = device_type or ("cuda" if torch.cuda.is_available() else "cpu")
    return torch.autocast(device_type=device_type, dtype=DTYPES[precision])
