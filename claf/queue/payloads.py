"""The shapes pull workers and the factory send to the queue's routes (pydantic): a 422 names the field.

Every job field is typed and bounded like its database column, so a bad job is refused before it is
stored (not when a worker takes it, nor as a database error).
"""

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from claf.results.payloads import INT64

Int64 = Field(ge=-INT64 - 1, le=INT64)


class Shape(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class Claim(Shape):
    worker: str = Field(min_length=1, max_length=200)
    lease_seconds: float = Field(default=120.0, gt=0, le=86400)
    recipe: str | None = Field(default=None, max_length=200)
    single: bool = False  # the worker runs one job at a time: a retried claim gets the job it holds


class Release(Shape):
    worker: str = Field(min_length=1, max_length=200)


class Requeue(Shape):
    """Which failed jobs to queue again: a recipe's, optionally only checkpoints matching a glob."""

    recipe: str = Field(min_length=1, max_length=200)
    checkpoint: str | None = Field(default=None, min_length=1, max_length=200)


class Outcome(Shape):
    """How a job ended: ``ok`` with the ``result`` payload, or the ``error`` (``oom``: out of memory)."""

    ok: bool = False
    result: dict[str, Any] | None = None
    error: str = Field(default="", max_length=100_000)
    log_tail: str = Field(default="", max_length=100_000)
    oom: bool = False
    wall_time: float | None = Field(default=None, ge=0)


class Finish(Shape):
    worker: str = Field(min_length=1, max_length=200)
    outcome: Outcome


class JobIn(Shape):
    """One job of ``claf.factory.recipe.expand``."""

    recipe: str = Field(min_length=1, max_length=200)
    benchmark: str = Field(min_length=1, max_length=64)
    task: str = Field(min_length=1, max_length=64)
    seed: int = Int64
    config_hash: str = Field(min_length=1, max_length=64)
    checkpoint: str = Field(min_length=1, max_length=200)
    checkpoint_sha256: str = Field(max_length=64)
    model: str = Field(min_length=1, max_length=200)
    step: int = Int64
    cost: float = Field(default=1.0, ge=0)
    spec: dict[str, Any] = Field(default_factory=dict)
    max_attempts: int = Field(default=3, ge=1, le=1000)


class Enqueue(Shape):
    jobs: list[JobIn] = Field(max_length=100_000)


class NoticeIn(Shape):
    dedupe_key: str = Field(min_length=1, max_length=200)
    channel: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    message: dict[str, Any]
