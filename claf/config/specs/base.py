"""The building blocks of typed specs: frozen blocks, one-key errors, and the check context.

A spec block is a frozen pydantic model that forbids unknown keys. A rule that spans keys raises
``fail(key, message)`` from a validator; ``build`` turns pydantic's errors into one ``ConfigError``
line naming the dotted key, the value, what is allowed and the closest known key.
"""

import difflib
import typing
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError, ValidationInfo
from pydantic_core import PydanticCustomError

from claf.config.errors import ConfigError

FileCheck = Callable[[str, str, str], "str | None"]  # (kind 'local'|'data', dotted key, path) -> problem or None


class Block(BaseModel):
    """One config block: typed, frozen, unknown keys refused."""

    model_config = ConfigDict(frozen=True, extra="forbid", protected_namespaces=(), validate_default=False)

    def get(self, key: str, default: Any = None) -> Any:
        """A key's value (a field, or an options block a selector names); ``default`` when absent."""
        if key in type(self).model_fields:
            value = getattr(self, key)
            return default if value is None else value
        return (self.__pydantic_extra__ or {}).get(key, default)

    def __setattr__(self, key: str, value: Any) -> None:
        if key.startswith("_"):
            return super().__setattr__(key, value)
        raise TypeError(
            f"config is frozen: cannot set '{key}'; give an override instead (python train.py ... --<key> VALUE)"
        )

    def __getitem__(self, key: str) -> Any:
        if key in type(self).model_fields:
            return getattr(self, key)
        extra = self.__pydantic_extra__ or {}
        if key in extra:
            return extra[key]
        raise KeyError(key)

    def __contains__(self, key: object) -> bool:
        return key in type(self).model_fields or key in (self.__pydantic_extra__ or {})

    def to_dict(self) -> dict:
        """The block as plain values: its fields (nested blocks too) and any options blocks it holds."""
        extra = self.__pydantic_extra__ or {}
        return {
            **{k: _plain(getattr(self, k)) for k in type(self).model_fields},
            **{k: _plain(v) for k, v in extra.items()},
        }

    def _options_of(self, name: str) -> dict:
        """The options block ``name`` (a registered component's) as a plain, mutable dict; {} when absent."""
        block = (self.__pydantic_extra__ or {}).get(name)
        return block.to_dict() if block is not None else {}


def _plain(value: Any) -> Any:
    if hasattr(value, "to_dict"):  # a block, or a read-only options block (FrozenConfig)
        return value.to_dict()
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def fail(key: str, message: str) -> PydanticCustomError:
    """An error for ``key`` (dotted, relative to the block that raises it)."""
    return PydanticCustomError("claf", "{message}", {"message": message, "key": key})


def check_file(info: ValidationInfo, kind: str, key: str, path: Any) -> None:
    """Ask the build's file check (if any) whether ``path`` can be found; raise with the key when not."""
    check = (info.context or {}).get("files") if info is not None else None
    if check is None or not isinstance(path, str) or not path:
        return
    problem = check(kind, key, path)
    if problem:
        raise fail(key, problem)


def context_source(info: ValidationInfo) -> str:
    return (info.context or {}).get("source", "") if info is not None else ""


def to_config_error(
    error: ValidationError, spec: type[BaseModel], source: str = "", flags: bool = False
) -> ConfigError:
    """Pydantic's errors -> one line: the first problem (and how many more)."""
    groups: dict[tuple, list[dict]] = {}  # a union's members fail at one key: one problem, its messages joined
    for problem in error.errors(include_url=False):
        groups.setdefault(tuple(p for p in problem["loc"] if not _is_union_tag(p)), []).append(problem)
    first = list(groups.values())[0]
    line = _one(first[0], spec)
    if len(first) > 1 and first[0]["type"] not in ("claf", "extra_forbidden", "missing"):
        messages = [_message(p) for p in first]
        line = line.split(": ", 1)[0] + ": " + " or ".join(dict.fromkeys(messages))
    where = f" (in {source})" if source and source != "<dict>" and not flags else ""
    more = f" (+{len(groups) - 1} more)" if len(groups) > 1 else ""
    return ConfigError(f"{line}{where}{more}")


