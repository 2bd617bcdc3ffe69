"""Reads of the benchmark database: the models x tasks table, one result, the diff of two results'
configs, the vocab table (score-vs-step series: ``claf.results.series``).

Aggregation of a (model, task) cell: results are grouped by checkpoint step; at each step the seeds
are combined (``median``, or ``mean`` with its sample std), with n; then one step is chosen:
``best`` (the best combined score, by the task's direction), ``last`` (the highest step) or a
given step N. The best set of a column holds every model row whose value ties the best one;
reference rows (published numbers) are never in it.

The ``average`` column is the weighted mean (``average_weight``) over the tasks that are in the average
(weight > 0), where higher is better, and where some model row has a result: the column names them
(``tasks``, ``weights``). A row has an average only when it has a cell in each of them; ``row["average"]``
says which tasks it is taken over and which the row misses.

Replicas (``<model>-s<seed>``, ``claf.results.replicas``): with ``replicas="combined"`` (the default) a
model's replicas share one row, named after the model, whose cells pool every replica's runs at the chosen
step (its interval resamples replicas, then seeds); ``replicas="each"`` gives every replica its own row.
"""

import json
import math
from collections import defaultdict

from sqlalchemy import select
from sqlalchemy.orm import Session

from claf.db.tables import Checkpoint, Model, Reference, Result, Task, VocabReport
from claf.results.replicas import COMBINED, check_replicas, families, row_key
from claf.results.store import NotFound, find_benchmark

TIE = 1e-9


def parse_step(step: str | int) -> str | int:
    """``best`` | ``last`` | a step number (``4000`` or ``4k``); anything else is a ValueError."""
    if isinstance(step, int) or step in ("best", "last"):
        return step
    text = str(step).strip().lower()
    try:
        return int(float(text[:-1]) * 1000) if text.endswith("k") else int(text)
    except ValueError:
        raise ValueError(f"step: must be 'best', 'last' or a step number, got '{step}'") from None


def combine(values: list[float], seeds: str) -> dict:
    """Combine one step's seed scores: median, or mean with sample std; always with n."""
    n = len(values)
    if seeds == "median":
        ordered = sorted(values)
        mid = n // 2
        return {"value": ordered[mid] if n % 2 else (ordered[mid - 1] + ordered[mid]) / 2, "std": None, "n": n}
    if seeds == "mean":
        mean = math.fsum(values) / n
        std = math.sqrt(math.fsum((v - mean) ** 2 for v in values) / (n - 1)) if n > 1 else 0.0
        return {"value": mean, "std": std, "n": n}
    raise ValueError(f"seeds: must be 'median' or 'mean', got '{seeds}'")


def _better(a: float, b: float, higher: bool) -> bool:
    return a > b + TIE if higher else a < b - TIE


def choose(per_step: dict[int, dict], step, higher: bool) -> dict | None:
    if not per_step:
        return None
    if step == "last":
        s = max(per_step)
    elif step == "best":
        s = None
        for candidate in sorted(per_step):
            if s is None or _better(per_step[candidate]["value"], per_step[s]["value"], higher):
                s = candidate
    else:
        s = step if step in per_step else None
    return None if s is None else dict(per_step[s], step=s)


def _text(metrics: dict, display: list[str]) -> str:
    shown = [metrics.get(k) for k in display]
    return "/".join("-" if v is None else f"{v:.2f}" for v in shown)


