"""JSON Schemas of the recipe kinds, written next to the shipped BaseConfigs for editors.

``base_config/schema/<kind>.schema.json`` is generated from the typed specs (``python -m claf schema``);
every shipped BaseConfig names its kind's schema in ``"$schema"``, so an editor completes and checks keys.
A test regenerates them: a schema that drifts from the specs fails CI.
"""

import json
from pathlib import Path

from claf.config.kinds import RECIPE_KINDS
from claf.config.loader import base_config_dirs

SCHEMA_DIR = "schema"
SUFFIX = ".schema.json"


def schema_kinds() -> list[str]:
    """The kinds that get a schema: every recipe kind, and the server's settings."""
    return [*RECIPE_KINDS, "server"]


def schema_text(kind: str) -> str:
    from claf.config.specs import json_schema

    schema = json_schema(kind)
    schema["title"] = f"CLaF {kind} BaseConfig" if kind in RECIPE_KINDS else f"CLaF {kind} settings"
    return json.dumps(schema, indent=2, ensure_ascii=False, sort_keys=True) + "\n"


def default_schema_dir() -> Path:
    return base_config_dirs()[0] / SCHEMA_DIR


def write_schemas(out_dir: Path | None = None) -> list[Path]:
    """Write one ``<kind>.schema.json`` per kind (atomically); returns the paths."""
    from claf.atomic import atomic_write_text

    out = Path(out_dir) if out_dir is not None else default_schema_dir()
    paths = []
    for kind in schema_kinds():
        path = out / f"{kind}{SUFFIX}"
        atomic_write_text(path, schema_text(kind))
        paths.append(path)
    return paths


def stale_schemas(out_dir: Path | None = None) -> list[str]:
    """The kinds whose written schema differs from the specs (missing counts as different)."""
    out = Path(out_dir) if out_dir is not None else default_schema_dir()
    stale = []
    for kind in schema_kinds():
        path = out / f"{kind}{SUFFIX}"
        if not path.is_file() or path.read_text(encoding="utf-8") != schema_text(kind):
            stale.append(kind)
    return stale


def schema_reference(config_path: Path, kind: str) -> str:
    """The relative ``$schema`` a BaseConfig at ``config_path`` (under base_config/) carries."""
    root = default_schema_dir().parent
    depth = len(Path(config_path).resolve().relative_to(root.resolve()).parts) - 1
    return "../" * depth + f"{SCHEMA_DIR}/{kind}{SUFFIX}"
