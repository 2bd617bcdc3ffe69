"""Turn a `pretrained` setting into something `from_pretrained` can load.

Accepted forms, tried in the order of `RESOLVERS`:
  * an s3:// URL to a .tar.gz (claf.hub.s3; credentials from the environment): fetched once, verified;
  * a URL (http://, https://, file://) to a .tar.gz/.tgz: downloaded once, extracted once;
  * an existing local directory: returned as is;
  * an existing local .tar.gz/.tgz: extracted once into the cache;
  * a checkpoint name found in a model index (claf.hub.index), e.g. ``larva-kor-tiny-2k``;
  * a path-looking string that does not exist: an error;
  * anything else: returned unchanged, as a hub name for transformers.

To support a new form write a `(matches, resolve)`
pair and insert it into `RESOLVERS`.
"""

import hashlib
import os
from pathlib import Path
from urllib.parse import unquote, urlparse

from claf.hub.archive import is_archive_name, safe_extract
from claf.hub.cache import HubError, cache_root, download, one_line, read_checksum, sha256_cached

URL_SCHEMES = ("http", "https", "file")
HINT = "give a model directory, a .tar.gz, a URL or a hub name"


def resolve_pretrained(name_or_path: str) -> str:
    """Return a local model directory, or the hub name unchanged (see the module docstring)."""
    text = os.fspath(name_or_path)
    for matches, resolve in RESOLVERS:
        if matches(text):
            return str(resolve(text))
    return text


def is_url(text: str) -> bool:
    return "://" in text and bool(urlparse(text).scheme)


def is_existing_path(text: str) -> bool:
    return Path(text).expanduser().exists()


def looks_like_path(text: str) -> bool:
    """True for strings that can only mean a file path.

    Hub ids are `name` or `org/name`, so a single '/' is not enough to call it a path.
    """
    if text.startswith((".", "~", "/", os.sep)) or is_archive_name(text):
        return True
    if os.sep != "/" and os.sep in text:
        return True
    return text.count("/") > 1


def resolve_url(url: str) -> Path:
    parsed = urlparse(url)
    if parsed.scheme.lower() not in URL_SCHEMES:
        raise HubError(f"{url}: unsupported URL scheme '{parsed.scheme}'; "
                       f"use http://, https:// or file://, or download the model and give its path")
    name = Path(unquote(parsed.path)).name
    if not is_archive_name(name):
        raise HubError(f"{url}: a pretrained-model URL must point to a .tar.gz or .tgz archive; "
                       f"pack the model folder with claf.hub.archive.pack and give that URL")
    key = hashlib.sha256(url.encode("utf-8")).hexdigest()[:16]
    archive = download(url, cache_root() / "downloads" / key / name)
    return extract_archive(archive, read_checksum(archive))


def resolve_local(text: str) -> Path | str:
    path = Path(text).expanduser()
    if path.is_dir():
        return path if text.startswith("~") else text
    if path.is_file() and is_archive_name(path.name):
        return extract_archive(path)
    raise HubError(f"pretrained model '{text}' is a file, not a model directory or a .tar.gz/.tgz; {HINT}")


def missing_path(text: str) -> HubError:
    raise HubError(f"pretrained model '{text}' not found: no such file or directory; {HINT}")


def extract_archive(archive: str | Path, digest: str | None = None) -> Path:
    """Extract a local archive into `cache_root()/models/<sha256[:16]>/` (once) and return the model dir."""
    archive = Path(archive)
    try:
        digest = digest or sha256_cached(archive)
    except OSError as exc:
        raise HubError(f"{archive}: cannot read the archive ({one_line(exc)}); "
                       f"check its permissions") from exc
    return safe_extract(archive, cache_root() / "models" / digest[:16])


def is_s3_url(text: str) -> bool:
    return text.lower().startswith("s3://")


def resolve_s3_url(url: str, sha256: str | None = None) -> Path:
    """``s3://bucket/key.tar.gz``: downloaded once (credentials/endpoint from the environment), verified."""
    from claf.hub import s3
    from claf.hub.cache import is_cached

    _bucket, key = s3.parse_s3_url(url)
    name = Path(key).name
    if not is_archive_name(name):
        raise HubError(f"{url}: a pretrained-model URL must point to a .tar.gz or .tgz archive")
    dest = cache_root() / "downloads" / hashlib.sha256(url.encode("utf-8")).hexdigest()[:16] / name
    if not is_cached(dest, sha256):
        s3.download(url, dest, sha256)
    return extract_archive(dest, read_checksum(dest))


def is_indexed_name(text: str) -> bool:
    from claf.hub.index import lookup

    return lookup(text) is not None


def resolve_name(name: str) -> Path:
    """A checkpoint name from a model index -> its archive (fetched once, verified) -> model dir."""
    from claf.hub.index import lookup

    entry = lookup(name)
    url, expected = entry["url"], (entry.get("sha256") or "").lower() or None
    if is_s3_url(url):
        return resolve_s3_url(url, expected)
    parsed = urlparse(url)
    if parsed.scheme.lower() == "file":  # a local store: verify in place, no copy
        archive = Path(unquote(parsed.path))
        if not archive.is_file():
            raise HubError(f"checkpoint '{name}': {archive} (from {entry['index']}) is missing; publish it again "
                           f"or fix the index")
        actual = sha256_cached(archive)
        if expected and actual != expected:
            raise HubError(f"checkpoint '{name}': {archive} does not match the index checksum (expected "
                           f"{expected}, got {actual}); it is corrupt or was replaced: publish it again")
        return extract_archive(archive, actual)
    archive = download(url, cache_root() / "downloads" / hashlib.sha256(url.encode("utf-8")).hexdigest()[:16]
                       / Path(unquote(parsed.path)).name, expected)
    return extract_archive(archive, read_checksum(archive))


RESOLVERS = [
    (is_s3_url, resolve_s3_url),
    (is_url, resolve_url),
    (is_existing_path, resolve_local),
    (is_indexed_name, resolve_name),
    (looks_like_path, missing_path),
]
