"""A against B on a benchmark, from stored results: per task the difference of the means, its 95% interval,
P(A > B), n and a verdict (``better``, ``worse``, ``no detectable difference``), by the multi-bootstrap
(``claf.stats``) over replicas, fine-tuning seeds and dev examples.

    compare_models(session, "larva-kor-tiny@8k", "random-init", benchmark="klue")

A target is ``MODEL[@STEP]`` (``@8k``, ``@8000``; no step: the model's highest step). Its replicas are the
model itself and every model named ``MODEL-s<seed>`` (a pre-training seed's run, e.g.
``larva-kor-tiny-s43``), at that step. ``random-init`` names the random-init baseline of the other target's
model (``MODEL-random-init``, step 0). A result with per-example predictions (``examples``) is resampled
over examples; one without them counts as one score (only replicas and seeds are resampled, and the
output says so).
"""

from collections import defaultdict, namedtuple
from collections.abc import Sequence

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from claf.db.tables import Benchmark, Checkpoint, Model, Result, Task
from claf.results.replicas import families, replica_of
from claf.results.store import NotFound, find_benchmark

RANDOM_INIT = "random-init"
# metrics that are means of per-example scores: each example is scored once, then resampled as numbers
PER_EXAMPLE = ("accuracy", "squad_v1", "korquad_v1", "jsquad_v1")
KEYED = ("squad_v1", "korquad_v1", "jsquad_v1")  # metrics over {example id: value} mappings
Scored = namedtuple("Scored", "score examples")  # a result's stored score alone


class StepNotFound(NotFound):
    """The model is there, but not at the step asked for."""


def parse_target(text: str, other_model: str | None = None) -> tuple[str, int | None]:
    """``larva-kor-tiny@8k`` -> (``larva-kor-tiny``, 8000); ``random-init`` -> (``<other>-random-init``, 0)."""
    text = text.strip()
    if text == RANDOM_INIT:
        if not other_model:
            raise ValueError("random-init names the baseline of the other model: give the other one as MODEL[@STEP]")
        return f"{other_model}-{RANDOM_INIT}", 0
    model, _, step = text.partition("@")
    if not model:
        raise ValueError(f"'{text}': give MODEL[@STEP], e.g. larva-kor-tiny@8k")
    if not step:
        return model, None
    step = step.lower()
    try:
        return model, int(float(step[:-1]) * 1000) if step.endswith("k") else int(step)
    except ValueError:
        raise ValueError(f"'{text}': the step is a number (8000) or thousands (8k), got '{step}'") from None


def target_results(session: Session, benchmark: str, model: str, step: int | None) -> tuple[dict, int]:
    """({task name: [(replica, seed, Result)]}, step) of the target's replicas at ``step`` (None: their highest)."""
    bench = find_benchmark(session, benchmark)
    rows = session.execute(  # ids first: a result's stored predictions are read only when it is one of these
        select(Model.name, Checkpoint.step, Task.name, Result.id)
        .join(Checkpoint, Checkpoint.model_id == Model.id)
        .join(Result, Result.checkpoint_id == Checkpoint.id)
        .join(Task, Task.id == Result.task_id)
        .where(Task.benchmark_id == bench.id)
    ).all()
    known = families(session)
    mine = [(name, st, task, rid) for name, st, task, rid in rows if replica_of(name, model, known)]
    if not mine:
        raise NotFound(
            f"no results of model '{model}' (or its replicas {model}-s<seed>) on benchmark '{benchmark}'"
            + _models_here(sorted({name for name, *_ in rows}), model)
        )
    if step is None:
        step = max(st for _n, st, _t, _r in mine)
    chosen = [(name, task, rid) for name, st, task, rid in mine if st == step]
    loaded = {r.id: r for r in session.execute(select(Result).where(Result.id.in_([c[2] for c in chosen]))).scalars()}
    by_task = defaultdict(list)
    for name, task, rid in sorted(chosen, key=lambda c: c[2]):
        result = loaded[rid]
        by_task[task].append((replica_of(name, model, known), result.seed, result))
    for task, entries in by_task.items():
        _one_protocol(task, entries)
    if not by_task:
        steps = sorted({st for _n, st, _t, _r in mine})
        raise StepNotFound(f"model '{model}' has no results at step {step} on '{benchmark}'; its steps: {steps}")
    return by_task, step