def _one(problem: dict, spec: type[BaseModel]) -> str:
    loc = [str(part) for part in problem["loc"] if not _is_union_tag(part)]
    kind, ctx, value = problem["type"], problem.get("ctx") or {}, problem.get("input")
    if kind == "claf":
        key = ".".join([*loc, ctx["key"]] if ctx.get("key") else loc)
        return f"--{key}: {ctx['message']}" if key else ctx["message"]
    key = ".".join(loc)
    if kind == "extra_forbidden":
        known = _fields_at(spec, loc[:-1])
        close = difflib.get_close_matches(loc[-1], known, n=2, cutoff=0.5)
        hint = f"; did you mean {' or '.join('--' + '.'.join([*loc[:-1], c]) for c in close)}?" if close else ""
        listing = f"; known keys: {', '.join(known)}" if not close and known else ""
        return f"--{key}: unknown key{hint}{listing}"
    if kind == "missing":
        return f"--{key}: required, and missing; add it to the BaseConfig or give --{key} VALUE"
    return f"--{key} {_show(value)}: {_message(problem)}"


def _message(problem: dict) -> str:
    """Pydantic's message, said the way the rest of claf says it."""
    kind, ctx = problem["type"], problem.get("ctx") or {}
    if kind == "greater_than_equal":
        return "expected a positive whole number (>= 1)" if ctx.get("ge") == 1 else f"must be >= {ctx.get('ge')}"
    bounds = {"greater_than": ">", "less_than": "<", "less_than_equal": "<="}
    if kind in bounds:
        limit = ctx.get({"greater_than": "gt", "less_than": "lt", "less_than_equal": "le"}[kind])
        return f"must be {bounds[kind]} {limit}"
    if kind == "literal_error":
        return f"expected one of {ctx.get('expected', '').replace(chr(39), '')}"
    plain = {
        "int_parsing": "expected a whole number",
        "int_type": "expected a whole number",
        "int_from_float": "expected a whole number",
        "float_parsing": "expected a number",
        "float_type": "expected a number",
        "bool_parsing": "expected true or false",
        "bool_type": "expected true or false",
        "string_type": "expected a string",
        "list_type": "expected a list",
        "dict_type": "expected a JSON object",
        "model_type": "expected a JSON object",
        "too_short": "must not be empty",
    }
    if kind in plain:
        return plain[kind]
    message = problem["msg"]
    return message[0].lower() + message[1:]


def _is_union_tag(part: Any) -> bool:
    """pydantic puts the union member tried (e.g. 'int', "literal['epoch']") in the error's location."""
    simple = {"int", "str", "float", "bool", "none", "list", "dict", "constrained-int", "constrained-float"}
    return isinstance(part, str) and ("[" in part or part in simple or part.startswith("constrained-"))


def _show(value: Any) -> str:
    import json

    try:
        return json.dumps(value, ensure_ascii=False)
    except TypeError:
        return repr(value)


def _fields_at(model: type[BaseModel], loc: list[str]) -> list[str]:
    """The field names of the block at ``loc`` (for the closest-key hint)."""
    for part in loc:
        field = model.model_fields.get(part)
        nested = _model_of(field.annotation) if field is not None else None
        if nested is None:
            return []
        model = nested
    return sorted(name for name in model.model_fields)


def _model_of(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = _model_of(arg)
        if found is not None:
            return found
    return None


class Recipe(Block):
    """The root of a spec. ``to_dict()`` is the resolved config it was built from (what config.json records)."""

    _data: dict = {}
    _source: str = ""

    def to_dict(self) -> dict:
        import copy

        return copy.deepcopy(self._data)

    def to_json(self) -> str:
        import json

        return json.dumps(self._data, indent=2, ensure_ascii=False) + "\n"

    @property
    def source(self) -> str:
        """Where the recipe came from (a file path, a name or ``<dict>``)."""
        return self._source
