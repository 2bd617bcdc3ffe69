"""Every table of the database (SQLAlchemy 2 declarative): results, latency, the factory's jobs, the
notification outbox, the server's API tokens. Alembic's environment imports this module alone and so sees them all.

Benchmarks and tasks are rows, not code (see ``claf.results.catalog``). To add a table: declare it
here, then add an Alembic revision under
``claf/db/migrations/versions/`` whose ``down_revision`` is the current head; servers apply it at start.
"""

import time
from datetime import datetime, timezone

from sqlalchemy import JSON, Boolean, DateTime, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def utcnow():
    return datetime.now(timezone.utc)


class Base(DeclarativeBase):
    type_annotation_map = {dict: JSON, list: JSON}


class Benchmark(Base):
    __tablename__ = "benchmarks"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[str] = mapped_column(String(200), default="")
    description: Mapped[str] = mapped_column(Text, default="")


class Task(Base):
    """One task of a benchmark: its primary metric, direction, display rule and part in the average."""

    __tablename__ = "tasks"
    __table_args__ = (UniqueConstraint("benchmark_id", "name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    benchmark_id: Mapped[int] = mapped_column(ForeignKey("benchmarks.id"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(200), default="")
    metric: Mapped[str] = mapped_column(String(64))  # primary metric key, e.g. "f1"
    higher_is_better: Mapped[bool] = mapped_column(Boolean, default=True)
    display: Mapped[list] = mapped_column(default=list)  # metric keys shown joined by "/", e.g. ["f1", "accuracy"]
    average_weight: Mapped[float] = mapped_column(Float, default=1.0)  # 0 = not in the benchmark average
    data_prefix: Mapped[str] = mapped_column(String(200), default="")  # train_file_path prefix that means this task
    position: Mapped[int] = mapped_column(Integer, default=0)


class Model(Base):
    """A pre-trained model family; its options come from the pre-training config."""

    __tablename__ = "models"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    options: Mapped[dict] = mapped_column(default=dict)  # vocab_size, cased, masking, objective, model_size...
    family: Mapped[str | None] = mapped_column(String(200), nullable=True, index=True)  # replicas share it
    pretrain_seed: Mapped[int | None] = mapped_column(Integer, nullable=True)  # the replica's pre-training seed


class Checkpoint(Base):
    __tablename__ = "checkpoints"
    __table_args__ = (UniqueConstraint("model_id", "step"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    model_id: Mapped[int] = mapped_column(ForeignKey("models.id"), index=True)
    step: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    url: Mapped[str] = mapped_column(Text, default="")
    sha256: Mapped[str] = mapped_column(String(64), default="")
    metrics: Mapped[dict] = mapped_column(default=dict)  # pre-training held-out metrics at this step (mlm loss...)
    body_sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Result(Base):
    """One fine-tuning result: one per (checkpoint, task, seed, config hash)."""

    __tablename__ = "results"
    __table_args__ = (
        UniqueConstraint("checkpoint_id", "task_id", "seed", "config_hash"),
        Index("ix_results_cover", "task_id", "checkpoint_id", "score"),
    )  # the table read, index-only
    id: Mapped[int] = mapped_column(primary_key=True)
    checkpoint_id: Mapped[int] = mapped_column(ForeignKey("checkpoints.id"), index=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id"), index=True)
    seed: Mapped[int] = mapped_column(Integer)
    config_hash: Mapped[str] = mapped_column(String(64))
    score: Mapped[float] = mapped_column(Float)  # the task's primary metric, copied out of metrics
    metrics: Mapped[dict] = mapped_column(default=dict)
    history: Mapped[list] = mapped_column(default=list)  # Metric Logs history
    config: Mapped[dict] = mapped_column(default=dict)  # the frozen config
    provenance: Mapped[dict] = mapped_column(
        default=dict
    )  # claf revision, torch/transformers, device, threads, wall time
    examples: Mapped[dict | None] = mapped_column(default=None, nullable=True)  # per-example predictions and golds
    body_sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Reference(Base):
    """A published number (MISSION.md); shown in italics, never counted as best."""

    __tablename__ = "references"
    __table_args__ = (UniqueConstraint("task_id", "label"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id"), index=True)
    label: Mapped[str] = mapped_column(String(200))  # e.g. "mBERT cased (CLaF report)"
    metrics: Mapped[dict] = mapped_column(default=dict)
    source: Mapped[str] = mapped_column(Text, default="")


class VocabReport(Base):
    """One row of the vocab benchmark (``claf vocab bench``): a tokenizer and its figures."""

    __tablename__ = "vocab_reports"
    id: Mapped[int] = mapped_column(primary_key=True)
    tokenizer: Mapped[str] = mapped_column(String(200), unique=True)
    figures: Mapped[dict] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class LatencyRun(Base):
    """One ``claf bench latency`` report (schema ``claf.latency/v1``): a model timed on one machine.

    ``run_key`` tells runs apart (the model, when it ran, the environment and the settings); the
    same run posted again with other figures is a conflict. Its rows are ``LatencyRow``.
    """

    __tablename__ = "latency_runs"
    id: Mapped[int] = mapped_column(primary_key=True)
    run_key: Mapped[str] = mapped_column(String(64), unique=True)
    model: Mapped[str] = mapped_column(Text)  # the checkpoint path or random-model shape that was timed
    created: Mapped[str] = mapped_column(String(40))  # when the benchmark ran (the report's own time)
    model_info: Mapped[dict] = mapped_column(default=dict)  # type, layers, hidden, heads, parameters
    environment: Mapped[dict] = mapped_column(default=dict)  # cpu, flags, threads, versions, load
    settings: Mapped[dict] = mapped_column(default=dict)  # backends, grid, warmup, rounds, iterations
    budget: Mapped[list] = mapped_column(default=list)  # the "longest input within a time budget" rows
    body_sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class LatencyRow(Base):
    """One cell of a latency table: a backend at one batch size and sequence length."""

    __tablename__ = "latency_rows"
    __table_args__ = (UniqueConstraint("run_id", "backend", "batch", "length"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("latency_runs.id"), index=True)
    backend: Mapped[str] = mapped_column(String(32))
    batch: Mapped[int] = mapped_column(Integer)
    length: Mapped[int] = mapped_column(Integer)
    iterations: Mapped[int] = mapped_column(Integer)
    avg_ms: Mapped[float] = mapped_column(Float)
    p50_ms: Mapped[float] = mapped_column(Float)
    p90_ms: Mapped[float] = mapped_column(Float)
    p95_ms: Mapped[float] = mapped_column(Float)
    p99_ms: Mapped[float] = mapped_column(Float)
    throughput: Mapped[float] = mapped_column(Float)  # sequences per second


class Job(Base):
    """One factory job (``claf.queue.jobs``): a checkpoint x task x seed x config, with its lease."""

    __tablename__ = "factory_jobs"
    __table_args__ = (UniqueConstraint("checkpoint_sha256", "task", "seed", "config_hash"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    recipe: Mapped[str] = mapped_column(String(200), index=True)
    benchmark: Mapped[str] = mapped_column(String(64))
    task: Mapped[str] = mapped_column(String(64))
    seed: Mapped[int] = mapped_column(Integer)
    config_hash: Mapped[str] = mapped_column(String(64))
    checkpoint: Mapped[str] = mapped_column(String(200))
    checkpoint_sha256: Mapped[str] = mapped_column(String(64))
    model: Mapped[str] = mapped_column(String(200))
    step: Mapped[int] = mapped_column(Integer)  # ordering: newest checkpoint first (random init: -1)
    cost: Mapped[float] = mapped_column(Float, default=1.0)  # ordering: cheap tasks first
    spec: Mapped[dict] = mapped_column(default=dict)  # what the runner needs: base_config, overrides, source...
    state: Mapped[str] = mapped_column(String(16), default="queued", index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, default=3)
    oom_retries: Mapped[int] = mapped_column(Integer, default=0)
    lease_owner: Mapped[str | None] = mapped_column(String(200), nullable=True)
    lease_token: Mapped[str | None] = mapped_column(String(100), nullable=True)  # the API token that claimed it
    lease_expires: Mapped[float | None] = mapped_column(Float, nullable=True)  # epoch seconds
    heartbeat_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    result_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    score: Mapped[float | None] = mapped_column(Float, nullable=True)
    error: Mapped[str] = mapped_column(Text, default="")
    log_tail: Mapped[str] = mapped_column(Text, default="")
    wall_time: Mapped[float | None] = mapped_column(Float, nullable=True)
    created_at: Mapped[float] = mapped_column(Float, default=time.time)
    finished_at: Mapped[float | None] = mapped_column(Float, nullable=True)


class Notice(Base):
    """One Slack message in the outbox (``claf.notify.slack``)."""

    __tablename__ = "notifications"
    id: Mapped[int] = mapped_column(primary_key=True)
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    channel: Mapped[str] = mapped_column(String(100))  # env var name holding the webhook URL
    message: Mapped[dict] = mapped_column(default=dict)  # {"text", "blocks"}
    state: Mapped[str] = mapped_column(String(16), default="pending", index=True)  # pending, sent, dropped
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[float] = mapped_column(Float, default=0.0)
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[float] = mapped_column(Float, default=time.time)
    sent_at: Mapped[float | None] = mapped_column(Float, nullable=True)


class ApiToken(Base):
    """A server token (``claf.server.tokens``): a name, its scopes and the sha256 of its secret; never the secret."""

    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    scopes: Mapped[list] = mapped_column(default=list)  # e.g. ["worker"], ["read", "write:results"]
    secret_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
