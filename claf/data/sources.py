"""Find data files named relative to a data root (e.g. `nsmc/ratings_train.txt`).

Lookup order for a relative name:
  1. an absolute path, or a path that exists relative to the working directory: used as is;
  2. `$CLAF_DATA_MIRROR/<name>` (an offline mirror), verified against the manifest's sha256;
  3. `<data root>/<name>`, verified, else downloaded there from the manifest's URL.
The data root is `$CLAF_DATA_ROOT`, else `data/` at the repository top if it exists, else
`cache_root()/data`. `manifest.json` maps each known name to `{"url": ..., "sha256": ...}`;
a null url means the file comes from a mirror only, a null sha256 means it is not checked.
An entry may add `mirror_name`/`mirror_sha256` when the mirror keeps a different copy
(e.g. SQuAD dev rebuilt from the explorer pages, gzipped). An entry with `archive_member` names
a file inside the zip at `url` (GLUE ships zips): the zip is downloaded once to
`<data root>/.archives/` (checked against `archive_sha256` if given) and the member extracted.
"""

import gzip
import json
import os
from pathlib import Path, PurePosixPath

from claf.atomic import atomic_file
from claf.errors import UserError
from claf.hub.cache import HubError, cache_root, download, one_line, read_checksum, sha256_cached, write_checksum

MANIFEST_PATH = Path(__file__).with_name("manifest.json")
REPO_DATA_DIR = Path(__file__).resolve().parents[2] / "data"

_manifest_cache = {}


class DataFileError(UserError, FileNotFoundError):
    """A data file is missing or corrupt: one line naming the file and the fix."""


def load_manifest(path=None) -> dict:
    """The manifest (`manifest.json` beside this module unless `path` is given), read once."""
    path = Path(path) if path is not None else MANIFEST_PATH
    key = str(path)
    if key not in _manifest_cache:
        try:
            with open(path, encoding="utf-8") as f:
                _manifest_cache[key] = json.load(f)
        except (OSError, ValueError) as exc:
            raise DataFileError(
                f"{path}: cannot read the data manifest ({one_line(exc)}); restore it from the repository"
            ) from exc
    return _manifest_cache[key]


def data_root() -> Path:
    env = os.environ.get("CLAF_DATA_ROOT")
    if env:
        return Path(env).expanduser()
    if REPO_DATA_DIR.is_dir():
        return REPO_DATA_DIR
    return cache_root() / "data"


def mirror_root():
    """``$CLAF_DATA_MIRROR`` as an absolute path. A relative one (``export CLAF_DATA_MIRROR=../shared/data``)
    is taken from the working directory and written back absolute, so that the processes this one starts in
    other folders (factory jobs, torchrun workers, tests' subprocesses) find the same mirror."""
    env = os.environ.get("CLAF_DATA_MIRROR")
    if not env:
        return None
    root = Path(env).expanduser()
    if not root.is_absolute():
        root = root.resolve()
        os.environ["CLAF_DATA_MIRROR"] = str(root)
    return root


