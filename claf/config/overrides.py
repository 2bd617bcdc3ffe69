"""Command-line overrides derived from the BaseConfig itself.

Every leaf is addressable by its full dotted path (``--optimizer.learning_rate``) and
by any dotted suffix of two or more parts that is unique (``--bert_for_qa.pretrained_model_name``).
Values are typed by the BaseConfig's current value.
"""

import copy
import difflib
import json

from claf.config.errors import ConfigError


def leaves(config, prefix=""):
    """Yield (dotted path, value) for every leaf; a non-empty dict is a branch."""
    for key, value in config.items():
        path = f"{prefix}.{key}" if prefix else key
        if isinstance(value, dict) and value:
            yield from leaves(value, path)
        else:
            yield path, value


def key_index(config):
    """Map every accepted spelling (full path, unique suffixes) to its full paths."""
    index = {}
    for path, _ in leaves(config):
        parts = path.split(".")
        index.setdefault(path, set()).add(path)
        for start in range(1, len(parts) - 1):
            index.setdefault(".".join(parts[start:]), set()).add(path)
    return index


def resolve_key(config, key, index=None):
    index = key_index(config) if index is None else index
    paths = index.get(key)
    if not paths:
        close = difflib.get_close_matches(key, list(index), n=3, cutoff=0.5)
        hint = f"; closest: {', '.join('--' + c for c in close)}" if close else ""
        raise ConfigError(f"unknown config key '--{key}'{hint} (see --help for every key)")
    if key in paths:  # a full path always wins over a suffix
        return key
    if len(paths) > 1:
        options = ", ".join("--" + p for p in sorted(paths))
        raise ConfigError(f"ambiguous config key '--{key}' matches {options}; use one of them")
    return next(iter(paths))


def parse_value(key, raw, current):
    """Type ``raw`` (a string from the command line, or a Python value) like ``current``."""
    if not isinstance(raw, str):
        return raw
    if raw.lower() in ("null", "none") and not isinstance(current, str):
        return None
    try:
        if isinstance(current, bool):
            lowered = raw.lower()
            if lowered in ("true", "yes", "1", "on"):
                return True
            if lowered in ("false", "no", "0", "off"):
                return False
            raise ValueError
        if isinstance(current, int):
            return int(raw)
        if isinstance(current, float):
            return float(raw)
        if isinstance(current, str):
            return raw
        if isinstance(current, (list, dict)):
            value = json.loads(raw)
            if not isinstance(value, type(current)):
                raise ValueError
            return value
    except ValueError:
        kind = "true/false" if isinstance(current, bool) else type(current).__name__
        if isinstance(current, (list, dict)):
            kind = f"a JSON {type(current).__name__}"
        raise ConfigError(f"--{key}: expected {kind} (like the BaseConfig's {json.dumps(current)}), got '{raw}'") from None
    try:  # current is None: take JSON when it parses, else the string
        return json.loads(raw)
    except ValueError:
        return raw


def split_argv(argv):
    """``['--a.b', '1', '--c.d=x']`` -> [('a.b', '1'), ('c.d', 'x')]; a bare flag means 'true'."""
    pairs, i = [], 0
    while i < len(argv):
        token = argv[i]
        if not token.startswith("--") or token == "--":
            raise ConfigError(f"unexpected argument '{token}'; overrides look like --section.key value")
        key = token[2:]
        if "=" in key:
            key, value = key.split("=", 1)
            i += 1
        elif i + 1 < len(argv) and not argv[i + 1].startswith("--"):
            value = argv[i + 1]
            i += 2
        else:
            value = "true"
            i += 1
        pairs.append((key, value))
    return pairs


def apply_overrides(config, overrides):
    """Return a copy of ``config`` with overrides applied.

    ``overrides`` is a dict ``{key: value}`` or a list of (key, value) pairs; keys use the
    same spellings as the command line (without ``--``). Every key is checked before any
    value is applied, so an error never leaves a half-applied config.
    """
    items = list(overrides.items()) if isinstance(overrides, dict) else list(overrides)
    index = key_index(config)
    current = dict(leaves(config))
    resolved = []
    for key, raw in items:
        path = resolve_key(config, key, index)
        resolved.append((path, parse_value(key, raw, current[path])))
    result = copy.deepcopy(config)
    for path, value in resolved:
        node = result
        *parents, last = path.split(".")
        for part in parents:
            node = node[part]
        node[last] = value
    return result


def describe(config):
    """Lines for ``--help``: every key with its current value."""
    rows = [(path, json.dumps(value, ensure_ascii=False)) for path, value in leaves(config)]
    width = max((len(p) for p, _ in rows), default=0) + 2
    return [f"  --{path:<{width}} {value}" for path, value in rows]
