"""A local download cache: files are fetched once, verified by SHA-256 and written atomically.

Each cached file `x` has a checksum file `x.sha256` next to it (`<hex>  <name>`, the
format of `sha256sum`). A file is reused without network when its checksum file matches it.
"""

import hashlib
import os
from pathlib import Path
from urllib.parse import unquote, urlparse
from urllib.request import url2pathname

from claf.atomic import atomic_file, atomic_write_text
from claf.errors import UserError
from claf.paths import cache_dir

CHUNK_SIZE = 1 << 20
CONNECT_TIMEOUT = 15
READ_TIMEOUT = 60

_hash_memo = {}


class HubError(UserError, RuntimeError):
    """A model or file could not be fetched or unpacked: one line naming the file/URL and the fix."""


def one_line(text) -> str:
    """Collapse any text (e.g. an exception message) onto a single line."""
    return " ".join(str(text).split())


def cache_root() -> Path:
    """`$CLAF_CACHE` if set, else `~/.cache/claf` (see ``claf.paths``)."""
    return cache_dir()


def sha256_file(path) -> str:
    """SHA-256 hex digest of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(CHUNK_SIZE), b""):
            digest.update(chunk)
    return digest.hexdigest()


def sha256_cached(path) -> str:
    """Like `sha256_file`, but hashes a file once per process while its size and mtime stay the same."""
    path = Path(path).resolve()
    stat = path.stat()
    key = (str(path), stat.st_size, stat.st_mtime_ns)
    if key not in _hash_memo:
        _hash_memo[key] = sha256_file(path)
    return _hash_memo[key]


def checksum_path(path) -> Path:
    path = Path(path)
    return path.with_name(path.name + ".sha256")


def read_checksum(path):
    """The hex digest recorded in `path.sha256`, or None if there is none (or it is unreadable)."""
    try:
        text = checksum_path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    fields = text.split()
    return fields[0].lower() if fields else None


def write_checksum(path, digest: str) -> None:
    path = Path(path)
    atomic_write_text(checksum_path(path), f"{digest}  {path.name}\n")


def remove_quietly(path) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def is_cached(dest, sha256=None) -> bool:
    """True if `dest` exists and its checksum file matches it (and `sha256`, when given)."""
    dest = Path(dest)
    if not dest.is_file():
        return False
    recorded = read_checksum(dest)
    if recorded is None or (sha256 and recorded != sha256.lower()):
        return False
    return sha256_cached(dest) == recorded


def download(url: str, dest, sha256=None) -> Path:
    """Fetch `url` into `dest` once; later calls with a matching checksum file reuse it offline.

    With `sha256`, the downloaded bytes must match it or nothing is written under `dest`.
    `file://` URLs are copied, which is handy for tests and shared folders.
    """
    dest = Path(dest)
    expected = sha256.lower() if sha256 else None
    if is_cached(dest, expected):
        return dest
    remove_quietly(checksum_path(dest))  # the checksum file is rewritten once the new bytes are in place
    try:
        with atomic_file(dest) as out:
            actual = _fetch(url, out)
            if expected and actual != expected:
                raise HubError(
                    f"{url}: checksum mismatch (expected {expected}, got {actual}); the download "
                    "is corrupt or changed upstream: retry, or fix the expected sha256"
                )
    except OSError as exc:
        raise HubError(
            f"{dest}: cannot save the download of {url} ({one_line(exc)}); make {dest.parent} "
            "writable, free disk space, or point CLAF_CACHE / CLAF_DATA_ROOT elsewhere"
        ) from exc
    write_checksum(dest, actual)
    return dest


def _fetch(url: str, out) -> str:
    """Stream `url` into the open binary file `out`; return the SHA-256 of the bytes written."""
    scheme = urlparse(url).scheme.lower()
    if scheme == "file":
        return _copy_local(url, out)
    if scheme in ("http", "https"):
        return _fetch_http(url, out)
    raise HubError(f"{url}: unsupported URL scheme '{scheme}'; use http://, https:// or file://")


def _copy_local(url: str, out) -> str:
    parsed = urlparse(url)
    if parsed.netloc not in ("", "localhost"):
        raise HubError(f"{url}: file:// URLs must name a local path (file:///abs/path); fix the URL")
    source = Path(url2pathname(unquote(parsed.path)))
    digest = hashlib.sha256()
    try:
        with open(source, "rb") as f:
            for chunk in iter(lambda: f.read(CHUNK_SIZE), b""):
                digest.update(chunk)
                out.write(chunk)
    except OSError as exc:
        raise HubError(f"{url}: cannot read {source} ({one_line(exc)}); check that the file exists") from exc
    return digest.hexdigest()


def _fetch_http(url: str, out) -> str:
    import requests

    digest = hashlib.sha256()
    try:
        with requests.get(url, stream=True, timeout=(CONNECT_TIMEOUT, READ_TIMEOUT)) as response:
            response.raise_for_status()
            for chunk in response.iter_content(chunk_size=CHUNK_SIZE):
                if chunk:
                    digest.update(chunk)
                    out.write(chunk)
    except requests.RequestException as exc:
        raise HubError(
            f"{url}: download failed ({one_line(exc)}); check the URL and the network, "
            f"or place the file in the cache by hand"
        ) from exc
    return digest.hexdigest()