def resolve_data_file(path, manifest=None) -> Path:
    """Return an existing, verified local file for `path` (see the module docstring).

    `manifest` overrides the packaged manifest (a dict in the manifest's format).
    """
    given = Path(path).expanduser()
    if given.is_absolute() or given.exists():
        return _existing_file(given)
    name = PurePosixPath(*Path(path).parts).as_posix()
    entry = (load_manifest() if manifest is None else manifest).get(name) or {}
    expected = (entry.get("sha256") or "").lower() or None
    url = entry.get("url")
    looked, problems = [], []

    mirror = mirror_root()
    if mirror is not None:  # a mirror may hold a rebuilt copy under another name ("mirror_name")
        candidate = mirror / entry.get("mirror_name", name)
        looked.append(str(candidate))
        if candidate.is_file():
            return _verified(
                candidate,
                entry.get("mirror_sha256", expected),
                "the mirror copy is corrupt: restore it or unset CLAF_DATA_MIRROR to download",
            )
        problems.append(f"the mirror CLAF_DATA_MIRROR={mirror} has no {entry.get('mirror_name', name)}")

    root = data_root()
    candidate = root / name
    looked.append(str(candidate))
    if candidate.is_file():
        if _matches(candidate, expected):
            return candidate
        problems.insert(
            0, f"the local copy {candidate} is corrupt (sha256 {_hash(candidate)[:12]}..., expected {expected[:12]}...)"
        )
    if url:
        try:
            if entry.get("archive_member"):  # the file is one member of a zip (e.g. GLUE's QQP-clean.zip)
                return _from_archive(url, entry["archive_member"], candidate, expected, entry.get("archive_sha256"))
            return download(url, candidate, expected)
        except HubError as exc:
            problems.append(f"downloading {url} to {candidate} failed ({one_line(exc)})")
            raise DataFileError(
                f"data file '{name}': {'; '.join(problems)}; set CLAF_DATA_MIRROR to a folder "
                f"holding {name}, or put a good copy at {candidate}"
            ) from exc
    if candidate.is_file():  # corrupt, and no URL to fetch a good copy from
        return _verified(
            candidate, expected, "the local copy is corrupt: replace it, or set CLAF_DATA_MIRROR to a mirror folder"
        )
    where = "; ".join([f"looked in: {', '.join(looked)}"] + problems)
    raise DataFileError(
        f"data file '{path}' not found ({where}); set CLAF_DATA_MIRROR to a mirror folder, "
        f"put the file at {candidate}, or give an existing path"
    )


def _from_archive(url, member, candidate: Path, expected, archive_sha256=None) -> Path:
    """Download the zip at ``url`` once (under ``<data root>/.archives``), extract ``member`` to ``candidate``."""
    import hashlib
    import zipfile

    archive = download(url, data_root() / ".archives" / PurePosixPath(url.split("?")[0]).name, archive_sha256)
    try:
        with zipfile.ZipFile(archive) as z:
            data = z.read(member)
    except KeyError:
        raise DataFileError(
            f"{url}: the archive has no member '{member}'; fix archive_member in the manifest"
        ) from None
    except (OSError, zipfile.BadZipFile) as exc:
        raise DataFileError(f"{archive}: not a readable zip ({one_line(exc)}); delete it to download again") from exc
    actual = hashlib.sha256(data).hexdigest()
    if expected and actual != expected:
        raise DataFileError(
            f"{url}!{member}: checksum mismatch (expected {expected}, got {actual}); "
            "the archive changed upstream: fix the manifest's sha256"
        )
    with atomic_file(candidate) as out:
        out.write(data)
    write_checksum(candidate, actual)
    return candidate


def open_text(path, manifest=None, newline=None, encoding="utf-8"):
    """Open a data file as text (UTF-8 unless `encoding`); `.gz` files are decompressed on the fly.
    `newline` is `open`'s (`""` for the csv module)."""
    resolved = resolve_data_file(path, manifest)
    if resolved.suffix == ".gz":
        return gzip.open(resolved, "rt", encoding=encoding, newline=newline)
    return open(resolved, encoding=encoding, newline=newline)


def _existing_file(path: Path) -> Path:
    if path.is_dir():
        raise DataFileError(f"data file '{path}' is a directory; give the path of a file inside it")
    if not path.exists():
        raise DataFileError(f"data file '{path}' not found; give an existing path or a name relative to the data root")
    return path


def _verified(path: Path, expected, fix: str) -> Path:
    if expected:
        actual = _hash(path)
        if actual != expected:
            raise DataFileError(f"{path}: checksum mismatch (expected {expected}, got {actual}); {fix}")
    return path


def _hash(path: Path) -> str:
    try:
        return sha256_cached(path)
    except OSError as exc:
        raise DataFileError(f"{path}: cannot read the data file ({one_line(exc)}); check its permissions") from exc


def _matches(path: Path, expected) -> bool:
    """True if the file needs no check, or its checksum file or a fresh hash matches `expected`."""
    if not expected:
        return True
    checksum_file = path.with_name(path.name + ".sha256")
    recorded = read_checksum(path)
    if recorded == expected and checksum_file.stat().st_mtime_ns >= path.stat().st_mtime_ns:
        return True
    if _hash(path) != expected:
        return False
    try:
        write_checksum(path, expected)  # so later runs skip the hash
    except OSError:
        pass
    return True
