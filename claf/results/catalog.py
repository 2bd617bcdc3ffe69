"""Benchmark definitions are data: ``catalog.json`` ships KLUE, GLUE and JGLUE with their tasks
(primary metric, direction, display rule, part in the average, data prefix) and published reference
rows. ``load_catalog`` adds what is missing at server start; ``define_benchmark`` adds or updates one
benchmark (also through ``PUT /api/v1/benchmarks/{name}``). ``migrate(engine)`` brings a results
database up to date: the schema (``claf.db.engine.migrate``), then the catalog."""

import json
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from claf.db import engine as db
from claf.db.tables import Benchmark, Reference, Task
from claf.results.payloads import BenchmarkSpec

CATALOG = Path(__file__).with_name("catalog.json")


def shipped_specs() -> list[BenchmarkSpec]:
    data = json.loads(CATALOG.read_text(encoding="utf-8"))
    return [BenchmarkSpec.model_validate(b) for b in data["benchmarks"]]


def migrate(engine: Engine) -> None:
    """Upgrade the schema to the newest revision, then add the shipped benchmarks that are missing
    (under the migration lock: safe when several servers start at once)."""
    db.migrate(engine, seed=load_catalog)


def load_catalog(session: Session) -> None:
    """Insert the shipped benchmarks that the database does not have yet (existing ones are left as they are)."""
    known = set(session.scalars(select(Benchmark.name)))
    for spec in shipped_specs():
        if spec.name not in known:
            define_benchmark(session, spec)


def define_benchmark(session: Session, spec: BenchmarkSpec) -> tuple[Benchmark, bool]:
    """Add or update a benchmark with its tasks and reference rows -> (row, created).

    Tasks are matched by name: new ones are added, existing ones take the new definition; tasks not
    in ``spec`` stay (results may point at them). A reference naming an unknown task is a ValueError.
    """
    bench = session.scalar(select(Benchmark).where(Benchmark.name == spec.name))
    created = bench is None
    if created:
        bench = Benchmark(name=spec.name)
        session.add(bench)
    bench.title, bench.description = spec.title or spec.name, spec.description
    session.flush()
    tasks = {t.name: t for t in session.scalars(select(Task).where(Task.benchmark_id == bench.id))}
    for position, t in enumerate(spec.tasks):
        row = tasks.get(t.name) or Task(benchmark_id=bench.id, name=t.name)
        row.title, row.metric, row.higher_is_better = t.title or t.name, t.metric, t.higher_is_better
        row.display, row.average_weight = t.display or [t.metric], t.average_weight
        row.data_prefix, row.position = t.data_prefix, position
        session.add(row)
        tasks[t.name] = row
    session.flush()
    for r in spec.references:
        if r.task not in tasks:
            raise ValueError(f"references: '{r.label}' names unknown task '{r.task}'; tasks: {', '.join(tasks)}")
        task_id = tasks[r.task].id
        ref = session.scalar(select(Reference).where(Reference.task_id == task_id, Reference.label == r.label))
        ref = ref or Reference(task_id=task_id, label=r.label)
        ref.metrics, ref.source = dict(r.metrics), r.source
        session.add(ref)
    session.flush()
    return bench, created
