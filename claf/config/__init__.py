"""BaseConfig loading, overrides and freezing (pure Python, cheap to import)."""

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from claf.config.errors import ConfigError
from claf.config.frozen import FrozenConfig
from claf.config.kinds import RECIPE_KINDS, recipe_kind
from claf.config.loader import find_base_config, list_base_configs, load_base_config
from claf.config.overrides import apply_overrides, describe, split_argv


def resolve_config(
    config: "str | Path | Mapping | Any",
    overrides: Mapping | Sequence | None = None,
    kind: str = "finetune",
    files: Any = None,
) -> Any:
    """Name, path, dict or spec + overrides -> the typed spec of ``kind`` (``claf.config.specs``), built once.

    ``overrides``: a dict ``{"optimizer.learning_rate": 5e-5}``, (key, value) pairs, or an
    argv list ``["--optimizer.learning_rate", "5e-5"]``. ``files``: the check of the paths the recipe
    names (``claf.data.locate.file_problem``); None leaves paths to the components that open them.
    Every error is one ConfigError line, raised before any data or model is touched.
    """
    from claf.config.specs import build_spec
    from claf.config.specs.base import Recipe

    if isinstance(config, Recipe):
        if not overrides:
            return config
        config = config.to_dict()
    data, source = load_base_config(config, kind)
    if overrides:
        if isinstance(overrides, (list, tuple)) and all(isinstance(o, str) for o in overrides):
            overrides = split_argv(list(overrides))
        data = apply_overrides(data, overrides)
    return build_spec(kind, data, source, files)


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
