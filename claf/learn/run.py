"""Run scaffolding shared by fine-tuning and pre-training.

    run = start_run(spec)                      # trainer from the registry, torchrun group, seed, config.json
    optimizer, scheduler = run.optimizer_and_scheduler(model, total_steps)
    with run.tensorboard() as writer: run.trainer.train(...)

Also the RNG helpers (``set_seed``, ``rng_state``, ``set_rng_state``) that exact resume uses. Config
values were checked when the spec was built (``claf.config.specs``); nothing here checks them again.
"""

import contextlib
import logging
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from claf.config import ConfigError

logger = logging.getLogger(__name__)


# ---- RNG ---------------------------------------------------------------------------
def set_seed(seed: int) -> None:
    import numpy as np
    import torch

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def rng_state() -> dict:
    import numpy as np
    import torch

    state = {"python": random.getstate(), "numpy": np.random.get_state(), "torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict) -> None:
    import numpy as np
    import torch

    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        # one state per device the saving process saw; a machine with fewer devices restores those it has
        for index, device_state in enumerate(state["cuda"][: torch.cuda.device_count()]):
            torch.cuda.set_rng_state(device_state, index)


# ---- checks that need a component ------------------------------------------------------
def check_metric_key(key: str, produced: list[str], where: str = "trainer.metric_key") -> None:
    """``key`` must be one of the scores evaluation reports (``produced``)."""
    if key not in produced:
        raise ConfigError(f"--{where}: '{key}' is not a score this task reports; one of {', '.join(produced)}")


# ---- the run -------------------------------------------------------------------------
@dataclass
class Run:
    cfg: Any  # the run's spec (claf.config.specs)
    trainer: Any  # a registered trainer (claf.learn.trainers)
    dist: Any  # claf.learn.distributed.Distributed
    log_dir: Path

    def optimizer_and_scheduler(self, model: Any, total_steps: int) -> tuple[Any, Any]:
        from claf.registry import LR_SCHEDULERS, OPTIMIZERS

        op = self.cfg.optimizer  # an OptimizerSpec: options checked against the components when the spec was built
        optimizer = OPTIMIZERS.get(op.op_type)(model, op.learning_rate, **op.optimizer_options)
        scheduler = LR_SCHEDULERS.get(op.lr_scheduler_type)(optimizer, total_steps=total_steps, **op.scheduler_options)
        return optimizer, scheduler

    def write_config(self, resolved: dict | None = None) -> None:
        """``<log_dir>/config.json`` on rank 0: the frozen config (+ the resolved checkpoint record)."""
        if self.dist.is_main:
            from claf.atomic import atomic_write_text
            from claf.learn.run_folder import run_config_json

            atomic_write_text(self.log_dir / "config.json", run_config_json(self.cfg, resolved))

    def tensorboard(self) -> Any:
        """A tensorboardX writer on rank 0 (a null context elsewhere)."""
        if not self.dist.is_main:
            return contextlib.nullcontext()
        from tensorboardX import SummaryWriter

        return SummaryWriter(str(self.log_dir / "tensorboard"))


def start_run(cfg: Any, trainer_options: Any = None) -> Run:
    """Trainer from the registry, the run-folder check, the torchrun process group and the seed.

    ``cfg`` is the recipe's spec; ``trainer_options`` its trainer block (a ``TrainerSpec``; default
    ``cfg.trainer``). A folder that already holds a run is refused (every rank, before any writes)
    unless ``trainer.resume`` or ``trainer.overwrite``; the caller then writes ``config.json``.
    """
    from claf.learn.distributed import Distributed
    from claf.learn.run_folder import check_run_folder
    from claf.registry import TRAINERS

    options = cfg.trainer if trainer_options is None else trainer_options
    trainer = TRAINERS.get(options.name)(options)
    log_dir = Path(options.log_dir)
    check_run_folder(log_dir, options.resume, options.overwrite)
    dist = Distributed.from_env(num_threads=options.num_threads)  # torchrun: join the process group
    set_seed(cfg.seed_num)
    return Run(cfg, trainer, dist, log_dir)
