"""BaseConfig loading, overrides and freezing (pure Python, cheap to import)."""

from claf.config.errors import ConfigError
from claf.config.frozen import FrozenConfig
from claf.config.loader import REQUIRED_BLOCKS, find_base_config, list_base_configs, load_base_config
from claf.config.overrides import apply_overrides, describe, split_argv


def resolve_config(config, overrides=None, required=REQUIRED_BLOCKS):
    """Name, path or dict + overrides -> FrozenConfig.

    ``overrides``: a dict ``{"optimizer.learning_rate": 5e-5}``, (key, value) pairs, or an
    argv list ``["--optimizer.learning_rate", "5e-5"]``.
    """
    data, _source = load_base_config(config, required)
    if overrides:
        if isinstance(overrides, (list, tuple)) and all(isinstance(o, str) for o in overrides):
            overrides = split_argv(list(overrides))
        data = apply_overrides(data, overrides)
    return FrozenConfig(data)


__all__ = [
    "ConfigError",
    "FrozenConfig",
    "apply_overrides",
    "describe",
    "find_base_config",
    "list_base_configs",
    "load_base_config",
    "resolve_config",
    "split_argv",
]
