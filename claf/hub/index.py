"""The model index: checkpoint names -> URLs (+ checksum), so configs can say ``larva-kor-tiny-2k``.

An index is a JSON file ``{"format": 1, "models": {name: {"url", "sha256", "bytes", ...}}}``.
Every store keeps one (``index.json`` at its root) and publishing also records the name in the
local index (the default local store's ``index.json``), so names published from this machine
resolve here. ``$CLAF_MODEL_INDEX`` adds indexes to search first (comma-separated paths or
file://, http(s):// or s3:// URLs), e.g. a team's S3 index on another machine.
"""

import contextlib
import json
import os
import re
from pathlib import Path
from urllib.parse import unquote, urlparse
from urllib.request import url2pathname

from claf.hub.cache import HubError, one_line

INDEX_KEY = "index.json"
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
REPLICA_NAME = re.compile(r"^(?P<model>.+)-s(?P<seed>\d+)$")  # a pre-training seed's replica of a model


def identity(name: str, family: str | None = None, seed: int | None = None) -> tuple[str, int | None]:
    """A model's (family, pretrain seed): the given ones, else those its name spells (``<family>-s<seed>``)."""
    m = REPLICA_NAME.match(name)
    if family is None:
        family = m.group("model") if m and (seed is None or int(m.group("seed")) == seed) else name
    if seed is None and m and family == m.group("model"):
        seed = int(m.group("seed"))
    return family, seed


def replica_fields(recipe: dict) -> dict:
    """A pre-training run's {family, pretrain_seed}, from its frozen recipe: a replica of ``--seeds`` is named
    ``<family>-s<seed>`` with ``seed_num`` that seed; any other run is its own family."""
    name, seed = recipe.get("name"), recipe.get("seed_num")
    if not name:
        return {}
    family, seed = identity(name, None, seed if isinstance(seed, int) else None)
    return {"family": family, "pretrain_seed": seed}


def check_name(name):
    if not NAME_PATTERN.match(name or "") or name.lower().endswith((".tar.gz", ".tgz")):
        raise HubError(
            f"checkpoint name '{name}' must be letters, digits, '.', '_' or '-' (no suffix); e.g. larva-kor-tiny-2k"
        )
    return name


def parse(text, where):
    try:
        data = json.loads(text) if text else {}
    except json.JSONDecodeError as exc:
        raise HubError(
            f"{where}:{exc.lineno}: the model index is not valid JSON ({exc.msg}); fix or delete it"
        ) from None
    models = data.get("models", {}) if isinstance(data, dict) else None
    if not isinstance(models, dict):
        raise HubError(f"{where}: the model index needs a 'models' object; fix or delete it")
    return models


def dump(models):
    return json.dumps({"format": 1, "models": dict(sorted(models.items()))}, indent=2, ensure_ascii=False) + "\n"


def register(store, name, entry):
    """Add ``name`` to the store's index (and to the local index when the store is elsewhere)."""
    from claf.hub.store import LocalStore

    check_name(name)
    targets = [store]
    local = LocalStore()
    if not (store.kind == "local" and Path(store.root).resolve() == local.root.resolve()):
        targets.append(local)
    for target in targets:
        with _locked(target):
            models = parse(target.read_text(INDEX_KEY), target.url(INDEX_KEY))
            models[name] = dict(entry)
            target.write_text(INDEX_KEY, dump(models))


def index_locations():
    """Where names are looked up, in order: $CLAF_MODEL_INDEX entries, then the local index."""
    from claf.hub.store import default_local_root

    extra = [x.strip() for x in os.environ.get("CLAF_MODEL_INDEX", "").split(",") if x.strip()]
    return extra + [str(default_local_root() / INDEX_KEY)]


def lookup(name):
    """The index entry of ``name`` (with ``index``: where it was found), or None."""
    if not NAME_PATTERN.match(name):
        return None
    for location in index_locations():
        text = read_location(location)
        if text is None:
            continue
        entry = parse(text, location).get(name)
        if entry:
            if not entry.get("url"):
                raise HubError(f"{location}: index entry '{name}' has no url; publish it again")
            return dict(entry, index=location)
    return None


def known_names():
    """Every name in the indexes that can be read (unreadable ones are skipped: this is for hints)."""
    names = set()
    for location in index_locations():
        try:
            text = read_location(location)
            names.update(parse(text, location) if text else {})
        except Exception:  # noqa: BLE001 - a hint must not fail
            continue
    return sorted(names)


def read_location(location):
    """An index's text, or None when it does not exist yet."""
    scheme = urlparse(location).scheme.lower() if "://" in location else ""
    if scheme in ("", "file"):
        path = Path(url2pathname(unquote(urlparse(location).path))) if scheme else Path(location).expanduser()
        try:
            return path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise HubError(f"{location}: cannot read the model index ({one_line(exc)})") from exc
    if scheme == "s3":
        from claf.hub import s3

        bucket, key = s3.parse_s3_url(location)
        client = s3.client()
        if s3.head(client, bucket, key) is None:
            return None
        try:
            return client.get_object(Bucket=bucket, Key=key)["Body"].read().decode("utf-8")
        except s3.boto_errors() as exc:
            raise s3.explain(exc, location) from exc
    if scheme in ("http", "https"):
        import requests

        try:
            response = requests.get(location, timeout=(15, 60))
            if response.status_code == 404:
                return None
            response.raise_for_status()
            return response.text
        except requests.RequestException as exc:
            raise HubError(
                f"{location}: cannot fetch the model index ({one_line(exc)}); check CLAF_MODEL_INDEX"
            ) from exc
    raise HubError(f"CLAF_MODEL_INDEX entry '{location}': use a path or a file://, http(s):// or s3:// URL")


@contextlib.contextmanager
def _locked(store):
    """Serialise index updates of a local store between processes (S3: last writer wins)."""
    if store.kind != "local":
        yield
        return
    import fcntl

    store.root.mkdir(parents=True, exist_ok=True)
    with open(store.root / f".{INDEX_KEY}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
