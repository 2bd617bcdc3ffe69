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
