"""Find a BaseConfig by name (``klue/nsmc_bert``) or path and load it."""

import json
import logging
from collections.abc import Mapping
from importlib import resources
from pathlib import Path

from claf.config.defaults import with_defaults
from claf.config.errors import ConfigError
from claf.config.kinds import recipe_kind
from claf.config.legacy import normalize_token_block

logger = logging.getLogger(__name__)


def base_config_dirs() -> list[Path]:
    """Where named BaseConfigs live: the checkout's base_config/, then the installed copy."""
    dirs = []
    checkout = Path(__file__).resolve().parents[2] / "base_config"
    if checkout.is_dir():
        dirs.append(checkout)
    try:
        installed = Path(str(resources.files("claf") / "base_config"))
        if installed.is_dir() and installed not in dirs:
            dirs.append(installed)
    except (ModuleNotFoundError, TypeError):
        pass
    return dirs


def list_base_configs() -> list[str]:
    names: set[str] = set()
    for root in base_config_dirs():
        names.update(
            p.relative_to(root).with_suffix("").as_posix() for p in root.rglob("*.json") if not _is_schema(p, root)
        )
    return sorted(names)


def _is_schema(path: Path, root: Path) -> bool:
    """``base_config/schema/*.schema.json``: the editors' JSON Schemas (claf.config.schema), not recipes."""
    return path.name.endswith(".schema.json") or path.relative_to(root).parts[0] == "schema"


def find_base_config(name_or_path: str | Path) -> Path:
    """Return the JSON file a ``--base_config`` value names."""
    candidate = Path(name_or_path).expanduser()
    if candidate.is_file():
        return candidate
    if candidate.is_dir() and (candidate / "config.json").is_file():  # a run folder
        return candidate / "config.json"
    stem = str(name_or_path)[:-5] if str(name_or_path).endswith(".json") else str(name_or_path)
    for root in base_config_dirs():
        path = root / f"{stem}.json"
        if path.is_file():
            return path
    import difflib

    close = difflib.get_close_matches(stem, list_base_configs(), n=3)
    hint = f"; did you mean {', '.join(close)}?" if close else "; `python -m claf list` shows them"
    raise ConfigError(f"base config '{name_or_path}' not found as a file or a named BaseConfig{hint}")


def load_json(path: str | Path) -> dict:
    path = Path(path)
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except json.JSONDecodeError as e:
        raise ConfigError(f"{path}:{e.lineno}:{e.colno}: invalid JSON ({e.msg}); fix the file") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: a BaseConfig must be a JSON object at the top level")
    return data


def load_base_config(config: str | Path | Mapping, kind: str = "finetune") -> tuple[dict, str]:
    """``config`` is a name, a path or a dict. Returns (dict, source description).

    ``kind`` names the recipe kind (``claf.config.kinds``) whose blocks the config must have.
    """
    required = recipe_kind(kind).required
    if isinstance(config, Mapping):
        plain = config.to_dict() if hasattr(config, "to_dict") else dict(config)
        data, source = json.loads(json.dumps(plain)), "<dict>"
    else:
        path = find_base_config(config)
        data, source = load_json(path), str(path)
    data.pop("$schema", None)  # the editor's schema reference (python -m claf schema) is not part of the recipe
    missing = [b for b in required if b not in data]
    if missing:
        raise ConfigError(
            f"{source}: missing block(s) {', '.join(missing)}; this kind of BaseConfig needs {', '.join(required)}"
        )
    data, notes = normalize_token_block(data)
    for note in notes:
        logger.info("%s: %s", source, note)
    return with_defaults(data, kind), source
