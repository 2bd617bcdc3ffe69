"""The shapes of what clients send (pydantic): checkpoints, results, benchmark definitions, vocab rows.

Non-finite numbers (NaN, inf) are refused anywhere in a payload, so every stored body is plain JSON;
integer fields stay within 64 bits (``INT64``), which every database column takes.
"""

import math
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from claf.results.digest import canonical, sha256_of  # noqa: F401  (re-exported)

NAME = r"^[A-Za-z0-9][A-Za-z0-9._:/+-]*$"
INT64 = 2**63 - 1  # every integer in a payload fits a database BIGINT (a bigger one is a 422 naming it)


def _finite(value: Any, where: str = "value") -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"{where} must be a finite number, got {value}")
    if isinstance(value, dict):
        for k, v in value.items():
            _finite(v, f"{where}.{k}")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            _finite(v, f"{where}[{i}]")
    return value


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, str_strip_whitespace=True)


class CheckpointIn(Strict):
    """A pre-training checkpoint: ``model`` at ``step``. ``model_options`` come from the pre-training
    config (vocab_size, cased, masking, objective, model_size, ...); ``metrics`` are its held-out
    pre-training figures at this step (e.g. ``{"mlm_loss": 2.31}``)."""

    model: str = Field(min_length=1, max_length=200, pattern=NAME)
    step: int = Field(ge=0, le=INT64)
    name: str | None = Field(default=None, min_length=1, max_length=200, pattern=NAME)
    url: str = Field(default="", max_length=2000)
    sha256: str = Field(default="", pattern=r"^([0-9a-f]{64})?$")
    model_options: dict[str, Any] = Field(default_factory=dict)
    metrics: dict[str, float] = Field(default_factory=dict)
    # a pre-training replica: its model family (the recipe's name) and pre-training seed; absent, the server
    # reads them from a ``<family>-s<seed>`` model name (claf.results.replicas)
    family: str | None = Field(default=None, min_length=1, max_length=200, pattern=NAME)
    pretrain_seed: int | None = Field(default=None, ge=0, le=2**31 - 1)  # an INTEGER column

    @field_validator("model_options")
    @classmethod
    def _options(cls, v):
        return _finite(v, "model_options")

    def resolved_name(self) -> str:
        return self.name or f"{self.model}-{self.step}"

    def body(self) -> dict:
        """What a checksum covers: a payload without replica fields hashes as it always did."""
        return {k: v for k, v in self.model_dump().items() if v is not None or k not in REPLICA_FIELDS}


REPLICA_FIELDS = ("family", "pretrain_seed")


class ExamplesIn(Strict):
    """Per-example predictions of a result: what a bootstrap over examples resamples (``claf.stats``).
    ``references`` are the gold values; ``metrics`` the reader's metric specs that score them."""

    ids: list[str | int] = Field(min_length=1)
    predictions: list[Any]
    references: list[Any]
    metrics: list[Any] = Field(min_length=1)

    @model_validator(mode="after")
    def _aligned(self):
        if not len(self.ids) == len(self.predictions) == len(self.references):
            raise ValueError(
                f"examples: {len(self.ids)} ids, {len(self.predictions)} predictions and "
                f"{len(self.references)} references; give one of each per example"
            )
        return self


class ResultIn(Strict):
    """One fine-tuning result. ``benchmark``/``task`` may be omitted: the server then finds the task
    whose data prefix matches ``config.data_reader.train_file_path``."""

    benchmark: str | None = Field(default=None, max_length=64)
    task: str | None = Field(default=None, max_length=64)
    checkpoint: CheckpointIn
    seed: int = Field(ge=-INT64 - 1, le=INT64)
    metrics: dict[str, float] = Field(min_length=1)
    history: list[dict[str, Any]] = Field(default_factory=list)
    config: dict[str, Any] = Field(default_factory=dict)
    config_hash: str | None = Field(default=None, pattern=r"^[0-9a-f]{8,64}$")
    provenance: dict[str, Any] = Field(default_factory=dict)
    examples: ExamplesIn | None = None

    def body(self) -> dict:
        """What the stored body's checksum covers (a payload without examples hashes as it always did)."""
        body = self.model_dump(exclude={"examples"} if self.examples is None else set())
        return dict(body, checkpoint=self.checkpoint.body())

    @field_validator("history", "config", "provenance")
    @classmethod
    def _plain(cls, v, info):
        return _finite(v, info.field_name)


