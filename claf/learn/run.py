"""Run scaffolding shared by fine-tuning and pre-training.

    run = start_run(cfg, trainer_options)      # trainer from the registry, torchrun group, seed, config.json
    optimizer, scheduler = run.optimizer_and_scheduler(model, total_steps)
    with run.tensorboard() as writer: run.trainer.train(...)

Also the fail-fast checks of a frozen config (component names, values) and the RNG helpers
(``set_seed``, ``rng_state``, ``set_rng_state``) that exact resume uses.
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
        torch.cuda.set_rng_state_all(state["cuda"])


# ---- fail-fast checks ----------------------------------------------------------------
def check_names(cfg: Any) -> None:
    """A component name no registry knows fails before any data or model is loaded."""
    from claf.registry import LR_SCHEDULERS, MODELS, OPTIMIZERS, READERS, TRAINERS, RegistryError, import_plugins

    import_plugins(cfg.plugins)
    checks = [("trainer.name", TRAINERS, cfg.trainer.name)]
    if "data_reader" in cfg:
        checks += [("data_reader.dataset", READERS, cfg.data_reader.dataset), ("model.name", MODELS, cfg.model.name)]
    if "optimizer" in cfg:
        checks += [
            ("optimizer.op_type", OPTIMIZERS, cfg.optimizer.op_type),
            ("optimizer.lr_scheduler_type", LR_SCHEDULERS, cfg.optimizer.lr_scheduler_type),
        ]
    for key, registry, name in checks:
        try:
            registry.get(name)
        except RegistryError as e:
            raise ConfigError(f"--{key}: {e}") from None


def check_values(cfg: Any) -> None:
    """Values that cannot work fail before any data loads, naming the key."""
    t = cfg.trainer
    from claf.learn.precision import check_precision  # the one list of precisions

    if "precision" in t:  # omitted: the trainer's own default (auto)
        check_precision(t.precision)
    step = t.get("eval_and_save_step_count", "epoch")
    if isinstance(step, str) and step.isdigit():
        step = int(step)
    if step != "epoch" and not (isinstance(step, int) and not isinstance(step, bool) and step > 0):
        raise ConfigError(
            f"--trainer.eval_and_save_step_count: expected 'epoch' or a positive number of steps, got {step!r}"
        )
    for key in ("num_epochs", "max_steps", "gradient_accumulation_steps"):
        _positive(t.get(key), f"trainer.{key}")
    _positive(t.get("verbose_step_count"), "trainer.verbose_step_count", minimum=0)  # 0: no step logs
    for key in ("train_limit", "valid_limit"):
        if "data_reader" in cfg:
            _positive(cfg.data_reader.get(key), f"data_reader.{key}")
    if "iterator" in cfg:
        _positive(cfg.iterator.get("batch_size"), "iterator.batch_size")
        _positive(cfg.iterator.get("eval_batch_size"), "iterator.eval_batch_size")


def _positive(value: Any, key: str, minimum: int = 1) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        what = "a positive whole number" if minimum == 1 else f"a whole number >= {minimum}"
        raise ConfigError(f"--{key}: expected {what} (or null), got {value!r}")


def check_metric_key(key: str, produced: list[str], where: str = "trainer.metric_key") -> None:
    """``key`` must be one of the scores evaluation reports (``produced``)."""
    if key not in produced:
        raise ConfigError(f"--{where}: '{key}' is not a score this task reports; one of {', '.join(produced)}")


# ---- the run -------------------------------------------------------------------------
@dataclass
class Run:
    cfg: Any  # the FrozenConfig of the run
    trainer: Any  # a registered trainer (claf.learn.trainers)
    dist: Any  # claf.learn.distributed.Distributed
    log_dir: Path

    def optimizer_and_scheduler(self, model: Any, total_steps: int) -> tuple[Any, Any]:
        from claf.registry import LR_SCHEDULERS, OPTIMIZERS

        op = self.cfg.optimizer
        optimizer = OPTIMIZERS.get(op.op_type)(model, op.learning_rate, **dict(op.get(op.op_type, {})))
        scheduler = LR_SCHEDULERS.get(op.lr_scheduler_type)(
            optimizer, total_steps=total_steps, **dict(op.get(op.lr_scheduler_type, {}))
        )
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


def start_run(cfg: Any, trainer_options: dict) -> Run:
    """Trainer from the registry, the run-folder check, the torchrun process group and the seed.

    A folder that already holds a run is refused (every rank, before any writes) unless
    ``trainer.resume`` or ``trainer.overwrite``; the caller then writes ``config.json`` (``write_config``).
    """
    from claf.learn.distributed import Distributed
    from claf.learn.run_folder import check_run_folder
    from claf.registry import TRAINERS

    options = dict(trainer_options)
    trainer = TRAINERS.get(options.pop("name", "default"))(**options)
    log_dir = Path(cfg.trainer.log_dir)
    check_run_folder(log_dir, trainer.resume, trainer.overwrite)
    dist = Distributed.from_env(num_threads=trainer.num_threads)  # torchrun: join the process group
    set_seed(cfg.seed_num)
    return Run(cfg, trainer, dist, log_dir)
