"""Blocks every training recipe shares: the trainer and the optimizer.

``TrainerSpec`` is the trainer's one options object: the registered trainer takes it whole. Its
``precision`` is what the recipe asks for (``auto`` stays ``auto`` in config.json, so the recipe
runs anywhere); ``run_precision`` is the concrete value for this machine, resolved once.
"""

from functools import cached_property
from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, ValidationInfo, field_validator, model_validator

from claf.config.specs.base import Block, fail
from claf.config.specs.options import check_chosen

PositiveInt = Annotated[int, Field(ge=1)]
Precision = Literal["auto", "fp32", "bf16", "fp16"]


class TrainerSpec(Block):
    """The trainer block (``trainer.*``); defaults are the trainer's defaults."""

    model_config = ConfigDict(frozen=True, extra="forbid", ignored_types=(cached_property,))

    name: str = "default"
    log_dir: str
    num_epochs: PositiveInt = 3
    max_steps: PositiveInt | None = None
    metric_key: str = "loss"
    metric_mode: Literal["auto", "min", "max"] = "auto"
    early_stopping_threshold: Annotated[int, Field(ge=0)] | None = None
    verbose_step_count: Annotated[int, Field(ge=0)] = 100  # 0: no step logs
    eval_and_save_step_count: Literal["epoch"] | PositiveInt = "epoch"
    gradient_accumulation_steps: PositiveInt = 1
    # examples per optimizer step on any world size: accumulation is derived per run (elastic resume)
    global_batch_size: PositiveInt | None = None
    max_grad_norm: Annotated[float, Field(ge=0)] | None = 1.0
    precision: Precision = "auto"
    progress: bool = True
    resume: bool | str | None = None  # true: <log_dir>/checkpoints/last; or a path to a ``last`` folder
    overwrite: bool = False
    save_last: bool = True
    num_threads: PositiveInt | None = None
    find_unused_parameters: bool = False
    step_log: bool = False  # <log_dir>/step_log.jsonl: the example ids of every optimizer step

    @field_validator("eval_and_save_step_count", mode="before")
    @classmethod
    def _steps_from_text(cls, value: Any) -> Any:
        return int(value) if isinstance(value, str) and value.isdigit() else value

    @field_validator("precision")
    @classmethod
    def _precision_on_this_machine(cls, value: str) -> str:
        if value == "fp16":
            from claf.hardware import cuda_available

            if not cuda_available():
                raise fail("", "fp16 needs a CUDA GPU; use auto (bf16 where the CPU computes it natively) or bf16")
        return value

    @field_validator("name")
    @classmethod
    def _known_trainer(cls, value: str) -> str:
        from claf.registry import TRAINERS, RegistryError

        try:
            TRAINERS.get(value)
        except RegistryError as e:
            raise fail("", str(e)) from None
        return value

    @model_validator(mode="after")
    def _one_batch_rule(self) -> "TrainerSpec":
        if self.global_batch_size and self.gradient_accumulation_steps > 1:
            raise fail(
                "gradient_accumulation_steps",
                "leave it at 1 with global_batch_size: the accumulation is derived from the world size",
            )
        return self

    @cached_property
    def run_precision(self) -> str:
        """``precision`` made concrete for this machine (auto -> bf16, fp16 or fp32), resolved once."""
        from claf.hardware import resolve_precision

        return resolve_precision(self.precision)

    def steps_per_epoch(self, num_batches: int, accumulation: int | None = None) -> int:
        return -(-num_batches // (accumulation or self.gradient_accumulation_steps))

    def total_steps(self, num_batches: int, accumulation: int | None = None) -> int:
        """Optimizer steps of the run, from the micro-batches per epoch (on one rank)."""
        total = self.steps_per_epoch(num_batches, accumulation) * self.num_epochs
        return min(total, self.max_steps) if self.max_steps else total


class OptimizerSpec(Block):
    """``optimizer``: ``op_type`` and ``lr_scheduler_type`` name registered components whose options
    are the blocks of the same name (``optimizer.adamw``, ``optimizer.warmup_linear``)."""

    model_config = ConfigDict(frozen=True, extra="allow")

    op_type: str = "adamw"
    learning_rate: Annotated[float, Field(gt=0)]
    lr_scheduler_type: str = "warmup_linear"

    @model_validator(mode="after")
    def _components(self, info: ValidationInfo) -> "OptimizerSpec":
        extra = self.__pydantic_extra__ or {}
        chosen = {
            self.op_type: ("OPTIMIZERS", "op_type"),
            self.lr_scheduler_type: ("LR_SCHEDULERS", "lr_scheduler_type"),
        }
        import claf.registry as registries

        for key in extra:  # a block of another optimizer or scheduler stays (inactive) after a switch
            if key not in chosen and key not in registries.OPTIMIZERS and key not in registries.LR_SCHEDULERS:
                raise fail(
                    key,
                    f"unknown key; the options blocks here are named after op_type ({self.op_type}) "
                    f"and lr_scheduler_type ({self.lr_scheduler_type})",
                )
        for name, (registry, selector) in chosen.items():
            check_chosen(self, registry, name, name, selector, info)
        return self

    @property
    def optimizer_options(self) -> dict:
        return self._options_of(self.op_type)

    @property
    def scheduler_options(self) -> dict:
        return self._options_of(self.lr_scheduler_type)
