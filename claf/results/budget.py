"""The budget chart's points: each pre-trained model's suite-average gain over random init against what its
pre-training cost (the dashboard's ``/benchmarks/{name}/budget``).

A point is a model family at a step whose checkpoints carry compute figures (``pretrain_cpu_seconds`` or
``pretrain_gpu_seconds``, which pre-training publishes and the factory files with its results). Its x is the
mean over the family's replicas at that step; its y is ``claf.results.compare``'s average difference against
the baseline, with the multi-bootstrap 95% interval, and each task's verdict beside it.

The baseline is ``baseline`` when given (``MODEL@STEP``), else the family's own ``<family>-random-init``, else
the random init of the nearest family it extends: ``larva-kor-tiny-mask30`` falls back to
``larva-kor-tiny-random-init`` (a variant of a recipe is named by a suffix). The point names the baseline
it was compared with.

A page costs one comparison per point (a few seconds each with per-example predictions), so the points are
kept per database, benchmark, baseline and draws until a result or a compute figure arrives there: results
are never changed once stored, so their count, the highest id and the compute groups say when to recompute.
"""

import statistics
import threading
from collections import OrderedDict, defaultdict

from sqlalchemy import func, select

from claf.db.tables import Benchmark, Checkpoint, Model, Result, Task
from claf.results.compare import RANDOM_INIT, compare_models
from claf.results.store import NotFound

UNITS = (("pretrain_cpu_seconds", "CPU-seconds"), ("pretrain_gpu_seconds", "GPU-seconds"))


def baseline_for(family: str, known: set[str]) -> str | None:
    """``<family>-random-init``, or that of the longest leading part of the name that has one."""
    parts = family.split("-")
    for end in range(len(parts), 0, -1):
        candidate = "-".join(parts[:end]) + f"-{RANDOM_INIT}"
        if candidate in known:
            return candidate
    return None


def compute_groups(session, benchmark: str | None = None) -> dict[tuple[str, int], dict[str, list[float]]]:
    """(family, step) -> {compute key: [one figure per replica]} over checkpoints that carry figures (and,
    given a ``benchmark``, have results on it: a checkpoint nobody fine-tuned is not a point)."""
    query = select(Model.name, Model.family, Checkpoint.step, Checkpoint.metrics).join(
        Checkpoint, Checkpoint.model_id == Model.id
    )
    if benchmark is not None:
        fine_tuned = (
            select(Result.checkpoint_id)
            .join(Task, Task.id == Result.task_id)
            .join(Benchmark, Benchmark.id == Task.benchmark_id)
            .where(Benchmark.name == benchmark)
        )
        query = query.where(Checkpoint.id.in_(fine_tuned))
    rows = session.execute(query).all()
    groups: dict[tuple[str, int], dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for name, family, step, metrics in rows:
        for key, _unit in UNITS:
            value = (metrics or {}).get(key)
            if isinstance(value, (int, float)) and value > 0:
                groups[(family or name, int(step))][key].append(float(value))
    return groups


_KEPT: OrderedDict = OrderedDict()  # (database, benchmark, baseline, draws) -> (fingerprint, points)
_KEPT_MAX = 32
_LOCK = threading.Lock()


def _fingerprint(session, benchmark: str, groups: dict) -> tuple:
    count, highest = session.execute(
        select(func.count(Result.id), func.max(Result.id))
        .join(Task, Task.id == Result.task_id)
        .join(Benchmark, Benchmark.id == Task.benchmark_id)
        .where(Benchmark.name == benchmark)
    ).one()
    models = session.execute(select(func.count(Model.id))).scalar()
    return count, highest, models, tuple(sorted((k, tuple(sorted(v.items()))) for k, v in groups.items()))


def budget_points(session, benchmark: str, baseline: str | None = None, draws: int = 1000) -> dict:
    """{"points": [...], "skipped": [{"target", "reason"}], "units": [...], "cached": bool}: one point per
    family and step, sorted by unit then compute; ``cached`` when nothing arrived since the last call."""
    groups = {
        k: {key: list(v) for key, v in figures.items()} for k, figures in compute_groups(session, benchmark).items()
    }
    key = (str(session.get_bind().url), benchmark, baseline, draws)
    fingerprint = _fingerprint(session, benchmark, groups)
    with _LOCK:
        kept = _KEPT.get(key)
        if kept and kept[0] == fingerprint:
            _KEPT.move_to_end(key)
            return dict(kept[1], cached=True)
    out = _points(session, benchmark, baseline, draws, groups)
    with _LOCK:
        _KEPT[key] = (fingerprint, out)
        while len(_KEPT) > _KEPT_MAX:
            _KEPT.popitem(last=False)
    return dict(out, cached=False)


def _points(session, benchmark: str, baseline: str | None, draws: int, groups: dict) -> dict:
    known = {name for (name,) in session.execute(select(Model.name)).all()}
    points, skipped = [], []
    for (family, step), figures in sorted(groups.items()):
        if family.endswith(f"-{RANDOM_INIT}"):
            continue
        key, unit = next((k, u) for k, u in UNITS if figures.get(k))
        target = f"{family}@{step}"
        against = baseline or (f"{base}@0" if (base := baseline_for(family, known)) else None)
        if against is None:
            skipped.append({"target": target, "reason": f"no random-init baseline named like {family}"})
            continue
        try:
            report = compare_models(session, target, against, benchmark, B=draws)
        except (NotFound, ValueError) as e:
            skipped.append({"target": target, "reason": str(e)})
            continue
        avg = report["average"]
        if avg is None:
            skipped.append({"target": target, "reason": "fewer than 2 tasks in the average have results for both"})
            continue
        verdicts = [t["verdict"] for t in report["tasks"]]
        points.append(
            {
                "target": target,
                "model": family,
                "step": step,
                "baseline": f"{report['b']['model']}@{report['b']['step']}",
                "unit": unit,
                "compute": round(statistics.mean(figures[key]), 1),
                "replicas": len(figures[key]),
                "gain": avg["delta"],
                "low": avg["low"],
                "high": avg["high"],
                "verdict": avg["verdict"],
                "tasks": avg["tasks"],
                "better": verdicts.count("better"),
                "worse": verdicts.count("worse"),
            }
        )
    points.sort(key=lambda p: (p["unit"], p["compute"]))
    return {"points": points, "skipped": skipped, "units": sorted({p["unit"] for p in points})}