def benchmark_table(
    session: Session, benchmark: str, step="best", seeds: str = "median", replicas: str = COMBINED
) -> dict:
    """The models x tasks table of ``benchmark`` (plus an ``average`` column and reference rows)."""
    step = parse_step(step)
    check_replicas(replicas)
    combine([0.0], seeds)  # validates ``seeds``
    bench = find_benchmark(session, benchmark)
    tasks = list(session.scalars(select(Task).where(Task.benchmark_id == bench.id).order_by(Task.position)))
    by_id = {t.id: t for t in tasks}
    conn = session.connection()  # plain Core rows: the table reads every result of the benchmark
    checkpoints = {
        cid: (model, s)
        for cid, model, s in conn.execute(
            select(Checkpoint.id, Model.name, Checkpoint.step).join(Model, Checkpoint.model_id == Model.id)
        ).all()
    }
    rows = _plain_rows(
        conn,
        select(Result.checkpoint_id, Result.task_id, Result.score, Result.id).where(Result.task_id.in_(list(by_id))),
    )  # index-only (ix_results_cover)
    groups = defaultdict(lambda: defaultdict(list))  # (row, task) -> step -> [(score, id)]
    replica_by_result, members = {}, defaultdict(set)  # result id -> its model; row -> its models
    known = families(session)
    for cid, task_id, score, rid in rows:
        model, s = checkpoints[cid]
        key = row_key(model, replicas, known)
        groups[(key, task_id)][s].append((score, rid))
        replica_by_result[rid] = model
        members[key].add(model)
    options = dict(conn.execute(select(Model.name, Model.options)).all())
    models = sorted({m for m, _ in groups})
    plain = [(t.id, t.name, t.higher_is_better, t.display != [t.metric]) for t in tasks]  # no ORM in the loop
    table_rows, chosen_ids = [], []
    for model in models:
        cells = {}
        for task_id, name, higher, needs_metrics in plain:
            by_step = groups.get((model, task_id))
            cell = None
            if by_step:
                if step == "best":
                    per_step = {s: combine([v[0] for v in vals], seeds) for s, vals in by_step.items()}
                else:  # one step: combine only that one
                    s = max(by_step) if step == "last" else step
                    per_step = {s: combine([v[0] for v in by_step[s]], seeds)} if s in by_step else {}
                cell = choose(per_step, step, higher)
            if cell is not None:
                cell["result_ids"] = sorted(r for _, r in by_step[cell["step"]])
                if needs_metrics:
                    chosen_ids += cell["result_ids"]
                else:  # the display rule is the primary metric alone
                    cell["text"] = f"{cell['value']:.2f}"
            cells[name] = cell
        mine = sorted(members[model])
        table_rows.append(
            {
                "model": model,
                "kind": "model",
                "replicas": mine,
                "options": options.get(model) or options.get(mine[0]) or {},
                "cells": cells,
            }
        )
    _add_costs(conn, table_rows)
    metrics = _metrics_of(conn, chosen_ids)  # only the chosen cells that show more than the primary metric
    for row in table_rows:
        for task in tasks:
            cell = row["cells"][task.name]
            if cell is not None and "text" not in cell:
                chosen = [metrics[r] for r in cell["result_ids"]]
                shown = {
                    k: combine([m[k] for m in chosen if k in m], seeds)["value"]
                    for k in task.display
                    if any(k in m for m in chosen)
                }
                cell["text"] = _text(shown, task.display)
    for ref in session.scalars(select(Reference).where(Reference.task_id.in_(list(by_id))).order_by(Reference.id)):
        task = by_id[ref.task_id]
        row = next((r for r in table_rows if r["kind"] == "reference" and r["model"] == ref.label), None)
        if row is None:
            row = {
                "model": ref.label,
                "kind": "reference",
                "options": {},
                "source": ref.source,
                "cells": {t.name: None for t in tasks},
            }
            table_rows.append(row)
        if task.metric in ref.metrics:
            row["cells"][task.name] = {
                "value": ref.metrics[task.metric],
                "std": None,
                "n": None,
                "step": None,
                "text": _text(ref.metrics, task.display),
            }
    over = average_tasks(tasks, table_rows)
    for row in table_rows:
        add_average(row, over)
    columns = [
        {
            "key": t.name,
            "title": t.title,
            "metric": t.metric,
            "display": t.display,
            "higher_is_better": t.higher_is_better,
            "average_weight": t.average_weight,
            "data_prefix": t.data_prefix,
        }
        for t in tasks
    ]
    columns.append(
        {
            "key": "average",
            "title": "Average",
            "metric": "average",
            "display": ["average"],
            "higher_is_better": True,
            "average_weight": 0,
            "tasks": [name for name, _w in over],
            "weights": dict(over),
        }
    )
    for col in columns:
        mark_best(table_rows, col["key"], col["higher_is_better"])
    mark_distinguishable(session, table_rows, tasks, replica_by_result)
    return {
        "benchmark": {"name": bench.name, "title": bench.title, "description": bench.description},
        "aggregation": {"step": step, "seeds": seeds, "replicas": replicas},
        "columns": columns,
        "rows": table_rows,
    }


