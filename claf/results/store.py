"""Writes to the benchmark database: idempotent puts of checkpoints, results and vocab rows.

A put is keyed (checkpoint: model + step; result: checkpoint, task, seed, config hash). The same key
with the same body again returns the stored row (``created`` False); a different body for the same
key raises ``Conflict``. Every put is one transaction and safe under concurrent writers (a unique-key
race is retried). Reads live in ``claf.results.queries``.
"""

import weakref

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from claf.db.engine import write_session
from claf.db.tables import Benchmark, Checkpoint, Model, Result, Task, VocabReport
from claf.errors import UserError
from claf.results.catalog import define_benchmark
from claf.results.payloads import BenchmarkSpec, CheckpointIn, ResultIn, VocabRow, config_hash, sha256_of


class NotFound(UserError):
    """An unknown benchmark, task, result...; the message lists the known ones."""


class Conflict(UserError):
    """The key exists with a different body."""


class BadParameter(UserError, ValueError):
    """A read's query parameter with a value it does not take; the message names the parameter."""


def _retrying(factory: sessionmaker, work):
    """Run ``work(session)`` in a write transaction; a lost unique-key race or a busy database is retried."""
    for attempt in range(5):
        try:
            with write_session(factory) as session:
                return work(session)
        except (IntegrityError, OperationalError):
            if attempt == 4:
                raise


def find_task(session: Session, benchmark: str | None, task: str | None, config: dict | None = None) -> Task:
    """The task named ``benchmark``/``task``; without names, the one whose data prefix matches the
    config's ``data_reader.train_file_path``. Raises NotFound listing the known names."""
    if benchmark is None and task is None:
        path = str(((config or {}).get("data_reader") or {}).get("train_file_path") or "")
        tasks = [t for t in session.scalars(select(Task)) if t.data_prefix and path.startswith(t.data_prefix)]
        if len(tasks) == 1:
            return tasks[0]
        raise NotFound(
            f"no single task matches train_file_path '{path}'; give 'benchmark' and 'task' "
            f"(a 'benchmark' block in the config)"
        )
    bench = find_benchmark(session, benchmark)
    row = session.scalar(select(Task).where(Task.benchmark_id == bench.id, Task.name == task))
    if row is None:
        names = session.scalars(select(Task.name).where(Task.benchmark_id == bench.id).order_by(Task.position))
        raise NotFound(f"unknown task '{task}' in benchmark '{bench.name}'; known tasks: {', '.join(names)}")
    return row


def find_benchmark(session: Session, name: str | None) -> Benchmark:
    bench = session.scalar(select(Benchmark).where(Benchmark.name == name)) if name else None
    if bench is None:
        names = session.scalars(select(Benchmark.name).order_by(Benchmark.name))
        raise NotFound(f"unknown benchmark '{name}'; known benchmarks: {', '.join(names)}")
    return bench


def _model(session: Session, ck: CheckpointIn) -> Model:
    from claf.results.replicas import identity

    name, options = ck.model, ck.model_options
    model = session.scalar(select(Model).where(Model.name == name))
    if model is None:
        family, seed = identity(name, ck.family, ck.pretrain_seed)
        model = Model(name=name, options=dict(options), family=family, pretrain_seed=seed)
        session.add(model)
        session.flush()
        return model
    given = {"family": ck.family, "pretrain_seed": ck.pretrain_seed}
    for key, value in given.items():
        if value is not None and getattr(model, key) not in (None, value):
            raise Conflict(f"model '{name}' has {key} {getattr(model, key)!r}, not {value!r}")
        if value is not None:
            setattr(model, key, value)
    if options and options != model.options:
        if model.options and any(model.options.get(k) != v for k, v in options.items() if k in model.options):
            raise Conflict(f"model '{name}' already has options {model.options}, not {options}")
        model.options = {**model.options, **options}
    return model


