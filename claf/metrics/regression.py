"""Regression metrics (STS): Pearson and Spearman correlation, and KLUE-STS binary F1.

All in percent (x100) like the other metrics. A correlation with a constant input is undefined;
it is reported as 0 so a degenerate model never looks best.
"""

import numpy as np

from claf.metrics.classification import binary_f1
from claf.registry import METRICS


def _floats(predictions, labels):
    pred = np.asarray(list(predictions), dtype=float).reshape(-1)
    gold = np.asarray(list(labels), dtype=float).reshape(-1)
    if len(pred) != len(gold):
        raise ValueError(f"predictions and labels differ in length: {len(pred)} predictions vs {len(gold)} labels")
    if len(pred) < 2:
        raise ValueError(f"a correlation needs at least 2 pairs, got {len(pred)}")
    return pred, gold


def _pearson(x, y):
    x = x - x.mean()
    y = y - y.mean()
    denominator = np.sqrt((x @ x) * (y @ y))
    return float(np.clip((x @ y) / denominator, -1.0, 1.0)) if denominator > 0 else 0.0


def rank(values):
    """1-based ranks; tied values share the mean of their ranks."""
    values = np.asarray(values)
    order = np.argsort(values)  # ties get one mean rank, so their order does not matter
    sorted_values = values[order]
    starts = np.flatnonzero(np.r_[True, sorted_values[1:] != sorted_values[:-1]])
    ends = np.r_[starts[1:], len(values)]
    ranks = np.empty(len(values))
    ranks[order] = np.repeat((starts + 1 + ends) / 2.0, ends - starts)
    return ranks


@METRICS.register("pearson", keys=("pearson",))
def pearson(predictions, labels):
    pred, gold = _floats(predictions, labels)
    return {"pearson": 100.0 * _pearson(pred, gold)}


@METRICS.register("spearman", keys=("spearman",))
def spearman(predictions, labels):
    pred, gold = _floats(predictions, labels)
    return {"spearman": 100.0 * _pearson(rank(pred), rank(gold))}


@METRICS.register("threshold_f1", keys=("f1",))
def threshold_f1(predictions, labels, threshold=3.0):
    """``{"f1": percent}``: binary F1 after scores >= ``threshold`` become 1 (KLUE-STS uses 3.0)."""
    pred, gold = _floats(predictions, labels)
    return binary_f1((pred >= threshold).astype(int), (gold >= threshold).astype(int), positive_label="1")


@METRICS.register("klue_sts", keys=("pearson", "f1"))
def klue_sts(predictions, labels):
    """KLUE-STS: Pearson of the scores and F1 of the binary labels at the 3.0 threshold."""
    return {**pearson(predictions, labels), **threshold_f1(predictions, labels, threshold=3.0)}
