"""BaseConfig loading, overrides and freezing (pure Python, cheap to import)."""

from collections.abc import Mapping, Sequence
from pathlib import Path

from claf.config.errors import ConfigError
from claf.config.frozen import FrozenConfig
from claf.config.kinds import RECIPE_KINDS, recipe_kind
from claf.config.loader import find_base_config, list_base_configs, load_base_config
from claf.config.overrides import apply_overrides, describe, split_argv


def resolve_config(
    config: str | Path | Mapping, overrides: Mapping | Sequence | None = None, kind: str = "finetune"
) -> FrozenConfig:
    """Name, path or dict + overrides -> FrozenConfig.

    ``overrides``: a dict ``{"optimizer.learning_rate": 5e-5}``, (key, value) pairs, or an
    argv list ``["--optimizer.learning_rate", "5e-5"]``.
    """
    data, _source = load_base_config(config, kind)
    if overrides:
        if isinstance(overrides, (list, tuple)) and all(isinstance(o, str) for o in overrides):
            overrides = split_argv(list(overrides))
        data = apply_overrides(data, overrides)
    return FrozenConfig(data)


__all__ = [
    "RECIPE_KINDS",
    "ConfigError",
    "FrozenConfig",
    "apply_overrides",
    "describe",
    "find_base_config",
    "list_base_configs",
    "load_base_config",
    "recipe_kind",
    "resolve_config",
    "split_argv",
]
