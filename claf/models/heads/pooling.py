"""What a sentence head reads: the ``[CLS]`` vector (the default), the mean of the token vectors, or how the
two sentences of a pair agree.

``pooling: mean`` puts the masked mean of the last layer's token vectors where the head reads ``[CLS]``
(position 0 of the sequence output, and a BERT pooler's input), so the transformers head, its loss, its
saved weights and its ONNX graph stay the architecture's own. A small encoder pre-trained without a
sentence objective leaves ``[CLS]`` near constant, while its token vectors carry the sentence (see
``benchmarks/cls_spread.py``); averaging them gives the classifier that signal from the first step.

``pooling: pair`` is for two-sentence tasks (STS, paraphrase, NLI). It takes the masked mean of each
segment's token vectors (segment A: token type 0, with ``[CLS]`` and the first ``[SEP]``; segment B: type
1), scales each to length ``sqrt(width)``, and gives the classifier their elementwise product, whose mean is
the cosine of the two means. The product goes straight to the classifier (a BERT pooler's tanh, trained on
next-sentence prediction, would bend the cosine the classifier can otherwise read off as a straight sum), and
to position 0 for heads that read it there. A row with no segment B reads as a pair of itself. The encoder
still reads both sentences together, so the two means have attended to each other.
"""

from typing import Any, Literal, get_args

import torch

from claf.config.errors import ConfigError

Pooling = Literal["cls", "mean", "pair"]
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
    if pooling == "pair" and getattr(net.config, "type_vocab_size", 1) < 2:
        raise ConfigError(
            f"pooling pair needs segment ids, and a {net.config.model_type} config has type_vocab_size "
            f"{getattr(net.config, 'type_vocab_size', None)}: use pooling mean for this checkpoint"
        )
    base = net.base_model
    kind, handle = getattr(base, "_claf_pooling", ("cls", None))
    if kind == pooling:  # one hook, however often asked
        return pooling
    if handle is not None:
        handle.remove()
    hook = {"mean": _mean_at_cls, "pair": _pair_at_cls}.get(pooling)
    base._claf_pooling = (pooling, hook and base.register_forward_hook(hook, with_kwargs=True))
    return pooling


def _argument(args: tuple, kwargs: dict, name: str, position: int) -> Any:
    return kwargs[name] if name in kwargs else (args[position] if len(args) > position else None)


def pair_features(hidden: torch.Tensor, mask: torch.Tensor | None, types: torch.Tensor | None) -> torch.Tensor:
    """(batch, width): the product of the two segments' token means, each scaled to length sqrt(width), so
    a row's mean is the cosine of the two means. Computed in fp32, given back in ``hidden``'s dtype."""
    keep = torch.ones(hidden.shape[:2], device=hidden.device) if mask is None else mask.float()
    second = torch.zeros_like(keep) if types is None else types.float() * keep
    a = masked_mean(hidden.float(), keep - second)
    b = masked_mean(hidden.float(), second)
    b = torch.where(second.sum(1, keepdim=True) > 0, b, a)  # one segment: a pair of itself
    scale = hidden.shape[-1] ** 0.5
    unit = lambda x: torch.nn.functional.normalize(x, dim=-1) * scale  # noqa: E731
    return (unit(a) * unit(b)).to(hidden.dtype)


def _mean_at_cls(module: Any, args: tuple, kwargs: dict, output: Any) -> Any:
    hidden = output[0]
    mean = masked_mean(hidden, _argument(args, kwargs, "attention_mask", 1))
    hidden = torch.cat([mean.unsqueeze(1), hidden[:, 1:]], dim=1)
    output.last_hidden_state = hidden
    pooler = getattr(module, "pooler", None)
    if pooler is not None and getattr(output, "pooler_output", None) is not None:
        output.pooler_output = pooler(hidden)  # BERT's pooler reads position 0 of what it is given
    return output


def _pair_at_cls(module: Any, args: tuple, kwargs: dict, output: Any) -> Any:
    hidden = output[0]
    mask, types = _argument(args, kwargs, "attention_mask", 1), _argument(args, kwargs, "token_type_ids", 2)
    features = pair_features(hidden, mask, types)
    output.last_hidden_state = torch.cat([features.unsqueeze(1), hidden[:, 1:]], dim=1)
    if getattr(output, "pooler_output", None) is not None:
        output.pooler_output = features
    return output
