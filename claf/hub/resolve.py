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
import logging
import os
from pathlib import Path
from urllib.parse import unquote, urlparse

from claf.hub.archive import is_archive_name, safe_extract
from claf.hub.cache import HubError, cache_root, download, one_line, read_checksum, sha256_cached

logger = logging.getLogger(__name__)

URL_SCHEMES = ("http", "https", "file")
HINT = "give a model directory, a .tar.gz, a URL or a hub name"


def resolve_pretrained(name_or_path: str) -> str:
    """Return a local model directory, or the hub name unchanged (see the module docstring)."""
    text = os.fspath(name_or_path)
    for matches, resolve in RESOLVERS:
        if matches(text):
            return str(resolve(text))
    return check_hub_name(text)


def resolve_checkpoint(name_or_path: str | Path, pinned_sha256: str | None = None) -> tuple[Path | str, dict | None]:
    """Like ``resolve_pretrained``, plus what a run records to load the same weights again.

    Returns (model dir or hub name, record); record is ``{"name", "url", "sha256"}`` for a name from a
    model index, else None. ``pinned_sha256`` (a record of an earlier run) must match the index entry,
    or the archive it named must still be extracted in the cache; otherwise a HubError says so.
    """
    from claf.hub.index import lookup

    text = os.fspath(name_or_path)
    entry = lookup(text) if not is_url(text) and not is_existing_path(text) else None
    if entry is None:
        path = resolve_pretrained(text)
        logger.info("checkpoint %s -> %s", text, path)
        return path, None
    current = (entry.get("sha256") or "").lower() or None
    pinned = (pinned_sha256 or "").lower() or None
    if pinned and current != pinned:
        from claf.hub.archive import DONE_MARKER, model_dir

        kept = cache_root() / "models" / pinned[:16]
        if (kept / DONE_MARKER).exists():  # a complete extraction of the recorded archive
            kept = model_dir(kept)
            logger.warning(
                "checkpoint %s: the index %s now names another archive (sha256 %s); loading the one "
                "this run recorded (sha256 %s) from %s",
                text,
                entry["index"],
                current,
                pinned,
                kept,
            )
            return str(kept), {"name": text, "url": entry["url"], "sha256": pinned}
        raise HubError(
            f"checkpoint '{text}' was sha256 {pinned[:12]}... when this run was configured, but "
            f"{entry['index']} now names sha256 {(current or '?')[:12]}... (republished) and the old "
            "archive is not in the cache: remove resolved_checkpoint from the run's config.json to "
            "use the new weights, or name another checkpoint"
        )
    path = str(resolve_name(text))
    logger.info("checkpoint %s -> %s (sha256 %s, index %s)", text, path, current, entry["index"])
    return path, {"name": text, "url": entry["url"], "sha256": current}


def check_hub_name(name: str) -> str:
    """A name in no model index: fine if the Hugging Face hub (or its local cache) has it, else one line
    naming the indexes searched, the closest published names and how to publish or find one."""
    recipe = _recipe_of(name)
    if recipe:  # a LaRva name a shipped recipe publishes: not published yet, no need to ask the hub
        hub = ""
    else:
        try:
            from huggingface_hub import hf_hub_download

            hf_hub_download(name, "config.json")  # the local HF cache when offline; transformers needs it anyway
            return name
        except Exception as exc:  # noqa: BLE001 - not on the hub, offline, no network, bad repo id: "not found"
            hub = f" nor on the Hugging Face hub ({one_line(type(exc).__name__)})"
    from difflib import get_close_matches

    from claf.hub.index import index_locations, known_names

    names = known_names()
    close = get_close_matches(name, names, n=3, cutoff=0.5)
    closest = (
        f"closest: {', '.join(close)}"
        if close
        else (f"they hold {len(names)} names" if names else "they hold no names yet")
    )
    raise HubError(
        f"pretrained model '{name}' not found: not in the model indexes searched "
        f"({', '.join(index_locations())}; {closest}){hub}; "
        f"publish it (python pretrain.py --base_config {recipe or 'pretrain/<recipe>'}), point CLAF_MODEL_INDEX at "
        "the index that has it, or give a model directory, .tar.gz or URL"
    )


def _recipe_of(name: str) -> str | None:
    """The shipped pre-training recipe that publishes ``name`` (its ``name`` is a prefix), for the hint."""
    try:
        from claf.config.loader import find_base_config, list_base_configs, load_json

        for recipe in list_base_configs():
            if recipe.startswith("pretrain/"):
                prefix = load_json(find_base_config(recipe)).get("name") or ""
                if prefix and name.startswith(prefix + "-"):
                    return recipe
    except Exception:  # noqa: BLE001 - a hint must not fail
        pass
    return None


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
        raise HubError(
            f"{url}: unsupported URL scheme '{parsed.scheme}'; "
            f"use http://, https:// or file://, or download the model and give its path"
        )
    name = Path(unquote(parsed.path)).name
    if not is_archive_name(name):
        raise HubError(
            f"{url}: a pretrained-model URL must point to a .tar.gz or .tgz archive; "
            f"pack the model folder with claf.hub.archive.pack and give that URL"
        )
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
        raise HubError(f"{archive}: cannot read the archive ({one_line(exc)}); check its permissions") from exc
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
            raise HubError(
                f"checkpoint '{name}': {archive} (from {entry['index']}) is missing; publish it again or fix the index"
            )
        actual = sha256_cached(archive)
        if expected and actual != expected:
            raise HubError(
                f"checkpoint '{name}': {archive} does not match the index checksum (expected "
                f"{expected}, got {actual}); it is corrupt or was replaced: publish it again"
            )
        return extract_archive(archive, actual)
    archive = download(
        url,
        cache_root()
        / "downloads"
        / hashlib.sha256(url.encode("utf-8")).hexdigest()[:16]
        / Path(unquote(parsed.path)).name,
        expected,
    )
    return extract_archive(archive, read_checksum(archive))


RESOLVERS = [
    (is_s3_url, resolve_s3_url),
    (is_url, resolve_url),
    (is_existing_path, resolve_local),
    (is_indexed_name, resolve_name),
    (looks_like_path, missing_path),
]