def _one_protocol(task: str, entries: list) -> None:
    """Refuse a task whose replica and seed hold results under two configs: the database mixes two protocols
    (a suite run again with another head option or override), and pooling them would count that run twice."""
    from claf.stats.runs import BootstrapError

    seen: dict = {}
    for replica, seed, result in entries:
        first = seen.setdefault((replica, seed), result)
        if first is not result and first.config_hash != result.config_hash:
            raise BootstrapError(
                f"task '{task}': {replica} seed {seed} has results under two configs ({first.config_hash[:12]} "
                f"and {result.config_hash[:12]}): this database mixes two protocols of the task; run each into "
                "its own database and compare them with --db and --db-b"
            )


def _models_here(names: list[str], model: str, shown: int = 8) -> str:
    """The hint after a model that has no results: the random-init baselines there are (for ``random-init``),
    or the models there are."""
    if not names:
        return "; it has no results at all"
    if model.endswith(f"-{RANDOM_INIT}"):
        baselines = [n for n in names if RANDOM_INIT in n]
        if baselines:
            return f"; its random-init baselines: {', '.join(baselines[:shown])}: give one by name as B"
    more = f" and {len(names) - shown} more" if len(names) > shown else ""
    return f"; its models: {', '.join(names[:shown])}{more}"


def runs_of(entries: list, metric_key: str):
    """``[(replica, seed, result)]`` -> (runs for claf.stats, metric function or None, whether examples are
    resampled). Without per-example predictions on every result, each run is its stored score alone."""
    from claf.stats.runs import Run

    with_examples = all(r.examples for _rep, _s, r in entries)
    if not with_examples:  # one score per run: resample replicas and seeds only
        runs = [Run(rep, seed, np.array([r.score]), ("score",)) for rep, seed, r in entries]
        return runs, None, False
    spec = _spec_for(entries[0][2].examples["metrics"], metric_key)
    if _name(spec) in PER_EXAMPLE:
        runs = [
            Run(rep, seed, _per_example(r.examples, spec, metric_key), unique_ids(r.examples["ids"]))
            for rep, seed, r in entries
        ]
        return runs, None, True
    runs = [
        Run(
            rep,
            seed,
            _objects(r.examples["predictions"]),
            unique_ids(r.examples["ids"]),
            _objects(r.examples["references"]),
        )
        for rep, seed, r in entries
    ]
    return runs, _metric(spec, metric_key), True


def unique_ids(ids: list) -> tuple:
    """The stored ids with a repeat made unique by its occurrence (``0000``, ``0000#2``). Results stored
    before the readers made a repeated id column unique (KorSTS numbers its rows per genre) still line up
    example by example: every run of a task reads one dev file in one order."""
    seen: dict = {}
    out = []
    for value in ids:
        seen[value] = seen.get(value, 0) + 1
        out.append(value if seen[value] == 1 else f"{value}#{seen[value]}")
    return tuple(out)


def _name(spec) -> str:
    return spec if isinstance(spec, str) else spec["name"]


def _spec_for(specs: list, key: str):
    from claf.metrics.spec import metric_keys

    for spec in specs:
        if key in metric_keys(spec):
            return spec
    raise ValueError(f"none of the stored metrics {[_name(s) for s in specs]} reports '{key}'")


def _metric(spec, key: str):
    from claf.metrics.spec import metric_function

    function = metric_function(spec)
    if _name(spec) in KEYED:  # QA metrics take {id: prediction} and {id: gold answers}
        return lambda predictions, golds: float(
            function(dict(enumerate(predictions)), {i: list(g) for i, g in enumerate(golds)})[key]
        )
    return lambda predictions, golds: float(function(list(predictions), list(golds))[key])


def _per_example(examples: dict, spec, key: str) -> np.ndarray:
    score = _metric(spec, key)
    return np.array([score([p], [g]) for p, g in zip(examples["predictions"], examples["references"])])


def _objects(values: list) -> np.ndarray:
    out = np.empty(len(values), dtype=object)
    out[:] = [tuple(v) if isinstance(v, list) else v for v in values]
    return out


