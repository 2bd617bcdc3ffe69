"""What a sentence head reads: the ``[CLS]`` vector (the default) or the mean of the token vectors.

``pooling: mean`` puts the masked mean of the last layer's token vectors where the head reads ``[CLS]``
(position 0 of the sequence output, and a BERT pooler's input), so the transformers head, its loss, its
saved weights and its ONNX graph stay the architecture's own. A small encoder pre-trained without a
sentence objective leaves ``[CLS]`` near constant, while its token vectors carry the sentence (see
``benchmarks/cls_spread.py``); averaging them gives the classifier that signal from the first step.
"""

from typing import Any, Literal, get_args

import torch

from claf.config.errors import ConfigError

Pooling = Literal["cls", "mean"]
POOLINGS = get_args(Pooling)


def masked_mean(hidden: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    """The mean of ``hidden`` (batch, length, width) over the positions ``mask`` keeps (all when None)."""
    tokens = hidden.float()  # summed in fp32 under bf16 autocast too, then given back in the input's dtype
    if mask is None:
        return tokens.mean(1).to(hidden.dtype)
    weights = mask.to(tokens.dtype).unsqueeze(-1)
    return ((tokens * weights).sum(1) / weights.sum(1).clamp(min=1.0)).to(hidden.dtype)


def use_pooling(net: Any, pooling: str) -> str:
    """Make ``net`` (a transformers ``*ForSequenceClassification``) read ``pooling``; returns it."""
    if pooling not in POOLINGS:
        raise ConfigError(f"pooling is {pooling!r}: give one of {', '.join(POOLINGS)}")
    if pooling == "mean" and getattr(net.base_model, "_claf_mean_pooling", None) is None:  # once, however often asked
        net.base_model._claf_mean_pooling = net.base_model.register_forward_hook(_mean_at_cls, with_kwargs=True)
    return pooling


def _mean_at_cls(module: Any, args: tuple, kwargs: dict, output: Any) -> Any:
    hidden = output[0]
    mask = kwargs.get("attention_mask", args[1] if len(args) > 1 else None)
    mean = masked_mean(hidden, mask)
    hidden = torch.cat([mean.unsqueeze(1), hidden[:, 1:]], dim=1)
    output.last_hidden_state = hidden
    pooler = getattr(module, "pooler", None)
    if pooler is not None and getattr(output, "pooler_output", None) is not None:
        output.pooler_output = pooler(hidden)  # BERT's pooler reads position 0 of what it is given
    return output