def _added_metrics(have: dict, given: dict) -> dict | None:
    """``have`` with the figures of ``given`` it lacks; None when there are none, or when ``given`` has
    another value for a figure ``have`` holds (that is a different checkpoint body, a conflict)."""
    if any(k in have and have[k] != v for k, v in given.items()) or set(given) <= set(have):
        return None
    return {**have, **given}


def _checkpoint(session: Session, ck: CheckpointIn, strict: bool) -> tuple[Checkpoint, bool]:
    body = sha256_of(ck.body())
    model = _model(session, ck)
    row = session.scalar(select(Checkpoint).where(Checkpoint.model_id == model.id, Checkpoint.step == ck.step))
    taken = None if row is not None else session.scalar(select(Checkpoint).where(Checkpoint.name == ck.resolved_name()))
    if taken is not None and (taken.model_id, taken.step) == (model.id, ck.step):
        row, taken = taken, None  # committed by a concurrent writer between the two reads: the same checkpoint
    if row is not None:
        merged = _added_metrics(row.metrics or {}, ck.metrics)
        if merged is not None and (ck.url, ck.sha256) in ((row.url, row.sha256), ("", "")):
            row.metrics, row.body_sha256 = merged, body  # figures that arrive after the checkpoint
            return row, False
        if strict and row.body_sha256 != body:
            raise Conflict(
                f"checkpoint {ck.model} step {ck.step} exists with a different body "
                f"(name '{row.name}', sha256 '{row.sha256}')"
            )
        return row, False
    if taken is not None:  # names are unique: another (model, step) has it
        owner = session.get(Model, taken.model_id)
        raise Conflict(
            f"name: checkpoint name '{taken.name}' is taken by model '{owner.name if owner else '?'}' "
            f"step {taken.step}; give this one another name"
        )
    row = Checkpoint(
        model_id=model.id,
        step=ck.step,
        name=ck.resolved_name(),
        url=ck.url,
        sha256=ck.sha256,
        metrics=dict(ck.metrics),
        body_sha256=body,
    )
    session.add(row)
    session.flush()
    return row, True


def put_checkpoint(factory: sessionmaker, ck: CheckpointIn) -> tuple[dict, bool]:
    """Store a checkpoint (model created on first sight) -> (its JSON, created)."""

    def work(session):
        row, created = _checkpoint(session, ck, strict=True)
        return {"id": row.id, "model": ck.model, "step": row.step, "name": row.name}, created

    return _retrying(factory, work)


class _Lookups:
    """Per-process caches of what a write looks up: task by name (refreshed every few seconds, since
    definitions may change) and checkpoint id by (model, step) (rows are never deleted)."""

    TTL = 10.0

    def __init__(self):
        self.tasks, self.checkpoints = {}, {}

    def task(self, session, benchmark, task, config):
        import time

        key = (benchmark, task)
        hit = self.tasks.get(key) if benchmark and task else None
        if hit and time.monotonic() - hit[0] < self.TTL:
            return hit[1]
        row = find_task(session, benchmark, task, config)
        bench = session.get(Benchmark, row.benchmark_id)
        value = (row.id, row.name, row.metric, bench.name)
        if benchmark and task:
            self.tasks[key] = (time.monotonic(), value)
        return value


_LOOKUPS = weakref.WeakKeyDictionary()  # one cache per session factory (per database)


