"""Learning-rate schedules, stepped once per optimizer step."""

import math

from torch.optim.lr_scheduler import LambdaLR

from claf.registry import LR_SCHEDULERS


def _warmup_steps(total_steps, warmup_proportion, warmup_steps):
    return int(warmup_steps) if warmup_steps is not None else int(total_steps * warmup_proportion)


@LR_SCHEDULERS.register("warmup_linear")
def warmup_linear(optimizer, total_steps, warmup_proportion=0.1, warmup_steps=None):
    warmup = _warmup_steps(total_steps, warmup_proportion, warmup_steps)

    def factor(step):
        if step < warmup:
            return (step + 1) / (warmup + 1)
        return max(0.0, (total_steps - step) / max(1, total_steps - warmup))

    return LambdaLR(optimizer, factor)


@LR_SCHEDULERS.register("warmup_cosine")
def warmup_cosine(optimizer, total_steps, warmup_proportion=0.1, warmup_steps=None):
    warmup = _warmup_steps(total_steps, warmup_proportion, warmup_steps)

    def factor(step):
        if step < warmup:
            return (step + 1) / (warmup + 1)
        progress = (step - warmup) / max(1, total_steps - warmup)
        return 0.5 * (1.0 + math.cos(math.pi * min(1.0, progress)))

    return LambdaLR(optimizer, factor)


@LR_SCHEDULERS.register("warmup_constant")
def warmup_constant(optimizer, total_steps, warmup_proportion=0.1, warmup_steps=None):
    warmup = _warmup_steps(total_steps, warmup_proportion, warmup_steps)
    return LambdaLR(optimizer, lambda step: min(1.0, (step + 1) / (warmup + 1)))


@LR_SCHEDULERS.register("constant")
def constant(optimizer, total_steps):
    return LambdaLR(optimizer, lambda step: 1.0)