class TaskSpec(Strict):
    name: str = Field(min_length=1, max_length=64, pattern=NAME)
    title: str = ""
    metric: str = Field(min_length=1, max_length=64)
    higher_is_better: bool = True
    display: list[str] = Field(default_factory=list)
    average_weight: float = Field(default=1.0, ge=0)
    data_prefix: str = ""


class ReferenceSpec(Strict):
    task: str
    label: str = Field(min_length=1, max_length=200)
    metrics: dict[str, float] = Field(min_length=1)
    source: str = ""


class BenchmarkSpec(Strict):
    name: str = Field(min_length=1, max_length=64, pattern=NAME)
    title: str = ""
    description: str = ""
    tasks: list[TaskSpec] = Field(min_length=1)
    references: list[ReferenceSpec] = Field(default_factory=list)


class VocabRow(Strict):
    tokenizer: str = Field(min_length=1, max_length=200)
    vocab_size: int | None = Field(default=None, ge=0, le=INT64)
    hangul_share: float | None = None
    avg_tokens: float | None = None
    unk_ratio: float | None = None
    chars_per_token: float | None = None
    paragraphs: int | None = Field(default=None, ge=0, le=INT64)


class LatencyModelIn(Strict):
    """What was timed: a checkpoint path (or random-model shape) and its size."""

    checkpoint: str = Field(min_length=1, max_length=2000)
    type: str = Field(default="", max_length=64)
    layers: int | None = Field(default=None, ge=0, le=INT64)
    hidden: int | None = Field(default=None, ge=0, le=INT64)
    heads: int | None = Field(default=None, ge=0, le=INT64)
    parameters: int | None = Field(default=None, ge=0, le=INT64)


class LatencyRowIn(Strict):
    """One cell: ``backend`` at ``batch`` x ``length``; times in milliseconds, throughput in sequences/s."""

    backend: str = Field(min_length=1, max_length=32, pattern=NAME)
    batch: int = Field(ge=1, le=INT64)
    length: int = Field(ge=1, le=INT64)
    iterations: int = Field(ge=1, le=INT64)
    avg_ms: float = Field(gt=0)
    p50_ms: float = Field(gt=0)
    p90_ms: float = Field(gt=0)
    p95_ms: float = Field(gt=0)
    p99_ms: float = Field(gt=0)
    throughput: float = Field(gt=0)


LATENCY_COLUMNS = tuple(LatencyRowIn.model_fields)  # a latency row's fields, in CSV column order


class LatencyBudgetIn(Strict):
    """CLaF's row: the longest input ``backend`` answered at ``batch`` with p95 within ``budget_ms``."""

    backend: str = Field(min_length=1, max_length=32, pattern=NAME)
    batch: int = Field(ge=1, le=INT64)
    budget_ms: float = Field(gt=0)
    longest_length: int | None = Field(default=None, ge=1, le=INT64)
    p95_ms: float | None = Field(default=None, gt=0)


class LatencyIn(Strict):
    """A ``claf bench latency`` report (``claf.serve.latency``, schema ``claf.latency/v1``)."""

    schema_: Literal["claf.latency/v1"] = Field(alias="schema")
    created: str = Field(min_length=10, max_length=40)
    model: LatencyModelIn
    environment: dict[str, Any] = Field(default_factory=dict)
    settings: dict[str, Any] = Field(default_factory=dict)
    rows: list[LatencyRowIn] = Field(min_length=1, max_length=10_000)
    budget: list[LatencyBudgetIn] = Field(default_factory=list)

    @field_validator("environment", "settings")
    @classmethod
    def _plain(cls, v, info):
        return _finite(v, info.field_name)

    @model_validator(mode="after")
    def _one_row_per_cell(self):
        seen = set()
        for i, r in enumerate(self.rows):
            cell = (r.backend, r.batch, r.length)
            if cell in seen:
                raise ValueError(f"rows[{i}]: a second row for backend {r.backend} batch {r.batch} length {r.length}")
            seen.add(cell)
        return self

    def run_key(self) -> str:
        """What makes two reports the same run: the model, when it ran, the machine and the settings."""
        return sha256_of(
            {"model": self.model.model_dump(), "created": self.created, "env": self.environment, "set": self.settings}
        )


def config_hash(config: dict) -> str:
    """The hash that tells two fine-tuning configs apart; ``trainer.log_dir`` (where it ran) is left out."""
    trimmed = dict(config)
    if isinstance(trimmed.get("trainer"), dict):
        trimmed["trainer"] = {k: v for k, v in trimmed["trainer"].items() if k != "log_dir"}
    trimmed.pop("benchmark", None)  # where a result is posted does not change it
    return sha256_of(trimmed)
