"""The multi-bootstrap: intervals for one model, and for A against B, over replicas, seeds and examples.

A *result set* is one model on one task: a list of ``Run``s. Each run is one checkpoint replica (its
pre-training seed), fine-tuned with one fine-tuning seed, and scored on the task's dev examples. It
carries either

(a) per-example scores whose mean is the metric (accuracy: 1.0 or 0.0 per example), with ``metric=None``; or
(b) per-example predictions plus the golds, with ``metric=f(predictions, golds) -> float`` for metrics that
    are not a mean over examples (F1, Pearson/Spearman, Matthews): ``f`` is recomputed on every resampled
    example set.

The runs of one model are aligned by example id (the dev set); they must all hold the same ids. Two models
are *paired on examples* when they hold the same ids: then one draw of examples serves both.

One bootstrap draw, as in ``docs/MULTIBOOTSTRAP.md`` (Sellam et al., MultiBERTs):
1. draw the n examples with replacement (one draw for both models when paired);
2. draw the model's replicas with replacement, as many as it has (seeds are never paired across models);
3. for each drawn replica, draw its fine-tuning seeds with replacement, as many as it has;
4. score every drawn (replica, seed) on the drawn examples; average over the seeds within each drawn
   replica, then over the drawn replicas.

Two refinements of step 2. A model compared with itself (two protocols, two steps) holds the same replicas
on both sides, and ``paired_replicas`` draws them once for both. The task average (``compare_average``)
draws each model's replicas once per draw for every task, since every task fine-tunes the same checkpoints.

Averaging within replicas first weighs every pre-training seed equally, which is the quantity
E_replica E_seed E_example f; it equals the plain mean over runs whenever every replica has the same
number of seeds. The interval is the 2.5th to 97.5th percentile of the draws. With a single replica and a
single seed only examples are resampled, and the interval then ignores seed and replica variance.

Per-example-mean metrics are vectorised: a chunk of draws is an index matrix [b, n], turned into counts
and multiplied with the [runs, n] score matrix. Other metrics loop over the draws in Python.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence

import numpy as np

from claf.stats.runs import BootstrapError, Metric, ResultSet, Run, prepare

DEFAULT_B = 2000
BETTER, WORSE, NO_DIFFERENCE = "better", "worse", "no detectable difference"
_CHUNK_CELLS = 2_000_000  # draws x examples held in memory at once

Seed = int | np.random.Generator | None  # a seed, or a generator to draw from (and advance)

__all__ = [
    "BETTER",
    "NO_DIFFERENCE",
    "WORSE",
    "BootstrapError",
    "Run",
    "bootstrap_deltas",
    "bootstrap_means",
    "compare",
    "compare_average",
    "estimate",
    "point",
]


def _run_weights(model: ResultSet, b: int, rng: np.random.Generator, replicas: np.ndarray | None = None) -> np.ndarray:
    """[b, runs]: each run's weight in the mean of each draw (steps 2-4: replicas, then their seeds).
    ``replicas`` [b, replicas]: the replica draws to use (indices into the model's replicas), else drawn here."""
    n_replicas, n_runs = len(model.seeds), len(model.values)
    if replicas is None:
        replicas = rng.integers(n_replicas, size=(b, n_replicas))
    k = model.seeds[replicas][..., None]  # [b, replicas, 1]: the drawn replica's number of seeds
    most = int(model.seeds.max())
    seed = (rng.random((b, n_replicas, most)) * k).astype(np.int64)  # in 0..k-1
    run = model.starts[replicas][..., None] + seed
    weight = np.where(np.arange(most) < k, 1.0 / (k * n_replicas), 0.0)
    cell = np.arange(b)[:, None, None] * n_runs + run
    return np.bincount(cell.ravel(), weights=weight.ravel(), minlength=b * n_runs).reshape(b, n_runs)


def _draw_means(
    model: ResultSet, examples: np.ndarray, rng: np.random.Generator, replicas: np.ndarray | None = None
) -> np.ndarray:
    """[b]: the model's mean on each draw, given the example draws [b, n] (indices into model.ids) and,
    optionally, the replica draws [b, replicas]."""
    b, n = examples.shape
    weights = _run_weights(model, b, rng, replicas)
    if model.metric is None:
        cell = np.arange(b)[:, None] * n + examples
        counts = np.bincount(cell.ravel(), minlength=b * n).reshape(b, n)
        # einsum, not matmul: BLAS threads cost more than they save on these thin matrices
        return np.einsum("br,br->b", np.einsum("bn,rn->br", counts, model.values), weights) / n
    assert model.golds is not None and model.metric is not None  # prepare() checked
    means = np.empty(b)
    for i in range(b):
        drawn = examples[i]
        golds = model.golds[drawn]
        used = np.flatnonzero(weights[i])
        scores = [float(model.metric(model.values[r, drawn], golds)) for r in used]
        means[i] = np.dot(weights[i, used], scores)
    return means


def _generator(rng: Seed) -> np.random.Generator:
    return rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)


