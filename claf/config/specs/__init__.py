"""Typed run specs: one frozen pydantic model per recipe kind, built once from the JSON plus overrides.

    spec = build_spec("pretrain", data, source="base_config/pretrain/larva_kor_tiny.json", files=check)
    spec.instances.copy_share         # a float in [0, 1), already checked against instances.format
    spec.trainer.run_precision        # "bf16" / "fp16" / "fp32": auto resolved once for this machine
    spec.to_dict()                    # the resolved config, as config.json records it

Every error is one ``ConfigError`` line (the key, the value, what is allowed, the closest key), raised
before any data or model is touched. ``files`` (optional) checks that the paths a recipe names can be
found: ``files(kind, key, path)`` returns a problem or None (kind "data": a data file the sources can
fetch or find in the mirror; "local": a plain path such as a vocab file).
"""

import copy
from typing import Any

SPEC_CLASSES = {
    "finetune": ("claf.config.specs.finetune", "FinetuneSpec"),
    "pretrain": ("claf.config.specs.pretrain", "PretrainSpec"),
    "vocab": ("claf.config.specs.vocab", "VocabSpec"),
    "factory": ("claf.config.specs.factory", "FactorySpec"),
    "server": ("claf.config.specs.server", "ServerSpec"),
}


def spec_class(kind: str) -> Any:
    import importlib

    try:
        module, name = SPEC_CLASSES[kind]
    except KeyError:
        raise ValueError(f"unknown spec kind '{kind}'; one of {', '.join(SPEC_CLASSES)}") from None
    return getattr(importlib.import_module(module), name)


def build_spec(kind: str, data: dict, source: str = "<dict>", files: Any = None) -> Any:
    """Validate the resolved config ``data`` of ``kind`` into its typed spec (raises one ConfigError line)."""
    from pydantic import ValidationError

    from claf.config.specs.base import to_config_error
    from claf.registry import import_plugins

    cls = spec_class(kind)
    if kind in ("finetune", "pretrain"):
        import_plugins(data.get("plugins") or [])  # the user's components register before they are looked up
    try:
        spec = cls.model_validate(data, context={"files": files, "source": source})
    except ValidationError as e:
        raise to_config_error(e, cls, source, flags=kind == "server") from None
    if hasattr(spec, "_data"):
        spec._data = copy.deepcopy(data)
        spec._source = source
    return spec


def json_schema(kind: str) -> dict:
    """The JSON Schema of a recipe kind (what ``python -m claf schema`` writes)."""
    schema = spec_class(kind).model_json_schema(mode="validation")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema.setdefault("properties", {})["$schema"] = {"type": "string", "description": "this file's schema"}
    return schema


__all__ = ["SPEC_CLASSES", "build_spec", "json_schema", "spec_class"]
