"""The 'suite complete' summary of one checkpoint, by the dashboard's rule: signal, not noise.

Per task: the checkpoint's mean over its fine-tuning seeds with its 95% multi-bootstrap interval
(``claf.stats``: seeds, and dev examples when the results carry per-example predictions); the delta
against the model's previous checkpoint with the delta's interval and verdict; and "best so far" only
when the checkpoint's mean is the highest of the model's checkpoints up to this step *and* its
difference from the runner-up excludes 0. A highest mean that cannot be told from the runner-up is
"tied for best". With one run on a side (one seed, no per-example predictions) nothing can be said
about noise: the delta has no interval and the top mean is only "highest so far".
"""

from collections import defaultdict

from sqlalchemy import select
from sqlalchemy.orm import Session

from claf.db.tables import Job, Result

DRAWS = 1000


def _entries(session: Session, jobs: list[Job]) -> dict:
    """(model, step, sha, checkpoint name) -> task -> [(replica, seed, Result or Scored)] of the done jobs."""
    from claf.results.compare import Scored

    ids = [j.result_id for j in jobs if j.result_id]
    stored = {}
    for start in range(0, len(ids), 2000):
        chunk = ids[start : start + 2000]
        stored.update({r.id: r for r in session.scalars(select(Result).where(Result.id.in_(chunk)))})
    out: dict = defaultdict(lambda: defaultdict(list))
    for j in jobs:
        result = stored.get(j.result_id) or Scored(j.score, None)
        out[(j.model, j.step, j.checkpoint_sha256, j.checkpoint)][j.task].append((j.model, j.seed, result))
    return out


def _runs(left: list, right: list | None, metric_key: str):
    """Runs of both sides resampled the same way (examples only when every result has them)."""
    from claf.results.compare import runs_of, scores_only

    sides = [left] + ([right] if right else [])
    if not all(r.examples for side in sides for _m, _s, r in side):
        sides = [scores_only(side) for side in sides]
    built = [runs_of(side, metric_key) for side in sides]
    return built


def _measurable(built) -> bool:
    return all(len(runs) >= 2 or with_examples for runs, _metric, with_examples in built)


def _delta(mine: list, other: list, metric_key: str, sign: float) -> dict:
    from claf.results.compare import directed_verdict
    from claf.stats.bootstrap import compare, point

    built = _runs(mine, other, metric_key)
    (runs_a, metric, _), (runs_b, _m, _) = built
    if not _measurable(built):
        return {"delta": point(runs_a, metric) - point(runs_b, metric), "low": None, "high": None, "verdict": None}
    out = compare(runs_a, runs_b, metric=metric, B=DRAWS, rng=0)
    return {
        "delta": out["delta"],
        "low": out["low"],
        "high": out["high"],
        "verdict": directed_verdict(out["low"], out["high"], sign),
    }


def _cell(mine: list, metric_key: str) -> dict:
    from claf.stats.bootstrap import estimate, point

    [(runs, metric, with_examples)] = _runs(mine, None, metric_key)
    cell = {"score": point(runs, metric), "interval": None, "n": [len({r[0] for r in mine}), len(mine)]}
    if len(runs) >= 2 or with_examples:
        est = estimate(runs, metric=metric, B=DRAWS, rng=0)
        cell["interval"] = [est["low"], est["high"]]
    return cell


def _standing(mine: list, others: dict, metric_key: str, sign: float) -> dict:
    """best_so_far / tied_best / highest_so_far of this checkpoint among the model's checkpoints so far."""
    from claf.stats.bootstrap import point

    def mean(entries):
        [(runs, metric, _)] = _runs(entries, None, metric_key)
        return point(runs, metric)

    mine_mean = mean(mine)
    ranked = sorted(((sign * mean(e), name, e) for name, e in others.items()), key=lambda x: x[0], reverse=True)
    if ranked and sign * mine_mean < ranked[0][0]:
        return {"best_so_far": False, "tied_best": False, "highest_so_far": False, "runner_up": None}
    if not ranked:
        return {"best_so_far": False, "tied_best": False, "highest_so_far": True, "runner_up": None}
    runner = ranked[0]
    delta = _delta(mine, runner[2], metric_key, sign)
    if delta["verdict"] is None:
        return {"best_so_far": False, "tied_best": False, "highest_so_far": True, "runner_up": runner[1]}
    better = delta["verdict"] == "better"
    return {"best_so_far": better, "tied_best": not better, "highest_so_far": True, "runner_up": runner[1]}


def suite_summary(session: Session, recipe: str, checkpoint_sha256: str) -> dict:
    """The checkpoint's per-task means with intervals, deltas against the previous checkpoint with
    intervals and verdicts, its standing among the model's checkpoints so far, and the average."""
    from claf.results.store import find_task

    done = list(session.scalars(select(Job).where(Job.recipe == recipe, Job.state == "done", Job.score.is_not(None))))
    groups = _entries(session, done)
    jobs = list(session.scalars(select(Job).where(Job.recipe == recipe, Job.checkpoint_sha256 == checkpoint_sha256)))
    first = jobs[0]
    mine = next((v for k, v in groups.items() if k[2] == checkpoint_sha256), {})
    earlier = sorted((k for k in groups if k[0] == first.model and k[1] < first.step), key=lambda k: k[1])
    previous = groups[earlier[-1]] if earlier else {}
    tasks = []
    for name in sorted({j.task for j in jobs}, key=lambda t: min(j.cost for j in jobs if j.task == t)):
        task = find_task(session, first.benchmark, name)
        sign = 1.0 if task.higher_is_better else -1.0
        failed = len([j for j in jobs if j.task == name and j.state == "failed"])
        entry = {"task": name, "score": None, "interval": None, "n": None, "delta": None, "failed": failed}
        entry.update(delta_low=None, delta_high=None, delta_verdict=None)
        entry.update(best_so_far=False, tied_best=False, highest_so_far=False, runner_up=None)
        if name in mine:
            entry.update(_cell(mine[name], task.metric))
            if name in previous:
                d = _delta(mine[name], previous[name], task.metric, sign)
                entry.update(delta=d["delta"], delta_low=d["low"], delta_high=d["high"], delta_verdict=d["verdict"])
            others = {
                k[3]: v[name]
                for k, v in groups.items()
                if k[0] == first.model and k[2] != checkpoint_sha256 and k[1] <= first.step and name in v
            }
            entry.update(_standing(mine[name], others, task.metric, sign))
        tasks.append(entry)
    values = [t["score"] for t in tasks if t["score"] is not None]
    return {
        "recipe": recipe,
        "benchmark": first.benchmark,
        "checkpoint": first.checkpoint,
        "model": first.model,
        "step": first.step,
        "previous": earlier[-1][3] if earlier else None,
        "tasks": tasks,
        "average": sum(values) / len(values) if values and len(values) == len(tasks) else None,
    }