def pooled_results(sessions: Sequence[Session], benchmark: str, model: str, step: int | None) -> tuple[dict, int]:
    """``target_results`` gathered over several databases: a confirming run filed in a database of its own is
    read with the first one. The step is the one the first database holding the model resolves (its highest
    when None); a database without the model adds nothing, and one replica in two databases is refused by
    the bootstrap (it would count twice)."""
    pooled: dict = defaultdict(list)
    missing = None
    for session in sessions:
        try:
            by_task, step = target_results(session, benchmark, model, step)
        except StepNotFound:
            raise
        except NotFound as e:  # not in this database
            missing = missing or e
            continue
        for task, entries in by_task.items():
            pooled[task].extend(entries)
    if not pooled:
        raise missing
    return dict(pooled), step


def compare_models(
    session: Session | Sequence[Session],
    a: str,
    b: str,
    benchmark: str,
    B: int = 1000,
    rng: int = 0,
    session_b: Session | Sequence[Session] | None = None,
) -> dict:
    """The comparison ``claf compare`` prints and ``GET /api/v1/compare`` returns. ``session_b``: read B from
    another database (the same model fine-tuned under another protocol); its tasks must be A's. A list of
    sessions on either side pools that side's results over those databases (``claf compare --db X --db Y``)."""
    from claf.stats.bootstrap import compare, compare_average, point

    sessions_a = list(session) if isinstance(session, (list, tuple)) else [session]
    if session_b is None:
        sessions_b = sessions_a
    else:
        sessions_b = list(session_b) if isinstance(session_b, (list, tuple)) else [session_b]
    model_a, step_a = parse_target(a)
    model_b, step_b = parse_target(b, model_a)
    if model_a.endswith(f"-{RANDOM_INIT}") and b == RANDOM_INIT:
        raise ValueError("give the pre-trained model first: compare MODEL@STEP random-init")
    res_a, step_a = pooled_results(sessions_a, benchmark, model_a, step_a)
    res_b, step_b = pooled_results(sessions_b, benchmark, model_b, step_b)
    tasks = list(
        sessions_a[0]
        .execute(select(Task).join(Benchmark, Benchmark.id == Task.benchmark_id).where(Benchmark.name == benchmark))
        .scalars()
    )
    for other in {id(s): s for s in sessions_a[1:] + sessions_b}.values():
        if other is not sessions_a[0]:
            check_same_tasks(tasks, other, benchmark)
    rows, avg_a, avg_b, avg_metrics = [], {}, {}, {}
    # the same model on both sides (two protocols, or two steps of its runs) holds the same replicas: pair them
    # where both sides hold the same ones (a later step may have more replicas than an earlier one)
    same_model, pair_average = model_a == model_b, model_a == model_b
    for task in sorted(tasks, key=lambda t: t.position):
        if task.name not in res_a or task.name not in res_b:
            continue
        runs_a, metric, ex_a = runs_of(res_a[task.name], task.metric)
        runs_b, _metric_b, ex_b = runs_of(res_b[task.name], task.metric)
        if ex_a != ex_b:  # resample both the same way: one score per run
            runs_a, metric, _ = runs_of(scores_only(res_a[task.name]), task.metric)
            runs_b, _m, _ = runs_of(scores_only(res_b[task.name]), task.metric)
        sign = 1.0 if task.higher_is_better else -1.0
        same_replicas = same_model and {r.replica for r in runs_a} == {r.replica for r in runs_b}
        out = compare(runs_a, runs_b, metric=metric, B=B, rng=rng, paired_replicas=same_replicas)
        row = {
            "task": task.name,
            "metric": task.metric,
            "higher_is_better": task.higher_is_better,
            "a": {"mean": point(runs_a, metric), "n": list(out["n_a"])},
            "b": {"mean": point(runs_b, metric), "n": list(out["n_b"])},
            "delta": out["delta"],
            "low": out["low"],
            "high": out["high"],
            "p_a_better": out["p_a_better"] if sign > 0 else 1.0 - out["p_a_better"],
            "verdict": directed_verdict(out["low"], out["high"], sign),
            "examples_resampled": ex_a and ex_b,
            "paired_examples": out["paired_examples"],
            "paired_replicas": out["paired_replicas"],
        }
        rows.append(row)
        if task.average_weight and sign > 0:
            avg_a[task.name], avg_b[task.name], avg_metrics[task.name] = runs_a, runs_b, metric
            pair_average = pair_average and same_replicas
    average = None
    if len(avg_a) > 1:
        out = compare_average(avg_a, avg_b, metrics=avg_metrics, B=B, rng=rng, paired_replicas=pair_average)
        average = {k: out[k] for k in ("delta", "low", "high", "p_a_better", "joint_replicas", "paired_replicas")}
        average.update(verdict=directed_verdict(out["low"], out["high"], 1.0), tasks=sorted(avg_a))
    return {
        "benchmark": benchmark,
        "a": {"model": model_a, "step": step_a},
        "b": {"model": model_b, "step": step_b},
        "bootstrap": {"draws": B, "rng": rng, "interval": 0.95},
        "tasks": rows,
        "average": average,
    }


