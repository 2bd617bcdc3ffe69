"""The user's folders, decided in one place.

    user_dir()    $CLAF_HOME if set, else ~/.cache/claf: what claf keeps for the user (the results
                  database bench.sqlite, the results outbox, the server token, the factory's scratch)
    cache_dir()   $CLAF_CACHE if set, else ~/.cache/claf: what can be fetched or built again
                  (downloaded models and files, random models for latency runs)

Both default to the same folder; setting one variable moves only its half. A leading ``~`` in
either variable is expanded.
"""

import os
from pathlib import Path

DEFAULT = Path("~/.cache/claf")


def _from_env(name: str) -> Path:
    return Path(os.environ.get(name) or DEFAULT).expanduser()


def user_dir() -> Path:
    """``$CLAF_HOME`` if set, else ``~/.cache/claf``."""
    return _from_env("CLAF_HOME")


def cache_dir() -> Path:
    """``$CLAF_CACHE`` if set, else ``~/.cache/claf``."""
    return _from_env("CLAF_CACHE")