def put_result(factory: sessionmaker, result: ResultIn) -> tuple[dict, bool]:
    """Store a result -> ({"id", "benchmark", "task", "config_hash", ...}, created).

    Its checkpoint is created when unknown (a result may arrive before its checkpoint's POST).
    Raises NotFound (benchmark/task), Conflict (same key, different body), ValueError (bad payload).
    """
    chash = config_hash(result.config) if result.config else (result.config_hash or "")
    if result.config and result.config_hash and result.config_hash != chash:
        raise ValueError(f"config_hash: '{result.config_hash}' does not match the config's hash '{chash}'")
    if not chash:
        raise ValueError("config: a result needs its frozen 'config' (or at least a 'config_hash')")
    body = sha256_of(result.body())
    ck_in = result.checkpoint
    cache = _LOOKUPS.setdefault(factory, _Lookups())

    def lookup(session):
        task_id, task_name, metric, bench_name = cache.task(session, result.benchmark, result.task, result.config)
        if metric not in result.metrics:
            raise ValueError(
                f"metrics: no '{metric}', the primary metric of task '{task_name}' "
                f"(got {', '.join(sorted(result.metrics))})"
            )
        ck = cache.checkpoints.get((ck_in.model, ck_in.step))
        if ck is None:  # cached only once committed (see below): a rolled-back row must not stay cached
            row, _ = _checkpoint(session, ck_in, strict=False)
            ck = (row.id, row.name)
        return task_id, task_name, metric, bench_name, ck

    def answer(row, task_name, bench_name, ck_name):
        return {
            "id": row.id,
            "benchmark": bench_name,
            "task": task_name,
            "checkpoint": ck_name,
            "seed": row.seed,
            "config_hash": chash,
        }

    def insert(session):  # the common case: a new key, one INSERT
        task_id, task_name, metric, bench_name, (ck_id, ck_name) = lookup(session)
        row = Result(
            checkpoint_id=ck_id,
            task_id=task_id,
            seed=result.seed,
            config_hash=chash,
            score=result.metrics[metric],
            metrics=dict(result.metrics),
            history=result.history,
            config=result.config,
            provenance=result.provenance,
            examples=result.examples.model_dump() if result.examples is not None else None,
            body_sha256=body,
        )
        session.add(row)
        session.flush()
        return answer(row, task_name, bench_name, ck_name), True, (ck_id, ck_name)

    def existing(session):  # the key is taken: the same body is a no-op, a different one a conflict
        task_id, task_name, _metric, bench_name, (ck_id, ck_name) = lookup(session)
        row = session.scalar(
            select(Result).where(
                Result.checkpoint_id == ck_id,
                Result.task_id == task_id,
                Result.seed == result.seed,
                Result.config_hash == chash,
            )
        )
        if row is None:
            return None
        if row.body_sha256 != body:
            raise Conflict(
                f"a result for checkpoint '{ck_name}', task '{task_name}', seed {result.seed}, "
                f"config {chash[:12]} exists (id {row.id}) with a different body"
            )
        return answer(row, task_name, bench_name, ck_name), False

    for _attempt in range(5):
        try:
            with write_session(factory) as session:
                stored, created, ck = insert(session)
            cache.checkpoints[(ck_in.model, ck_in.step)] = ck
            return stored, created
        except IntegrityError:
            pass  # the key exists (or a model/checkpoint was created concurrently): look again
        except OperationalError:
            if _attempt == 4:
                raise  # the database is away: the server answers 503 and the client retries
            continue
        with factory() as session:
            found = existing(session)
        if found is not None:
            return found
    raise RuntimeError("could not store the result after 5 attempts")


def put_benchmark(factory: sessionmaker, spec: BenchmarkSpec) -> tuple[dict, bool]:
    def work(session):
        bench, created = define_benchmark(session, spec)
        return {"name": bench.name, "tasks": [t.name for t in spec.tasks]}, created

    return _retrying(factory, work)


def put_vocab_rows(factory: sessionmaker, rows: list[VocabRow]) -> int:
    """Store vocab-benchmark rows (one per tokenizer; a newer row replaces the older) -> count."""

    def work(session):
        for r in rows:
            row = session.scalar(select(VocabReport).where(VocabReport.tokenizer == r.tokenizer))
            row = row or VocabReport(tokenizer=r.tokenizer)
            row.figures = r.model_dump(exclude={"tokenizer"}, exclude_none=True)
            session.add(row)
        return len(rows)

    return _retrying(factory, work)
