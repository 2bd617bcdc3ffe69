"""Metric specs as readers and configs declare them: a registered name, or a dict
``{"name": "f1", "positive_label": "0"}`` whose other keys are passed to the metric."""

import functools
from collections.abc import Mapping

from claf.registry import METRICS


def plain(spec):
    """A spec as plain JSON data (configs hand readers read-only mappings)."""
    return dict(spec) if isinstance(spec, Mapping) else spec


def metric_function(spec):
    """A spec -> ``f(predictions, references) -> {key: score}``."""
    if isinstance(spec, str):
        return METRICS.get(spec)
    if isinstance(spec, Mapping) and isinstance(spec.get("name"), str):
        options = {k: v for k, v in spec.items() if k != "name"}
        return functools.partial(METRICS.get(spec["name"]), **options)
    raise ValueError(f"a metric is a registered name or {{'name': ..., <options>}}, got {spec!r}")


def metric_name(spec) -> str:
    return spec if isinstance(spec, str) else spec["name"]


def metric_keys(spec) -> tuple:
    """The score keys a metric reports, as declared where it is registered (the first is its main score)."""
    return tuple(METRICS.info(metric_name(spec)).get("keys") or (metric_name(spec),))


def main_key(metrics) -> str:
    """The main score key of a reader's metric list: the first metric's first key."""
    return metric_keys(metrics[0])[0]


def produced_keys(metrics) -> list[str]:
    """Every score key evaluation reports for these metrics (plus the validation loss)."""
    keys = [key for spec in metrics for key in metric_keys(spec)]
    return keys + ["loss"]