def average_tasks(tasks: list, rows: list[dict]) -> list[tuple[str, float]]:
    """(task, weight) the ``average`` column is taken over: the tasks in the benchmark average (weight > 0)
    where higher is better (a loss does not average with accuracies) and some model row has a result
    (a task nobody has run yet would leave every row without an average)."""
    return [
        (t.name, t.average_weight)
        for t in tasks
        if t.average_weight > 0
        and t.higher_is_better
        and any(r["kind"] == "model" and r["cells"].get(t.name) is not None for r in rows)
    ]


def add_average(row: dict, over: list[tuple[str, float]]) -> None:
    """The row's ``average`` cell (the weighted mean of its cells over ``over``; None unless it has them all)
    and ``row["average"]``: the tasks it is taken over and those the row misses."""
    missing = [name for name, _w in over if row["cells"].get(name) is None]
    row["average"] = {"tasks": [name for name, _w in over], "missing": missing}
    if over and not missing:
        avg = sum(row["cells"][name]["value"] * w for name, w in over) / sum(w for _n, w in over)
        row["cells"]["average"] = {"value": avg, "std": None, "n": None, "step": None, "text": f"{avg:.2f}"}
    else:
        row["cells"]["average"] = None


def _plain_rows(conn, stmt) -> list[tuple]:
    """The rows of ``stmt`` as the driver's tuples (tens of thousands: skips building Row objects)."""
    result = conn.execute(stmt)
    cursor = getattr(result, "cursor", None)
    return cursor.fetchall() if cursor is not None else [tuple(r) for r in result]


def _add_costs(conn, rows: list[dict]) -> None:
    """``row["cost"]``: the CPU-seconds its shown results took (``provenance.cpu_seconds``, summed over tasks and
    seeds: what evaluating the checkpoint on the suite costs), with how many results recorded it."""
    ids = [r for row in rows for cell in row["cells"].values() if cell for r in cell["result_ids"]]
    seconds = {}
    for start in range(0, len(ids), 5000):
        chunk = ids[start : start + 5000]
        for rid, prov in _plain_rows(conn, select(Result.id, Result.provenance).where(Result.id.in_(chunk))):
            prov = json.loads(prov) if isinstance(prov, (str, bytes)) else prov
            if isinstance((prov or {}).get("cpu_seconds"), (int, float)):
                seconds[rid] = float(prov["cpu_seconds"])
    for row in rows:
        mine = [r for cell in row["cells"].values() if cell for r in cell["result_ids"]]
        known = [seconds[r] for r in mine if r in seconds]
        row["cost"] = {
            "cpu_seconds": round(math.fsum(known), 1) if known else None,
            "results": len(known),
            "of": len(mine),
        }


def _metrics_of(conn, ids: list[int]) -> dict[int, dict]:
    out = {}
    for start in range(0, len(ids), 5000):
        chunk = ids[start : start + 5000]
        for rid, metrics in _plain_rows(conn, select(Result.id, Result.metrics).where(Result.id.in_(chunk))):
            out[rid] = json.loads(metrics) if isinstance(metrics, (str, bytes)) else metrics  # driver-dependent
    return out


def mark_best(rows: list[dict], key: str, higher: bool) -> None:
    """Flag ``best`` on every model cell of column ``key`` that ties the best value (references never)."""
    cells = [r["cells"][key] for r in rows if r["kind"] == "model" and r["cells"].get(key) is not None]
    for r in rows:
        if r["cells"].get(key) is not None:
            r["cells"][key]["best"] = False
    if not cells:
        return
    best = max(c["value"] for c in cells) if higher else min(c["value"] for c in cells)
    for c in cells:
        c["best"] = math.isclose(c["value"], best, rel_tol=0, abs_tol=TIE)


