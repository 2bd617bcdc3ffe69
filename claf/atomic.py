"""Atomic file and directory writes: a reader sees the old version or the new one, never half.

Every layer that writes files (runs, checkpoints, caches, stores, vocabularies) uses these.
"""

import contextlib
import os
import shutil
import tempfile
from pathlib import Path


@contextlib.contextmanager
def atomic_dir(path, replace=True):
    """Yield a temporary directory next to ``path``; on success it replaces ``path``.

    ``replace=False``: a ``path`` that exists by then is kept and the new one dropped. For content that
    any writer builds the same, so concurrent writers need no lock: the first to finish wins."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.tmp-", dir=path.parent))
    try:
        yield tmp
        if not replace:
            try:
                os.rename(tmp, path)  # fails when another writer's complete directory is already there
            except OSError:
                if not path.is_dir():
                    raise
            return
        old = None
        if path.exists():
            old = path.with_name(f".{path.name}.old-{os.getpid()}")
            os.replace(path, old)
        os.replace(tmp, path)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


@contextlib.contextmanager
def atomic_file(path, mode="wb", private=False):
    """Yield a temporary file next to ``path``; on success it is synced and renamed to ``path``.

    On any error the temporary file is removed and ``path`` is untouched. ``private``: the file is
    0600 from its creation (a secret is never readable by others, not even for a moment).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    try:
        if not private:
            os.fchmod(fd, 0o666 & ~_umask())  # mkstemp makes 0600; the result is readable like any new file
        with os.fdopen(fd, mode, encoding=None if "b" in mode else "utf-8") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    fsync_dir(path.parent)


def atomic_write_text(path, text, private=False):
    with atomic_file(path, "w", private=private) as f:
        f.write(text)


def fsync_dir(folder):
    """Make a rename durable; best effort (not every OS or file system allows it)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _umask():
    mask = os.umask(0o022)
    os.umask(mask)
    return mask