def _check_B(B: int) -> int:
    if not isinstance(B, (int, np.integer)) or B < 1:
        raise BootstrapError(f"B={B}: the number of bootstrap draws must be a whole number of at least 1")
    return int(B)


def _chunks(B: int, n: int) -> Iterator[int]:
    size = max(1, min(B, _CHUNK_CELLS // n))
    for start in range(0, B, size):
        yield min(size, B - start)


def _point(model: ResultSet) -> float:
    if model.metric is None:
        per_run = model.values.mean(axis=1)
    else:
        assert model.golds is not None  # prepare() checked
        per_run = np.array([float(model.metric(row, model.golds)) for row in model.values])
    return float(np.mean([per_run[s : s + k].mean() for s, k in zip(model.starts, model.seeds)]))


def point(runs: Sequence[Run], metric: Metric | None = None) -> float:
    """The metric without resampling: the mean over each replica's runs, then over replicas."""
    return _point(prepare(runs, metric))


def bootstrap_means(runs: Sequence[Run], metric: Metric | None = None, B: int = DEFAULT_B, rng: Seed = 0) -> np.ndarray:
    """[B]: one model's mean on each bootstrap draw (examples, replicas, then each replica's seeds)."""
    model, rng, B = prepare(runs, metric), _generator(rng), _check_B(B)
    return _mean_draws(model, B, rng)


def _mean_draws(model: ResultSet, B: int, rng: np.random.Generator) -> np.ndarray:
    n = len(model.ids)
    return np.concatenate([_draw_means(model, rng.integers(n, size=(b, n)), rng) for b in _chunks(B, n)])


def estimate(runs: Sequence[Run], metric: Metric | None = None, B: int = DEFAULT_B, rng: Seed = 0) -> dict:
    """One model on one task: the point estimate, the bootstrap std and 95% interval, and the counts."""
    model, rng, B = prepare(runs, metric), _generator(rng), _check_B(B)
    draws = _mean_draws(model, B, rng)
    low, high = np.percentile(draws, [2.5, 97.5])
    replicas, seeds, examples = model.n
    return {
        "mean": _point(model),
        "std": float(draws.std(ddof=1)) if B > 1 else 0.0,
        "low": float(low),
        "high": float(high),
        "n_replicas": replicas,
        "n_seeds": seeds,
        "n_examples": examples,
        "n_runs": len(model.values),
    }


def _paired(a: ResultSet, b: ResultSet, paired_examples: bool | None) -> tuple[ResultSet, bool]:
    """B reordered to A's examples when the two are paired; whether they are."""
    same = len(a.ids) == len(b.ids) and set(a.ids) == set(b.ids)
    if paired_examples is None:
        paired_examples = same
    if not paired_examples:
        return b, False
    if not same:
        raise BootstrapError("paired_examples=True needs A and B scored on the same example ids; they differ")
    b = b.reorder(a.ids) if b.ids != a.ids else b
    if a.golds is not None and b.golds is not None and not np.array_equal(a.golds, b.golds):
        raise BootstrapError("A and B hold the same example ids with different golds; they are not one dev set")
    return b, True


def _delta_draws(
    a: ResultSet,
    b: ResultSet,
    paired: bool,
    B: int,
    rng: np.random.Generator,
    replicas: tuple[np.ndarray, np.ndarray] | None = None,
) -> np.ndarray:
    """[B]: mean(A) - mean(B) per draw, examples shared when paired, seeds always drawn apart. ``replicas``:
    A's and B's replica draws [B, replicas] to use (see ``compare_average``), else drawn here."""
    out, done = [], 0
    for size in _chunks(B, max(len(a.ids), len(b.ids))):
        examples_a = rng.integers(len(a.ids), size=(size, len(a.ids)))
        examples_b = examples_a if paired else rng.integers(len(b.ids), size=(size, len(b.ids)))
        ra, rb = (None, None) if replicas is None else (r[done : done + size] for r in replicas)
        out.append(_draw_means(a, examples_a, rng, ra) - _draw_means(b, examples_b, rng, rb))
        done += size
    return np.concatenate(out)


def _verdict(low: float, high: float) -> str:
    return BETTER if low > 0 else WORSE if high < 0 else NO_DIFFERENCE


def _summary(delta: float, draws: np.ndarray) -> dict:
    low, high = np.percentile(draws, [2.5, 97.5])
    return {
        "delta": delta,
        "low": float(low),
        "high": float(high),
        "p_a_better": float(np.mean(draws > 0)),
        "verdict": _verdict(low, high),
    }


def bootstrap_deltas(
    runs_a: Sequence[Run],
    runs_b: Sequence[Run],
    metric: Metric | None = None,
    B: int = DEFAULT_B,
    rng: Seed = 0,
    paired_examples: bool | None = None,
) -> np.ndarray:
    """[B]: mean(A) - mean(B) on each bootstrap draw; the draws behind ``compare``."""
    a, b, B = prepare(runs_a, metric), prepare(runs_b, metric), _check_B(B)
    b, paired = _paired(a, b, paired_examples)
    return _delta_draws(a, b, paired, B, _generator(rng))


def _labels(model: ResultSet) -> list[str]:
    return [str(r) for r in model.replicas]


def _pair_replicas(labels_a: list[str], labels_b: list[str], paired_replicas: bool) -> bool:
    """Whether A's and B's replicas are drawn as one; asking for it needs both to hold the same replicas."""
    if paired_replicas and sorted(labels_a) != sorted(labels_b):
        raise BootstrapError(
            f"paired_replicas=True needs A and B to hold the same replicas; A has {sorted(labels_a)}, "
            f"B has {sorted(labels_b)}"
        )
    return bool(paired_replicas)


def _indices(model: ResultSet, labels: list[str]) -> np.ndarray:
    """Positions of ``labels`` among the model's own replicas."""
    own = _labels(model)
    return np.array([own.index(name) for name in labels])


def compare(
    runs_a: Sequence[Run],
    runs_b: Sequence[Run],
    metric: Metric | None = None,
    B: int = DEFAULT_B,
    rng: Seed = 0,
    paired_examples: bool | None = None,
    paired_replicas: bool = False,
) -> dict:
    """A against B on one task: delta = mean(A) - mean(B), its 95% interval, P(A > B) and the verdict.

    ``paired_examples=None`` pairs the examples when A and B hold the same example ids. ``paired_replicas``
    says that A and B hold the same replicas, such as the same checkpoints fine-tuned under two protocols or
    one run read at two steps; the labels must match. Each draw then picks one set of replicas for both, so
    what a replica brings to both sides cancels out of the difference. Never pair the replicas of different
    models: seed 42 of A has nothing to do with seed 42 of B. ``p_a_better`` is the
    share of draws with delta > 0 (a bootstrap estimate, not a p-value). The verdict is "better" when the
    interval lies above 0, "worse" when below, else "no detectable difference". ``n_a`` and ``n_b`` are
    (replicas, fine-tuning seeds per replica, examples).
    """
    a, b, B = prepare(runs_a, metric), prepare(runs_b, metric), _check_B(B)
    b, paired = _paired(a, b, paired_examples)
    rng = _generator(rng)
    pair_replicas = _pair_replicas(_labels(a), _labels(b), paired_replicas)
    replicas = None
    if pair_replicas:
        labels = sorted(_labels(a))
        drawn = rng.integers(len(labels), size=(B, len(labels)))
        replicas = (_indices(a, labels)[drawn], _indices(b, labels)[drawn])
    draws = _delta_draws(a, b, paired, B, rng, replicas)
    return {
        **_summary(_point(a) - _point(b), draws),
        "paired_examples": paired,
        "paired_replicas": pair_replicas,
        "n_a": a.n,
        "n_b": b.n,
    }


def compare_average(
    tasks_a: Mapping[str, Sequence[Run]],
    tasks_b: Mapping[str, Sequence[Run]],
    metrics: Mapping[str, Metric | None] | None = None,
    B: int = DEFAULT_B,
    rng: Seed = 0,
    joint_replicas: bool = True,
    paired_replicas: bool = False,
) -> dict:
    """A against B on the average over tasks: each draw resamples every task, averages the tasks' means per
    model, and takes the difference. ``metrics`` maps a task to its metric function (absent: per-example
    means). Examples are paired per task where A and B hold the same ids.

    A replica is one checkpoint, and every task fine-tunes the same checkpoints. So with ``joint_replicas``
    (the default) each draw picks a model's replicas once and every task uses that pick: a replica that is
    better everywhere moves the whole average, and the interval carries that. This needs each model's tasks to
    hold the same replicas; where they do not, replicas are drawn per task (``joint_replicas`` in the result
    says which was done). Drawing per task (``joint_replicas=False``) treats each task's replicas as new draws,
    which makes the interval too narrow when replica strength carries over from task to task. Fine-tuning
    seeds and examples are always drawn per task: they are different runs and different dev sets.
    ``paired_replicas`` as in ``compare``: with joint draws, A and B that hold the same replicas share one."""
    if not tasks_a:
        raise BootstrapError("no tasks to average over")
    if set(tasks_a) != set(tasks_b):
        raise BootstrapError(f"A and B must cover the same tasks: A has {sorted(tasks_a)}, B has {sorted(tasks_b)}")
    metrics, rng, B = metrics or {}, _generator(rng), _check_B(B)
    prepared = {t: (prepare(tasks_a[t], metrics.get(t)), prepare(tasks_b[t], metrics.get(t))) for t in sorted(tasks_a)}
    joint = joint_replicas and all(
        len({tuple(sorted(map(str, pair[side].replicas))) for pair in prepared.values()}) == 1 for side in (0, 1)
    )
    pair_replicas = False
    if joint:  # one replica draw per model and draw, in a fixed label order, shared by every task
        first_a, first_b = next(iter(prepared.values()))
        labels = [sorted(_labels(m)) for m in (first_a, first_b)]
        pair_replicas = _pair_replicas(labels[0], labels[1], paired_replicas)
        draw_a = rng.integers(len(labels[0]), size=(B, len(labels[0])))
        shared = [draw_a, draw_a if pair_replicas else rng.integers(len(labels[1]), size=(B, len(labels[1])))]
    draws, delta, paired = np.zeros(B), 0.0, {}
    for task, (a, b) in prepared.items():
        b, paired[task] = _paired(a, b, None)
        replicas = None
        if joint:  # the shared draws, as indices into this task's own replica order
            replicas = (_indices(a, labels[0])[shared[0]], _indices(b, labels[1])[shared[1]])
        draws += _delta_draws(a, b, paired[task], B, rng, replicas)
        delta += _point(a) - _point(b)
    return {
        **_summary(delta / len(tasks_a), draws / len(tasks_a)),
        "n_tasks": len(tasks_a),
        "paired": paired,
        "joint_replicas": joint,
        "paired_replicas": pair_replicas,
    }
