"""Optimizers. Weight decay never applies to biases and LayerNorm weights."""

import torch

from claf.registry import OPTIMIZERS

NO_DECAY = ("bias", "LayerNorm.weight", "layer_norm.weight", "LayerNorm.bias", "layernorm.weight", "norm.weight")


def param_groups(model, weight_decay):
    decay, no_decay = [], []
    for name, param in model.named_parameters():
        if not param.requires_grad:
            continue
        (no_decay if param.ndim < 2 or any(name.endswith(n) for n in NO_DECAY) else decay).append(param)
    return [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]


def can_fuse(model):
    """The fused (one kernel for all parameters) Adam implementation covers CPU and CUDA floats."""
    return all(p.device.type in ("cpu", "cuda") and p.is_floating_point() for p in model.parameters())


@OPTIMIZERS.register("adamw")
def adamw(model, learning_rate, weight_decay=0.01, betas=(0.9, 0.999), eps=1e-8, fused=None):
    fused = can_fuse(model) if fused is None else fused
    return torch.optim.AdamW(
        param_groups(model, weight_decay), lr=learning_rate, betas=tuple(betas), eps=eps, fused=fused or None
    )


@OPTIMIZERS.register("adam")
def adam(model, learning_rate, betas=(0.9, 0.999), eps=1e-8):
    return torch.optim.Adam(model.parameters(), lr=learning_rate, betas=tuple(betas), eps=eps)


@OPTIMIZERS.register("sgd")
def sgd(model, learning_rate, momentum=0.0, weight_decay=0.0):
    return torch.optim.SGD(param_groups(model, weight_decay), lr=learning_rate, momentum=momentum)
