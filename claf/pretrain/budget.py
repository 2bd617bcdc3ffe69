"""A time budget for pre-training: ``--trainer.budget_minutes M`` runs the steps that fit in M minutes.

Cramming-style pre-training is given minutes, not steps, and a step takes twice as long on one CPU as on
another. With a budget, the run measures this machine before it trains and then fixes ``max_steps``:

- the minutes count from the start of the replica's run (corpus preparation, this measurement, training,
  evaluations and checkpoints; building the vocab is a command of its own);
- each phase of ``schedule.sequence_length`` is timed over ``MEASURED_STEPS`` optimizer steps of its own
  batches (after ``WARMUP_STEPS`` untimed ones), on a copy of the model and optimizer, so the run itself
  starts from the same weights, data and random state as a run given those steps;
- one checkpoint is timed as well: the held-out evaluation, the exported folder, its archive and the
  trainer's resume state (uploading to a store is not);
- ``max_steps`` is the largest count whose steps and checkpoints fit the minutes left, rounded down to a
  multiple of 100 (10 below 1,000 steps, 1 below 100).

The learning-rate schedule is then an ordinary step schedule, so the run is reproduced with
``--trainer.max_steps N``. The run is not cut off when the machine slows down later: ``budget.json`` in
the run folder records the measurement and the steps, and ``metrics.json`` what the run took. Replicas
(``--seeds``) all run the steps the first one fitted, so their checkpoints share their names' step.
"""

import copy
import json
import logging
import math
import tempfile
import time
from pathlib import Path

import torch

from claf.config.errors import ConfigError

logger = logging.getLogger(__name__)

BUDGET_FILE = "budget.json"
WARMUP_STEPS = 5
MEASURED_STEPS = 50


def phase_ranges(phases):
    """[(first step, end step or None)] of each ``schedule.sequence_length`` phase."""
    out, begin = [], 0
    for i, (until, _length, _batch) in enumerate(phases):
        end = None if i == len(phases) - 1 else until
        out.append((begin, end))
        begin = end if end is not None else begin
    return out


def fit_steps(remaining_seconds, phase_seconds, checkpoint_seconds, save_every):
    """The largest step count (rounded down, see the module doc) whose steps and checkpoints take at most
    ``remaining_seconds``; ``phase_seconds`` is [(first step, end step or None, seconds a step)]."""

    def cost(n):
        steps = sum(max(0, min(n, end if end is not None else n) - begin) * s for begin, end, s in phase_seconds)
        return steps + math.ceil(n / save_every) * checkpoint_seconds

    if cost(1) > remaining_seconds:
        return 0
    low, high = 1, 2
    while cost(high) <= remaining_seconds:
        low, high = high, high * 2
    while high - low > 1:  # cost(low) fits, cost(high) does not
        middle = (low + high) // 2
        low, high = (middle, high) if cost(middle) <= remaining_seconds else (low, middle)
    unit = 100 if low >= 1000 else 10 if low >= 100 else 1
    return low // unit * unit


def measure(model, batches, trainer, dist, make_optimizer, phases, evaluator, tokenizer):
    """Seconds a step of each phase and seconds a checkpoint, on a copy of ``model`` (the run's own model,
    optimizer state and random state are left as they were)."""
    from claf.hub.archive import pack
    from claf.learn.checkpoint import save_last
    from claf.learn.precision import grad_scaler
    from claf.learn.run import rng_state, set_rng_state
    from claf.pretrain.publish import export_checkpoint

    rng = rng_state()
    probe = copy.deepcopy(model)
    probe.train()
    optimizer = make_optimizer(probe)
    net = dist.wrap(probe, trainer.find_unused_parameters)
    scaler = grad_scaler(trainer.precision)
    accumulation = trainer.accumulation
    phase_seconds = []
    for begin, end in phase_ranges(phases):
        index = begin * accumulation
        for step in range(WARMUP_STEPS + MEASURED_STEPS):
            if step == WARMUP_STEPS:
                _synchronize(dist.device)
                dist.barrier()
                started = time.perf_counter()
            window = [batches.micro_batch(index + k) for k in range(accumulation)]
            index += accumulation
            trainer._update(net, probe, window, optimizer, None, scaler, dist)
        _synchronize(dist.device)
        phase_seconds.append((begin, end, (time.perf_counter() - started) / MEASURED_STEPS))
    started = time.perf_counter()
    if evaluator is not None:
        evaluator()
    if dist.is_main:
        with tempfile.TemporaryDirectory() as tmp:
            folder = export_checkpoint(probe.net, tokenizer, Path(tmp) / "probe", {"probe": True})
            pack(folder, Path(tmp) / "probe.tar.gz")
            save_last(Path(tmp) / "last", probe, optimizer, None, scaler, {}, {}, [rng])
    checkpoint_seconds = time.perf_counter() - started
    del net, probe, optimizer
    set_rng_state(rng)
    return phase_seconds, checkpoint_seconds


def _synchronize(device):
    """A GPU runs ahead of the host: wait for its queued work before reading the clock."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def plan_budget(minutes, started, phase_seconds, checkpoint_seconds, save_every, dist):
    """Fit ``max_steps`` into ``minutes`` counted from ``started`` (``time.perf_counter()``, so the time
    ``measure`` took counts too), from ``measure``'s figures: the ``budget.json`` record."""
    # every rank fits the same count from the same figures: the means over the ranks
    figures = [time.perf_counter() - started, checkpoint_seconds, *(s for _b, _e, s in phase_seconds)]
    means = [value / dist.world_size for value in dist.sum(figures)]
    elapsed, checkpoint_seconds = means[0], means[1]
    phase_seconds = [(b, e, s) for (b, e, _s), s in zip(phase_seconds, means[2:])]
    remaining = minutes * 60 - elapsed
    steps = fit_steps(remaining, phase_seconds, checkpoint_seconds, save_every)
    if steps < 1:
        raise ConfigError(
            f"--trainer.budget_minutes {minutes:g}: {elapsed:.0f} s went to preparing and measuring, and one "
            f"step with its checkpoint takes {phase_seconds[0][2] + checkpoint_seconds:.1f} s more on this "
            "machine: give a larger budget, or --trainer.max_steps"
        )
    record = {
        "budget_minutes": minutes,
        "max_steps": steps,
        "seconds_before_training": round(elapsed, 2),
        "seconds_per_step": [{"from_step": b, "until_step": e, "seconds": round(s, 5)} for b, e, s in phase_seconds],
        "seconds_per_checkpoint": round(checkpoint_seconds, 3),
        "measured_steps": MEASURED_STEPS,
        "world_size": dist.world_size,
    }
    logger.info(
        "budget %g min: %d steps fit (%.1f s before training, %s s a step, %.1f s a checkpoint every %d steps)",
        minutes,
        steps,
        elapsed,
        "/".join(f"{s:.4f}" for _b, _e, s in phase_seconds),
        checkpoint_seconds,
        save_every,
    )
    return record


def read_budget(log_dir):
    """The ``budget.json`` record of the run in ``log_dir`` (the steps it fitted), or None without one."""
    path = Path(log_dir) / BUDGET_FILE
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None


def recorded_budget(log_dir, minutes):
    """A resumed budgeted run keeps the steps it fitted: its ``budget.json`` record, whatever this
    machine's speed now."""
    record = read_budget(log_dir)
    if record is None:
        raise ConfigError(
            f"--trainer.budget_minutes {minutes:g}: the run in {log_dir} was not started with a budget "
            f"(no {BUDGET_FILE}); resume it with the --trainer.max_steps its config.json records"
        )
    return record
