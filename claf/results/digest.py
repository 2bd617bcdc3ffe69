"""Canonical JSON and its SHA-256: equal data gives equal keys (shared by the server, the client and the queue)."""

import hashlib
import json
from typing import Any


def canonical(obj: Any) -> str:
    """JSON with sorted keys and no spaces: equal data gives equal text."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def sha256_of(obj: Any) -> str:
    return hashlib.sha256(canonical(obj).encode("utf-8")).hexdigest()