def check_same_tasks(tasks: list, session_b: Session, benchmark: str) -> None:
    """A comparison across two databases holds only where each shared task is scored by the same metric."""
    other = session_b.execute(
        select(Task.name, Task.metric)
        .join(Benchmark, Benchmark.id == Task.benchmark_id)
        .where(Benchmark.name == benchmark)
    ).all()
    theirs = dict(other)
    for task in tasks:
        if task.name in theirs and theirs[task.name] != task.metric:
            raise ValueError(
                f"task '{task.name}' of '{benchmark}' is scored by {task.metric} in A's database and by "
                f"{theirs[task.name]} in B's: the two cannot be compared"
            )


def scores_only(entries: list) -> list:
    """``[(replica, seed, result)]`` with each result reduced to its stored score (no examples)."""
    return [(replica, seed, Scored(result.score, None)) for replica, seed, result in entries]


def directed_verdict(low: float, high: float, sign: float) -> str:
    """By the task's direction: a lower loss is better."""
    if (low > 0 and sign > 0) or (high < 0 and sign < 0):
        return "better"
    if (high < 0 and sign > 0) or (low > 0 and sign < 0):
        return "worse"
    return "no detectable difference"


def format_table(report: dict) -> str:
    """The comparison as a plain-text table (what ``claf compare`` prints)."""
    a, b = report["a"], report["b"]

    def where(side: dict) -> str:
        dbs = side.get("db")
        if not dbs:
            return ""
        return f" (pooled over {', '.join(dbs)})" if isinstance(dbs, list) else f" (from {dbs})"

    head = f"{a['model']}@{a['step']}{where(a)} vs {b['model']}@{b['step']}{where(b)} on {report['benchmark']}"
    head += f" ({report['bootstrap']['draws']} multi-bootstrap draws, 95% intervals)"
    lines = [head, "", "| task | A | B | A - B | 95% interval | P(A > B) | n A (rep x seeds x ex) | n B | verdict |"]
    lines.append("|---|---|---|---|---|---|---|---|---|")
    for r in report["tasks"]:
        note = "" if r["examples_resampled"] else " (scores only)"
        lines.append(
            f"| {r['task']} ({r['metric']}) | {r['a']['mean']:.2f} | {r['b']['mean']:.2f} | {r['delta']:+.2f} | "
            f"[{r['low']:+.2f}, {r['high']:+.2f}] | {r['p_a_better']:.2f} | {_n(r['a']['n'])} | {_n(r['b']['n'])} | "
            f"{r['verdict']}{note} |"
        )
    avg = report.get("average")
    if avg:
        lines.append(
            f"| average ({len(avg['tasks'])} tasks) | | | {avg['delta']:+.2f} | [{avg['low']:+.2f}, {avg['high']:+.2f}] "
            f"| {avg['p_a_better']:.2f} | | | {avg['verdict']} |"
        )
        if avg.get("paired_replicas"):
            lines.append("")
            lines.append(
                "A and B are one model's runs (two protocols or two steps), so each draw picks the same replicas "
                "for both."
            )
        if not avg.get("joint_replicas", True):
            lines.append("")
            lines.append(
                "The tasks do not all hold the same replicas, so the average's replicas were drawn per task: "
                "its interval may be too narrow."
            )
    return "\n".join(lines)


def _n(n) -> str:
    return " x ".join(str(x) for x in n)
