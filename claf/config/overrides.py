"""Command-line overrides derived from the BaseConfig itself.

Every leaf is addressable by its full dotted path (``--optimizer.learning_rate``) and
by any dotted suffix of two or more parts that is unique (``--bert_for_qa.pretrained_model_name``).
Values are typed by the BaseConfig's current value.
"""

import copy
import difflib
import json

from claf.config.components import component_of, constructor_parameters, expects_list
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


# true/false keys whose spec also takes a count (``bool | PositiveInt``): a digit given for one of these is
# passed on as a number. Any other true/false key still takes only true/false, so a component option typed
# bool by its default never receives a silent 2.
COUNT_OR_SWITCH = frozenset({"checkpoints.random_init"})


def parse_value(key, raw, current, parameter=None, count_ok=False):
    """Type ``raw`` (a string from the command line, or a Python value) like ``current``.

    ``null`` sets any key to null (a JSON string ``'"null"'`` is the word itself). A key whose
    current value is null is typed by ``parameter`` (the component constructor's (Parameter,
    annotation), when known): a list option takes JSON or comma-separated values.
    """
    if not isinstance(raw, str):
        return raw
    if raw.lower() in ("null", "none"):
        return None
    if current is None and parameter is not None:
        p, annotation = parameter
        if expects_list(annotation, p.default):
            return _as_list(key, raw)
        if p.default is not p.empty and p.default is not None:
            current = p.default
    try:
        if isinstance(current, bool) or count_ok:  # count_ok: a switch that also takes a count or a list
            lowered = raw.lower()
            if lowered in ("true", "yes", "on") or (lowered == "1" and not count_ok):
                return True
            if lowered in ("false", "no", "0", "off"):
                return False
            if count_ok and lowered.isdigit():  # its spec judges the number
                return int(lowered)
            if count_ok and lowered.startswith("["):  # ... or the list (weight seeds) and its items
                return _as_list(key, raw)
            raise ValueError
        if isinstance(current, int):
            return int(raw)
        if isinstance(current, float):
            return float(raw)
        if isinstance(current, str):
            return json.loads(raw) if raw.startswith('"') and raw.endswith('"') and len(raw) > 1 else raw
        if isinstance(current, (list, tuple)):
            return _as_list(key, raw)
        if isinstance(current, dict):
            value = json.loads(raw)
            if not isinstance(value, dict):
                raise ValueError
            return value
    except ValueError:
        kind = "true/false" if isinstance(current, bool) else type(current).__name__
        if count_ok:
            kind = "true/false, a count or a JSON list of weight seeds such as [3, 4, 5]"
        if isinstance(current, (list, dict)):
            kind = f"a JSON {type(current).__name__}"
        raise ConfigError(
            f"--{key}: expected {kind} (like the BaseConfig's {json.dumps(current)}), got '{raw}'"
        ) from None
    try:  # current is None: take JSON when it parses, else the string
        return json.loads(raw)
    except ValueError:
        return raw


def _as_list(key, raw):
    try:
        value = json.loads(raw)
    except ValueError:
        value = [part.strip() for part in raw.split(",") if part.strip()]
    if isinstance(value, (str, int, float)) and not isinstance(value, bool):
        value = [value]
    if not isinstance(value, list) or not value:
        raise ConfigError(f"--{key}: expected a list (JSON like '[\"0\", \"1\"]' or comma-separated), got '{raw}'")
    return value


def split_argv(argv):
    """``['--a.b', '1', '--c.d=x']`` -> [('a.b', '1'), ('c.d', 'x')]; a bare flag means 'true'.

    Keys are snake_case; a kebab spelling is an alias (``--trainer.num-epochs`` -> ``trainer.num_epochs``).
    """
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
        pairs.append((key.replace("-", "_"), value))
    return pairs


