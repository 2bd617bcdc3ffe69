"""Small helpers shared by the server and the client (kept free of heavy imports)."""

import hashlib
import json
import os
from pathlib import Path
from typing import Any


def claf_home() -> Path:
    """``$CLAF_HOME`` if set, else ``~/.cache/claf``."""
    return Path(os.environ.get("CLAF_HOME") or Path.home() / ".cache" / "claf")


def canonical(obj: Any) -> str:
    """JSON with sorted keys and no spaces: equal data gives equal text."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def sha256_of(obj: Any) -> str:
    return hashlib.sha256(canonical(obj).encode("utf-8")).hexdigest()