def mark_distinguishable(
    session: Session, rows: list[dict], tasks: list, replica_by_result: dict | None = None, draws: int = 400
) -> None:
    """Signal from noise: each model cell with two runs or more (or per-example predictions) gets its 95%
    multi-bootstrap ``interval`` and ``spread`` (replicas x seeds, range of the runs' scores). The best cell
    stays bold only when its difference from every other cell's interval excludes 0; the cells that cannot
    be told apart from it are marked ``tied`` with it (and it loses its bold). A column where some cell has no
    interval (one run, no examples) keeps the plain rule: nothing can be said about its noise.
    ``replica_by_result`` names each result's replica (its model) where a row combines several; without it,
    the row's model is the replica."""
    from claf.results.compare import runs_of, scores_only
    from claf.stats.bootstrap import NO_DIFFERENCE, compare, estimate

    ids = [
        i for row in rows if row["kind"] == "model" for c in row["cells"].values() if c for i in c.get("result_ids", [])
    ]
    found = {}
    for start in range(0, len(ids), 2000):
        found.update({r.id: r for r in session.scalars(select(Result).where(Result.id.in_(ids[start : start + 2000])))})
    for task in tasks:
        cells = [
            (r["model"], r["cells"][task.name]) for r in rows if r["kind"] == "model" and r["cells"].get(task.name)
        ]
        replica = replica_by_result or {}
        entries = {
            m: [(replica.get(i, m), found[i].seed, found[i]) for i in c["result_ids"] if i in found] for m, c in cells
        }
        if not all(e and all(x.examples for _m, _s, x in e) for e in entries.values()):  # one way for all: scores
            entries = {m: scores_only(e) for m, e in entries.items()}
        runs = {}
        for model, cell in cells:
            if not entries[model]:
                continue
            built, metric, with_examples = runs_of(entries[model], task.metric)
            if len(built) < 2 and not with_examples:
                continue
            est = estimate(built, metric=metric, B=draws, rng=0)
            scores = [x.score for _m, _s, x in entries[model]]
            cell["interval"] = [est["low"], est["high"]]
            cell["spread"] = {
                "replicas": est["n_replicas"],
                "seeds": est["n_seeds"],
                "range": [min(scores), max(scores)],
            }
            runs[model] = (built, metric)
        best = [(m, c) for m, c in cells if c.get("best")]
        if len(best) != 1 or len(runs) != len(cells) or len(cells) < 2:
            continue
        top, top_cell = best[0]
        tied = [
            c
            for m, c in cells
            if m != top
            and compare(runs[top][0], runs[m][0], metric=runs[top][1], B=draws, rng=0)["verdict"] == NO_DIFFERENCE
        ]
        if tied:
            top_cell["best"] = False
            for c in [top_cell, *tied]:
                c["tied"] = True


def get_result(session: Session, result_id: int) -> dict:
    r = session.get(Result, result_id)
    if r is None:
        raise NotFound(f"no result with id {result_id}")
    ck = session.get(Checkpoint, r.checkpoint_id)
    task = session.get(Task, r.task_id)
    from claf.db.tables import Benchmark
    from claf.db.tables import Model as M

    return {
        "id": r.id,
        "benchmark": session.get(Benchmark, task.benchmark_id).name,
        "task": task.name,
        "model": session.get(M, ck.model_id).name,
        "checkpoint": ck.name,
        "step": ck.step,
        "seed": r.seed,
        "config_hash": r.config_hash,
        "score": r.score,
        "metrics": r.metrics,
        "history": r.history,
        "config": r.config,
        "provenance": r.provenance,
        "created_at": r.created_at.isoformat(),
    }


def flatten(obj, prefix="") -> dict:
    if isinstance(obj, dict) and obj:
        out = {}
        for k, v in obj.items():
            out.update(flatten(v, f"{prefix}.{k}" if prefix else str(k)))
        return out
    return {prefix: obj}


def config_diff(session: Session, a: int, b: int) -> dict:
    """The dotted keys whose values differ between two results' frozen configs."""
    ca, cb = flatten(get_result(session, a)["config"]), flatten(get_result(session, b)["config"])
    changed = [
        {"key": k, "a": ca.get(k), "b": cb.get(k)}
        for k in sorted(set(ca) | set(cb))
        if ca.get(k) != cb.get(k) or (k in ca) != (k in cb)
    ]
    return {"a": a, "b": b, "differences": changed}


def vocab_table(session: Session) -> list[dict]:
    return [
        {"tokenizer": v.tokenizer, **v.figures} for v in session.scalars(select(VocabReport).order_by(VocabReport.id))
    ]
