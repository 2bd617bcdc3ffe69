"""Latency reports (``claf bench latency``, schema ``claf.latency/v1``): the write and the reads.

    put_latency(factory, LatencyIn)     -> ({"id", "model", "created", "rows"}, created)
    list_runs(session)                  -> newest first: id, model, created, threads, cpu, backends
    get_run(session, run_id)            -> the report as posted (model, environment, settings, rows, budget)
    appendix(get_run(...))              -> the table shaped like the talk's appendix: one row per
                                           batch x length, per backend p50/p90/p95/p99/avg/throughput

A run is keyed by ``LatencyIn.run_key()`` (model, time, environment, settings): posting the same
report again returns the stored run (``created`` False); the same run with other figures raises
``Conflict``.
"""

import csv
import io

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from claf.db.engine import write_session
from claf.db.tables import LatencyRow, LatencyRun
from claf.results.payloads import LATENCY_COLUMNS, LatencyIn, sha256_of
from claf.results.store import Conflict, NotFound

FIGURES = ("p50_ms", "p90_ms", "p95_ms", "p99_ms", "avg_ms", "throughput")


def put_latency(factory: sessionmaker, report: LatencyIn) -> tuple[dict, bool]:
    """Store one report (a run and its rows) in one transaction -> (summary, created)."""
    key, body = report.run_key(), sha256_of(report.model_dump(by_alias=True))

    def summary(run_id):
        return {"id": run_id, "model": report.model.checkpoint, "created": report.created, "rows": len(report.rows)}

    def existing(session):
        run = session.scalar(select(LatencyRun).where(LatencyRun.run_key == key))
        if run is None:
            return None
        if run.body_sha256 != body:
            raise Conflict(
                f"a latency run of '{report.model.checkpoint}' created {report.created} on the same machine "
                f"and settings exists (id {run.id}) with different figures"
            )
        return summary(run.id), False

    for _attempt in range(5):
        try:
            with write_session(factory) as session:
                found = existing(session)
                if found is not None:
                    return found
                run = LatencyRun(
                    run_key=key,
                    model=report.model.checkpoint,
                    created=report.created,
                    model_info=report.model.model_dump(exclude={"checkpoint"}),
                    environment=report.environment,
                    settings=report.settings,
                    budget=[b.model_dump() for b in report.budget],
                    body_sha256=body,
                )
                session.add(run)
                session.flush()
                session.add_all(LatencyRow(run_id=run.id, **r.model_dump()) for r in report.rows)
                session.flush()
                return summary(run.id), True
        except (IntegrityError, OperationalError) as e:
            if isinstance(e, OperationalError) and _attempt == 4:
                raise  # the database is away: the server answers 503 and the client retries
            continue  # a concurrent post of the same run won the race: look again
    raise RuntimeError("could not store the latency run after 5 attempts")


def _brief(run: LatencyRun, rows: int) -> dict:
    env = run.environment or {}
    return {
        "id": run.id,
        "model": run.model,
        "created": run.created,
        "type": (run.model_info or {}).get("type", ""),
        "layers": (run.model_info or {}).get("layers"),
        "threads": env.get("threads"),
        "cpu": env.get("cpu", ""),
        "backends": (run.settings or {}).get("backends", []),
        "rows": rows,
    }


def list_runs(session: Session) -> list[dict]:
    """Every run, newest first (by the time it ran, then by id)."""
    counts = dict(session.execute(select(LatencyRow.run_id, func.count()).group_by(LatencyRow.run_id)).all())
    runs = session.scalars(select(LatencyRun).order_by(LatencyRun.created.desc(), LatencyRun.id.desc()))
    return [_brief(run, counts.get(run.id, 0)) for run in runs]


def _run(session: Session, run_id: int | None) -> LatencyRun:
    if run_id is None:
        run = session.scalar(select(LatencyRun).order_by(LatencyRun.created.desc(), LatencyRun.id.desc()).limit(1))
        if run is None:
            raise NotFound("no latency run yet: post one with 'python -m claf bench latency' (CLAF_SERVER_URL set)")
        return run
    run = session.get(LatencyRun, run_id)
    if run is None:
        known = session.scalars(select(LatencyRun.id).order_by(LatencyRun.id.desc()).limit(20))
        raise NotFound(f"unknown latency run {run_id}; known runs: {', '.join(str(i) for i in known) or 'none'}")
    return run


def _rows(session: Session, run_id: int) -> list[dict]:
    rows = session.scalars(select(LatencyRow).where(LatencyRow.run_id == run_id).order_by(LatencyRow.id))
    return [{k: getattr(r, k) for k in LATENCY_COLUMNS} for r in rows]


def get_run(session: Session, run_id: int | None = None) -> dict:
    """One run (the newest when ``run_id`` is None) with its rows, as it was posted."""
    run = _run(session, run_id)
    return {
        "id": run.id,
        "schema": "claf.latency/v1",
        "created": run.created,
        "model": {"checkpoint": run.model, **(run.model_info or {})},
        "environment": run.environment,
        "settings": run.settings,
        "rows": _rows(session, run.id),
        "budget": run.budget,
    }


def appendix(report: dict) -> dict:
    """The talk's appendix layout: backends in the settings' order (the first is the reference), one
    line per (batch, length) with each backend's figures and its p50 relative to the reference."""
    order = list((report.get("settings") or {}).get("backends") or [])
    backends = order + [b for b in dict.fromkeys(r["backend"] for r in report["rows"]) if b not in order]
    backends = [b for b in backends if any(r["backend"] == b for r in report["rows"])]
    cells = {(r["batch"], r["length"], r["backend"]): r for r in report["rows"]}
    keys = sorted({(r["batch"], r["length"]) for r in report["rows"]})
    reference = backends[0] if backends else None
    lines = []
    for batch, length in keys:
        figures = {}
        base = cells.get((batch, length, reference))
        for b in backends:
            row = cells.get((batch, length, b))
            if row is None:
                figures[b] = None
                continue
            figures[b] = {k: row[k] for k in FIGURES + ("iterations",)}
            figures[b]["vs_reference"] = row["p50_ms"] / base["p50_ms"] if base else None
        lines.append({"batch": batch, "length": length, "backends": figures})
    return {
        "run": {k: report[k] for k in ("id", "created", "model")},
        "backends": backends,
        "reference": reference,
        "figures": list(FIGURES),
        "lines": lines,
        "budget": report["budget"],
        "environment": report["environment"],
        "settings": report["settings"],
    }


def to_csv(report: dict) -> str:
    """The run's rows as CSV (the same columns as the CSV ``claf bench latency`` writes)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=LATENCY_COLUMNS, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerows(report["rows"])
    return out.getvalue()
