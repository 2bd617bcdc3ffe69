"""``claf_task.json``: what a saved checkpoint needs to serve raw input again (plain JSON, no torch).

{"model": {"name", "options"}, "data_reader": {"dataset", "options"}, "plugins": [modules]}
"""

import json
from collections.abc import Iterable
from pathlib import Path

from claf.atomic import atomic_write_text
from claf.errors import MissingFileError

TASK_FILE = "claf_task.json"


def task_meta(
    model_name: str, model_options: dict, reader_name: str, reader_options: dict, plugins: Iterable[str] = ()
) -> dict:
    return {
        "model": {"name": model_name, "options": model_options},
        "data_reader": {"dataset": reader_name, "options": reader_options},
        "plugins": list(plugins),
    }


def write_task_file(folder: str | Path, meta: dict) -> None:
    atomic_write_text(Path(folder) / TASK_FILE, json.dumps(meta, indent=2, ensure_ascii=False) + "\n")


def read_task_file(path: str | Path) -> dict:
    file = Path(path) / TASK_FILE
    if not file.is_file():
        raise MissingFileError(
            f"{file} not found: {path} is not a checkpoint saved by claf (give a run folder or its checkpoints/best)"
        )
    return json.loads(file.read_text(encoding="utf-8"))


def read_task_plugins(path: str | Path) -> list:
    """The plugin modules a checkpoint was trained with (none when it has no task file)."""
    file = Path(path) / TASK_FILE
    return list(json.loads(file.read_text(encoding="utf-8")).get("plugins") or []) if file.is_file() else []
