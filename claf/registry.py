"""One small Registry class and one registry per pluggable kind.

A component registers itself where it is defined::

    @READERS.register("seq_cls")
    class SeqClsReader: ...

Each registry knows the package that holds its components and imports it on the
first lookup, so ``import claf`` stays light and a new component file is found
without editing any list.
"""

import difflib
import importlib
import pkgutil
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from claf.errors import UserError

T = TypeVar("T")


class RegistryError(UserError, KeyError):
    def __str__(self) -> str:  # KeyError quotes its message; we want the plain line
        return str(self.args[0]) if self.args else ""


class Registry:
    def __init__(self, kind: str, packages: Iterable[str] = ()) -> None:
        self.kind = kind
        self.packages = tuple(packages)
        self._entries: dict[str, Any] = {}
        self._info: dict[str, dict] = {}
        self._loaded = False

    def register(self, name: str, **info: Any) -> Callable[[T], T]:
        """Register ``obj`` under ``name``; ``info`` is metadata about it (e.g. a metric's ``main`` key)."""

        def decorator(obj: T) -> T:
            if name in self._entries and self._entries[name] is not obj:
                raise RegistryError(
                    f"{self.kind} '{name}' is registered twice "
                    f"({_where(self._entries[name])} and {_where(obj)}); pick another name"
                )
            self._entries[name] = obj
            self._info[name] = info
            return obj

        return decorator

    def load(self) -> None:
        """Import every module of this registry's packages (once), and the installed plugins."""
        if self._loaded:
            return
        self._loaded = True
        load_entry_point_plugins()
        for package_name in self.packages:
            package = importlib.import_module(package_name)
            for info in pkgutil.walk_packages(getattr(package, "__path__", []), package_name + "."):
                importlib.import_module(info.name)

    def get(self, name: str) -> Any:
        self.load()
        if name not in self._entries:
            close = difflib.get_close_matches(str(name), self._entries, n=3)
            hint = f" (did you mean {', '.join(close)}?)" if close else ""
            raise RegistryError(f"unknown {self.kind} '{name}'{hint}; available: {', '.join(self.names()) or 'none'}")
        return self._entries[name]

    def info(self, name: str) -> dict:
        """The metadata ``name`` was registered with."""
        self.get(name)
        return dict(self._info.get(name, {}))

    def names(self) -> list[str]:
        self.load()
        return sorted(self._entries)

    def __contains__(self, name: object) -> bool:
        self.load()
        return name in self._entries


PLUGIN_GROUP = "claf.plugins"
_entry_points_loaded = False


def load_entry_point_plugins() -> None:
    """Import every module installed under the ``claf.plugins`` entry-point group (once)."""
    global _entry_points_loaded
    if _entry_points_loaded:
        return
    _entry_points_loaded = True
    from importlib.metadata import entry_points

    for entry in entry_points(group=PLUGIN_GROUP):
        entry.load()


def import_plugins(modules: Iterable[str] | None) -> list[str]:
    """Import the user's plugin modules (``--include_package``), whose components register themselves.

    A module that cannot be imported is a user error naming it; returns the list imported.
    """
    imported = []
    for name in modules or ():
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as e:
            raise RegistryError(
                f"plugin '{name}' could not be imported ({e}); put it on PYTHONPATH or "
                "install it, or fix --include_package / plugins"
            ) from None
        imported.append(name)
    return imported


def _where(obj: object) -> str:
    return f"{getattr(obj, '__module__', '?')}.{getattr(obj, '__qualname__', obj)}"


READERS = Registry("data_reader", ["claf.data.readers"])
TOKENIZERS = Registry("tokenizer", ["claf.tokens.tokenizers"])
INDEXERS = Registry("token_indexer", ["claf.tokens.indexers"])
MODELS = Registry("model", ["claf.models.heads"])
TRAINERS = Registry("trainer", ["claf.learn.trainers"])
OPTIMIZERS = Registry("optimizer", ["claf.learn.optimizers"])
LR_SCHEDULERS = Registry("lr_scheduler", ["claf.learn.schedulers"])
METRICS = Registry("metric", ["claf.metrics"])

ALL = {
    "data_reader": READERS,
    "tokenizer": TOKENIZERS,
    "token_indexer": INDEXERS,
    "model": MODELS,
    "trainer": TRAINERS,
    "optimizer": OPTIMIZERS,
    "lr_scheduler": LR_SCHEDULERS,
    "metric": METRICS,
}
