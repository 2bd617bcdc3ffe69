"""Packing a model folder into a .tar.gz and extracting untrusted archives safely.

`safe_extract` refuses absolute member names, `..` components, every kind of link and
device/fifo members, extracts into a temporary folder next to the destination and renames
it into place, so the destination either holds a complete extraction or does not exist.
"""

import os
import re
import shutil
import tarfile
import tempfile
import zlib
from pathlib import Path

from claf.atomic import atomic_file, fsync_dir
from claf.hub.cache import HubError, one_line

ARCHIVE_SUFFIXES = (".tar.gz", ".tgz")
DONE_MARKER = ".claf-extracted"
FILTER_ERROR = getattr(tarfile, "FilterError", ())  # only Pythons with extraction filters


def is_archive_name(name) -> bool:
    return str(name).lower().endswith(ARCHIVE_SUFFIXES)


def archive_stem(tar_path) -> str:
    """`larva-kor-tiny-2k.tar.gz` -> `larva-kor-tiny-2k`."""
    name = Path(tar_path).name
    for suffix in ARCHIVE_SUFFIXES + (".tar",):
        if name.lower().endswith(suffix):
            return name[: -len(suffix)]
    return name


def pack(src_dir, tar_path) -> Path:
    """Write `src_dir` as a .tar.gz whose members sit under one folder named after the archive."""
    src_dir, tar_path = Path(src_dir), Path(tar_path)
    if not src_dir.is_dir():
        raise HubError(f"{src_dir}: not a directory; give the model folder to pack")
    if tar_path.resolve().is_relative_to(src_dir.resolve()):
        raise HubError(f"{tar_path}: the archive would be written inside {src_dir}; write it elsewhere")
    top = archive_stem(tar_path)
    if not top:
        raise HubError(f"{tar_path}: the archive needs a name before its suffix; e.g. model.tar.gz")
    try:
        with atomic_file(tar_path) as raw, tarfile.open(fileobj=raw, mode="w:gz", dereference=True) as tar:
            tar.add(src_dir, arcname=top, filter=_plain_owner)
    except OSError as exc:
        raise HubError(
            f"{tar_path}: cannot pack {src_dir} ({one_line(exc)}); check that every file in it is readable"
        ) from exc
    return tar_path


def _plain_owner(info: tarfile.TarInfo) -> tarfile.TarInfo:
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    return info


def unsafe_reason(member: tarfile.TarInfo):
    """Why a member must not be extracted, or None when it is a plain file or folder."""
    name = member.name
    if not name:
        return "empty name"
    if name.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", name):
        return "absolute path"
    if ".." in re.split(r"[\\/]", name):
        return "'..' component"
    if member.issym() or member.islnk():
        return "link"
    if member.ischr() or member.isblk() or member.isfifo():
        return "device or fifo"
    if not (member.isfile() or member.isdir()):
        return "special member"
    return None


def is_complete(dest_dir) -> bool:
    return (Path(dest_dir) / DONE_MARKER).is_file()


def model_dir(dest_dir) -> Path:
    """The single top-level folder of an extraction, else the extraction folder itself."""
    dest_dir = Path(dest_dir)
    entries = [e for e in dest_dir.iterdir() if e.name != DONE_MARKER]
    if len(entries) == 1 and entries[0].is_dir():
        return entries[0]
    return dest_dir


def safe_extract(tar_path, dest_dir) -> Path:
    """Extract a .tar.gz into `dest_dir` (once; a complete earlier extraction is reused).

    Returns the model folder: the archive's single top-level folder if it has exactly one,
    else `dest_dir`.
    """
    tar_path, dest_dir = Path(tar_path), Path(dest_dir)
    if is_complete(dest_dir):
        return model_dir(dest_dir)
    if dest_dir.is_dir() and not any(dest_dir.iterdir()):
        dest_dir.rmdir()
    if dest_dir.exists():
        raise HubError(f"{dest_dir}: exists but is not a finished extraction of {tar_path}; delete it and retry")
    try:
        dest_dir.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(dir=dest_dir.parent, prefix=f".{dest_dir.name}.", suffix=".part"))
    except OSError as exc:
        raise HubError(
            f"{dest_dir.parent}: cannot extract {tar_path} there ({one_line(exc)}); "
            f"make it writable or set CLAF_CACHE to another folder"
        ) from exc
    try:
        _extract_checked(tar_path, tmp)
        marker = tmp / DONE_MARKER
        with open(marker, "w", encoding="utf-8") as f:
            f.write(f"{tar_path.name}\n")
            f.flush()
            os.fsync(f.fileno())
        fsync_dir(tmp)
        try:
            os.replace(tmp, dest_dir)
        except OSError as exc:
            if not is_complete(dest_dir):  # not just another process that finished first
                raise HubError(
                    f"{dest_dir}: cannot move the extraction into place ({one_line(exc)}); delete {dest_dir} and retry"
                ) from exc
            shutil.rmtree(tmp, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    fsync_dir(dest_dir.parent)
    return model_dir(dest_dir)


def _extract_checked(tar_path: Path, target: Path) -> None:
    try:
        with tarfile.open(tar_path, "r:*") as tar:
            members = tar.getmembers()
            for member in members:
                reason = unsafe_reason(member)
                if reason:
                    raise HubError(
                        f"{tar_path}: unsafe member {member.name!r} ({reason}); "
                        f"refusing to extract: rebuild the archive without it"
                    )
            if hasattr(tarfile, "data_filter"):
                tar.extractall(target, members=members, filter="data")
            else:  # pragma: no cover - Pythons without extraction filters
                tar.extractall(target, members=members)
    except FILTER_ERROR as exc:
        name = exc.tarinfo.name if exc.tarinfo is not None else "?"
        raise HubError(
            f"{tar_path}: unsafe member {name!r} ({one_line(exc)}); refusing to extract: rebuild the archive without it"
        ) from exc
    except FileNotFoundError as exc:
        raise HubError(f"{tar_path}: archive not found; check the path") from exc
    except (tarfile.TarError, EOFError, zlib.error, OSError) as exc:
        raise HubError(
            f"{tar_path}: cannot extract ({one_line(exc)}); "
            f"the archive is damaged or not a .tar.gz: re-download or rebuild it"
        ) from exc
