"""Registry-chosen blocks: ``{"name": X, X: {...}}`` checked against component X's constructor.

The options block of a registered component (a reader's ``data_reader.seq_cls``, a head's
``model.bert_for_qa``, a tokenizer's, an optimizer's, a scheduler's) is checked when the spec is
built: the component exists, every option is a constructor parameter, and a value fits the
parameter's annotation (or the type of its default). Options that name files (``*_path``) must exist.
"""

import difflib
import inspect
from typing import Any

from pydantic import TypeAdapter, ValidationError, ValidationInfo

from claf.config.specs.base import check_file, fail

FILE_SUFFIXES = ("_path",)


def check_component(
    registry: str, name: Any, options: Any, key: str, name_key: str, info: ValidationInfo | None = None
) -> dict:
    """Check ``options`` (the block at dotted ``key``) of the component ``name`` (given at ``name_key``).

    Returns the options as a dict. Keys are relative to the block whose validator calls this.
    """
    from claf.config.components import constructor_parameters
    from claf.registry import RegistryError

    if options is None:
        options = {}
    if not isinstance(options, dict):
        raise fail(key, f"expected a JSON object of {name}'s options, got {options!r}")
    try:
        params = constructor_parameters(registry, name)
    except RegistryError as e:
        raise fail(name_key, str(e)) from None
    if params is None:  # the component takes any keyword
        return dict(options)
    for option, value in options.items():
        if option not in params:
            close = difflib.get_close_matches(option, list(params), n=2, cutoff=0.5)
            hint = f"did you mean {', '.join(close)}?" if close else f"it takes {', '.join(sorted(params)) or 'none'}"
            raise fail(f"{key}.{option}", f"unknown key: {name} has no option '{option}'; {hint}")
        parameter, annotation = params[option]
        problem = _type_problem(value, annotation, parameter.default)
        if problem:
            raise fail(f"{key}.{option}", f"{_show(value)}: {problem}")
        if option.endswith(FILE_SUFFIXES) and value is not None:
            check_file(info, "local", f"{key}.{option}", value)
    return dict(options)


def _type_problem(value: Any, annotation: Any, default: Any) -> str | None:
    if value is None:
        return None  # null: the component's own "not given"
    if annotation is not None and annotation is not inspect.Parameter.empty:
        try:
            adapter = TypeAdapter(annotation)
        except Exception:  # an annotation pydantic cannot check (a class of the component's own)
            return None
        try:
            adapter.validate_python(value)
        except ValidationError as e:
            return e.errors(include_url=False)[0]["msg"].lower()
        return None
    if default is inspect.Parameter.empty or default is None:
        return None
    if isinstance(default, bool):
        return None if isinstance(value, bool) else "expected true or false"
    if isinstance(default, float):
        return None if isinstance(value, (int, float)) and not isinstance(value, bool) else "expected a number"
    return None  # an int default may also take a column name, a list default a comma-separated string


def _show(value: Any) -> str:
    import json

    return json.dumps(value, ensure_ascii=False)


def check_chosen(block, registry: str, name: Any, key: str, name_key: str, info: ValidationInfo | None) -> None:
    """``check_component`` on ``block``'s options block ``name``, which then becomes read-only with attribute
    access (``spec.model.bert_for_qa.answer_maxlen``)."""
    from claf.config.frozen import FrozenConfig

    extra = block.__pydantic_extra__ or {}
    options = check_component(registry, name, extra.get(name), key, name_key, info)
    if name in extra:
        extra[name] = FrozenConfig(options, name)
