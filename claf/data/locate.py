"""Can a path a recipe names be found? Asked by the typed spec before any data is read (no downloads here).

``file_problem(kind, key, path)`` returns None when the file can be had, else one line naming the key,
the path and where it was looked for:
  - kind ``data``: a data file (see claf.data.sources): an existing path, a mirror copy, a copy under the
    data root, or a manifest entry with a URL to download it from;
  - kind ``local``: a plain file or folder (a vocab file, a sentencepiece model), relative to the working
    directory.
"""

import os
from pathlib import Path, PurePosixPath

from claf.data.sources import data_root, load_manifest, mirror_root


def file_problem(kind: str, key: str, path: str) -> str | None:
    given = Path(path).expanduser()
    if given.exists():
        return None
    if kind == "local" or given.is_absolute():
        return f"'{path}' not found (relative to {os.getcwd()}); give an existing path"
    name = PurePosixPath(*Path(path).parts).as_posix()
    entry = load_manifest().get(name) or {}
    if entry.get("url"):
        return None  # downloaded (and verified) on first use
    looked = [f"{Path.cwd() / given}"]
    mirror = mirror_root()
    if mirror is not None:
        candidate = mirror / entry.get("mirror_name", name)
        if candidate.is_file():
            return None
        looked.append(str(candidate))
    candidate = data_root() / name
    if candidate.is_file():
        return None
    looked.append(str(candidate))
    mirror_hint = "" if mirror is not None else "set CLAF_DATA_MIRROR to a mirror folder holding it, "
    return (
        f"data file '{path}' not found (looked in {', '.join(looked)}; no download is known for it); "
        f"{mirror_hint}put it at {candidate}, or give an existing path"
    )
