"""Result sets: the runs of one model on one task, checked and aligned by example id for resampling.

A ``Run`` is one checkpoint replica (its pre-training seed) fine-tuned with one fine-tuning seed and scored on
the task's dev examples: per-example scores (the metric is their mean) or per-example predictions with golds
(the metric is a function of both). ``prepare`` groups a model's runs by replica and aligns them by example id;
``claf.stats.bootstrap`` resamples the result.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field

import numpy as np

from claf.errors import UserError

Metric = Callable[[np.ndarray, np.ndarray], float]


class BootstrapError(UserError, ValueError):
    """Runs that cannot be bootstrapped (none, mismatched example ids, missing golds); one line."""


@dataclass(frozen=True, eq=False)
class Run:
    """One fine-tuned run of one model on one task.

    replica: the checkpoint replica (its pre-training seed, e.g. ``"s42"``).
    seed: the fine-tuning seed.
    values: per-example scores (metric=None) or per-example predictions (with a metric), shape [n].
    example_ids: the dev examples' ids in the order of ``values``; ``None`` means positions 0..n-1.
    golds: the gold value per example, same order; needed when a metric function is given.
    """

    replica: Hashable
    seed: Hashable
    values: np.ndarray
    example_ids: tuple | None = None
    golds: np.ndarray | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "values", np.asarray(self.values))
        if self.values.ndim != 1:
            raise BootstrapError(f"run {self.label}: values must be one per example, got shape {self.values.shape}")
        if self.example_ids is not None:
            object.__setattr__(self, "example_ids", tuple(self.example_ids))
            if len(self.example_ids) != len(self.values):
                raise BootstrapError(
                    f"run {self.label}: {len(self.example_ids)} example ids for {len(self.values)} values"
                )
        if self.golds is not None:
            object.__setattr__(self, "golds", np.asarray(self.golds))
            if self.golds.shape != self.values.shape:
                raise BootstrapError(f"run {self.label}: {len(self.golds)} golds for {len(self.values)} values")

    @property
    def label(self) -> str:
        return f"(replica {self.replica}, seed {self.seed})"

    @property
    def ids(self) -> tuple:
        return self.example_ids if self.example_ids is not None else tuple(range(len(self.values)))


@dataclass(frozen=True, eq=False)
class ResultSet:
    """A model's runs ready to resample: grouped by replica, values aligned by example id."""

    ids: tuple
    values: np.ndarray  # [runs, n], runs sorted by replica
    golds: np.ndarray | None  # [n]
    starts: np.ndarray  # first run of each replica
    seeds: np.ndarray  # number of runs of each replica
    metric: Metric | None = field(default=None)
    replicas: tuple = ()  # each replica's label, in the order of ``starts``

    @property
    def n(self) -> tuple[int, int, int]:
        """(replicas, fine-tuning seeds per replica (the fewest), examples)."""
        return len(self.seeds), int(self.seeds.min()), len(self.ids)

    def reorder(self, ids: tuple) -> ResultSet:
        """The same model with its examples in the order of ``ids`` (the same set)."""
        at = {key: i for i, key in enumerate(self.ids)}
        order = np.array([at[key] for key in ids])
        golds = None if self.golds is None else self.golds[order]
        return ResultSet(ids, self.values[:, order], golds, self.starts, self.seeds, self.metric, self.replicas)


def prepare(runs: Sequence[Run], metric: Metric | None) -> ResultSet:
    """Check a model's runs and align them: one row per run, grouped by replica, columns in example-id order."""
    if not runs:
        raise BootstrapError("no runs to bootstrap: a result set needs at least one run")
    ids = runs[0].ids
    if not ids:
        raise BootstrapError(f"run {runs[0].label} has no examples")
    if len(set(ids)) != len(ids):
        raise BootstrapError(f"run {runs[0].label} repeats example ids; each dev example must appear once")
    at = {key: i for i, key in enumerate(ids)}
    seen: set[tuple[Hashable, Hashable]] = set()
    by_replica: dict[Hashable, list[Hashable]] = {}
    rows: dict[tuple[Hashable, Hashable], np.ndarray] = {}
    golds: np.ndarray | None = None
    for run in runs:
        if (run.replica, run.seed) in seen:
            raise BootstrapError(f"run {run.label} appears twice; each (replica, seed) is one run")
        seen.add((run.replica, run.seed))
        if run.ids != ids:
            if len(run.ids) != len(ids) or set(run.ids) != set(ids):
                raise BootstrapError(
                    f"runs of one model must share their example ids: run {run.label} has {len(set(run.ids))} "
                    f"ids, {len(set(run.ids) & set(ids))} of them among run {runs[0].label}'s {len(ids)}"
                )
            order = np.array([at[key] for key in run.ids])
            inverse = np.empty_like(order)
            inverse[order] = np.arange(len(order))
            values, run_golds = run.values[inverse], None if run.golds is None else run.golds[inverse]
        else:
            values, run_golds = run.values, run.golds
        if metric is not None:
            if run_golds is None:
                raise BootstrapError(f"run {run.label} has no golds; a metric function needs golds on every run")
            if golds is None:
                golds = run_golds
            elif not np.array_equal(golds, run_golds):
                raise BootstrapError(f"run {run.label} has other golds than run {runs[0].label} for the same ids")
        by_replica.setdefault(run.replica, []).append(run.seed)
        rows[run.replica, run.seed] = values
    ordered = [rows[replica, seed] for replica, seeds in by_replica.items() for seed in seeds]
    if metric is None:
        try:
            matrix = np.asarray(ordered, dtype=float)
        except (TypeError, ValueError):
            raise BootstrapError("per-example values must be numbers when no metric function is given") from None
    else:
        matrix = np.asarray(ordered)
    seeds = np.array([len(s) for s in by_replica.values()])
    starts = np.concatenate([[0], np.cumsum(seeds)[:-1]])
    return ResultSet(ids, matrix, golds, starts, seeds, metric, tuple(by_replica))