def apply_overrides(config, overrides):
    """Return a copy of ``config`` with overrides applied.

    ``overrides`` is a dict ``{key: value}`` or a list of (key, value) pairs; keys use the
    same spellings as the command line (without ``--``). Every key is checked before any
    value is applied, so an error never leaves a half-applied config. A key may also name a
    dict branch (its value: a JSON object that replaces it, or null), or an option of a
    registered component that the BaseConfig omits (checked against the constructor).
    """
    items = list(overrides.items()) if isinstance(overrides, dict) else list(overrides)
    index = key_index(config)
    current = dict(leaves(config))
    resolved, seen = [], {}
    for key, raw in items:
        path, value = _resolve_one(config, key, raw, index, current)
        if path in seen:
            raise ConfigError(f"--{key} is given twice (as --{seen[path]} and --{key}); keep one")
        seen[path] = key
        resolved.append((path, value))
    result = copy.deepcopy(config)
    for path, value in resolved:
        node = result
        *parents, last = path.split(".")
        for part in parents:
            node = node[part]
        node[last] = value
    return result


def _resolve_one(config, key, raw, index, current):
    """(full path, typed value) of one override."""
    if key in index or not (_branch(config, key) or _component_parent(config, key)):
        path = resolve_key(config, key, index)
        parameter = _parameter(config, path) if current[path] is None else None
        return path, parse_value(key, raw, current[path], parameter, count_ok=path in COUNT_OR_SWITCH)
    branch = _branch(config, key)
    if branch:
        value = raw if not isinstance(raw, str) else (None if raw.lower() in ("null", "none") else _json(key, raw))
        if value is not None and not isinstance(value, dict):
            raise ConfigError(f"--{key} names a block: give a JSON object to replace it, or null to empty it")
        return branch, {} if value is None else value
    path, parameter = _component_parent(config, key)
    return path, parse_value(key, raw, None, parameter)


def _json(key, raw):
    try:
        return json.loads(raw)
    except ValueError:
        raise ConfigError(f"--{key} names a block: give a JSON object (e.g. '{{}}') or null, got '{raw}'") from None


def branches(config, prefix=""):
    for key, value in config.items():
        path = f"{prefix}.{key}" if prefix else key
        if isinstance(value, dict) and value:
            yield path
            yield from branches(value, path)


def _match(paths, key):
    """The one path equal to ``key`` or ending with ``.key`` (None when none; an error when several)."""
    if key in paths:
        return key
    found = [p for p in paths if p.endswith("." + key)]
    if len(found) > 1:
        raise ConfigError(
            f"ambiguous config key '--{key}' matches {', '.join('--' + p for p in sorted(found))}; use one of them"
        )
    return found[0] if found else None


def _branch(config, key):
    return _match(list(branches(config)), key) if "." in key or key in config else None


def _component_parent(config, key):
    """(full path, constructor parameter) for an option of a registered component the config omits."""
    if "." not in key:
        return None
    parent_key, option = key.rsplit(".", 1)
    parent = _match(list(branches(config)) + [b for b in ("trainer",) if b in config], parent_key)
    if parent is None:
        return None
    found = component_of(config, parent.split(".") + [option])
    if found is None:
        return None
    registry, component, option = found
    params = constructor_parameters(registry, component)
    if params is not None and option not in params:
        import difflib

        close = difflib.get_close_matches(option, list(params), n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else f"; it takes {', '.join(sorted(params))}"
        raise ConfigError(f"unknown config key '--{key}': {component} has no option '{option}'{hint}")
    return f"{parent}.{option}", (params or {}).get(option)


def _parameter(config, path):
    """The constructor parameter behind a null-valued leaf, when its block configures a component."""
    found = component_of(config, path.split("."))
    if found is None:
        return None
    try:
        params = constructor_parameters(found[0], found[1])
    except Exception:
        return None
    return (params or {}).get(found[2])


def describe(config):
    """Lines for ``--help``: every key with its current value."""
    rows = [(path, json.dumps(value, ensure_ascii=False)) for path, value in leaves(config)]
    width = max((len(p) for p, _ in rows), default=0) + 2
    return [f"  --{path:<{width}} {value}" for path, value in rows]
