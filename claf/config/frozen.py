"""A read-only view of a resolved config, with attribute access."""

import copy
import json
from collections.abc import Mapping


class FrozenConfig(Mapping):
    """Nested read-only mapping: ``cfg.trainer.num_epochs`` or ``cfg["trainer"]["num_epochs"]``."""

    __slots__ = ("_data", "_path")

    def __init__(self, data, path=""):
        object.__setattr__(self, "_data", {k: _freeze(v, _join(path, k)) for k, v in data.items()})
        object.__setattr__(self, "_path", path)

    def __getitem__(self, key):
        return self._data[key]

    def __iter__(self):
        return iter(self._data)

    def __len__(self):
        return len(self._data)

    def __getattr__(self, key):
        try:
            return self._data[key]
        except KeyError:
            where = self._path or "config"
            raise AttributeError(f"{where} has no key '{key}'; keys: {', '.join(self._data)}") from None

    def __setattr__(self, key, value):
        raise TypeError(f"config is frozen: cannot set '{_join(self._path, key)}'; use an override instead")

    __delattr__ = __setattr__

    def __repr__(self):
        return f"FrozenConfig({self.to_dict()!r})"

    def to_dict(self):
        return {k: _thaw(v) for k, v in self._data.items()}

    def to_json(self):
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False) + "\n"


def _join(path, key):
    return f"{path}.{key}" if path else str(key)


def _freeze(value, path):
    if isinstance(value, Mapping):
        return FrozenConfig(value, path)
    if isinstance(value, list):
        return tuple(_freeze(v, path) for v in value)
    return copy.deepcopy(value)


def _thaw(value):
    if isinstance(value, FrozenConfig):
        return value.to_dict()
    if isinstance(value, tuple):
        return [_thaw(v) for v in value]
    return value
