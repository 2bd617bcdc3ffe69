"""Score vs pre-training step, per task: one line per model with its 95% interval band, and each model's
pre-training curve (its checkpoints' held-out MLM loss) on the same step axis.

At each (model, step) the fine-tuning runs are combined into the line's value (``mean`` with its sample
std, or ``median``) and, when there are two runs or more (or per-example predictions), into a band: the 95%
multi-bootstrap interval of ``claf.stats`` over replicas x fine-tuning seeds (x dev examples when every run
stored them). Replicas (``<model>-s<seed>``) share one line by default (``replicas="combined"``); with
``replicas="each"`` every replica is its own line.
"""

import json
from collections import defaultdict

from sqlalchemy import select
from sqlalchemy.orm import Session

from claf.db.tables import Checkpoint, Model, Result, Task
from claf.results.compare import Scored, runs_of
from claf.results.queries import combine
from claf.results.replicas import COMBINED, check_replicas, families, row_key
from claf.results.store import find_benchmark, find_task

DRAWS = 400  # bootstrap draws per band: enough for a chart, and the table's cells use as many


def task_series(
    session: Session,
    benchmark: str,
    task: str,
    group_by: str | None = None,
    seeds: str = "mean",
    replicas: str = COMBINED,
) -> dict:
    """One task's series: a trace per model (``steps``, ``values``, ``low``/``high`` of the band, ``n``)."""
    t = find_task(session, benchmark, task)
    return benchmark_series(session, benchmark, group_by, seeds, [t], replicas)[t.name]


def benchmark_series(
    session: Session,
    benchmark: str,
    group_by: str | None = None,
    seeds: str = "mean",
    tasks: list | None = None,
    replicas: str = COMBINED,
) -> dict[str, dict]:
    """``task_series`` of every task of ``benchmark`` (or of ``tasks``)."""
    check_replicas(replicas)
    combine([0.0], seeds)  # validates ``seeds``
    if tasks is None:
        bench = find_benchmark(session, benchmark)
        tasks = list(session.scalars(select(Task).where(Task.benchmark_id == bench.id).order_by(Task.position)))
    checkpoints = {
        cid: (model, step, metrics)
        for cid, model, step, metrics in session.execute(
            select(Checkpoint.id, Model.name, Checkpoint.step, Checkpoint.metrics).join(
                Model, Checkpoint.model_id == Model.id
            )
        ).all()
    }
    options = dict(session.execute(select(Model.name, Model.options)).all())
    known = families(session)
    curves = _pretraining_curves(checkpoints.values())
    out = {}
    for t in tasks:
        points = defaultdict(lambda: defaultdict(list))  # row -> step -> [(replica, seed, Scored)]
        rows = session.execute(
            select(Result.checkpoint_id, Result.seed, Result.score, Result.examples)
            .where(Result.task_id == t.id)
            .order_by(Result.id)  # the runs' order fixes the bootstrap's draws: the table's cells read them so too
        ).all()
        for cid, seed, score, examples in rows:
            model, step, _ = checkpoints[cid]
            points[row_key(model, replicas, known)][step].append((model, seed, Scored(score, examples)))
        traces, pretraining = [], []
        for key in sorted(points):
            members = sorted({model for by_step in points[key].values() for model, _s, _r in by_step})
            first = options.get(key) or options.get(members[0]) or {}
            trace = _trace(points[key], t.metric, seeds)
            traces.append({"model": key, "replicas": members, "group": first.get(group_by) if group_by else None})
            traces[-1].update(trace)
            pretraining += [{"model": key, "replica": m, **curves[m]} for m in members if m in curves]
        out[t.name] = {
            "benchmark": benchmark,
            "task": t.name,
            "metric": t.metric,
            "higher_is_better": t.higher_is_better,
            "group_by": group_by,
            "seeds": seeds,
            "replicas": replicas,
            "interval": {"level": 0.95, "draws": DRAWS},
            "traces": traces,
            "pretraining": pretraining,
        }
    return out


def _trace(by_step: dict, metric_key: str, seeds: str) -> dict:
    """One line: per step the combined value, std and n, the band (None without one) and the replicas."""
    steps = sorted(by_step)
    combined = [combine([r.score for _m, _s, r in by_step[s]], seeds) for s in steps]
    bands = [band(by_step[s], metric_key) for s in steps]
    return {
        "steps": steps,
        "values": [c["value"] for c in combined],
        "std": [c["std"] for c in combined],
        "n": [c["n"] for c in combined],
        "n_replicas": [len({m for m, _s, _r in by_step[s]}) for s in steps],
        "low": [b[0] if b else None for b in bands],
        "high": [b[1] if b else None for b in bands],
    }


def band(entries: list, metric_key: str, draws: int = DRAWS) -> tuple[float, float] | None:
    """The 95% interval of one point's runs ``[(replica, seed, result)]``; None for a single run that has no
    per-example predictions (nothing to resample)."""
    from claf.stats.bootstrap import estimate

    runs, metric, with_examples = runs_of(entries, metric_key)
    if len(runs) < 2 and not with_examples:
        return None
    est = estimate(runs, metric=metric, B=draws, rng=0)
    return est["low"], est["high"]


def _pretraining_curves(checkpoints) -> dict[str, dict]:
    """model -> its held-out MLM loss by step, from the checkpoints' metrics."""
    by_model = defaultdict(list)
    for model, step, metrics in sorted(checkpoints, key=lambda c: (c[0], c[1])):
        metrics = json.loads(metrics) if isinstance(metrics, (str, bytes)) else (metrics or {})
        loss = metrics.get("mlm_loss", metrics.get("loss"))
        if loss is not None:
            by_model[model].append((step, loss))
    return {
        model: {"metric": "held-out MLM loss", "steps": [p[0] for p in pts], "values": [p[1] for p in pts]}
        for model, pts in by_model.items()
    }
