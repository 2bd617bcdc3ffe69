"""Every config key an error or warning names is a real key of a shipped BaseConfig.

The package's ``raise`` statements and logging / ``fail`` / ``parser.error`` calls are read with
``ast``; in their strings, a dotted word whose first part is a config key (``seq_cls.skip_invalid``,
``--trainer.resume``, ``data_reader.multi_task.tasks.{name}``) must be a full path of some shipped
BaseConfig (with the defaults loading fills in) or a dotted suffix of one; ``{...}`` placeholders
stand for one part.
"""

import ast
import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PLACEHOLDERS = {"section.key", "a.b", "c.d"}  # examples of the override syntax, not keys
METHODS = ("save_pretrained", "from_pretrained")  # ``tokenizer.save_pretrained``: an API, not a key
FILE_ENDINGS = (".json", ".gz", ".txt", ".tsv", ".csv", ".jsonl", ".py", ".md", ".tar", ".bin", ".safetensors")
MESSAGE_CALLS = {"warning", "error", "exception", "info", "fail", "UserError"}
TOKEN = re.compile(r"(?<![\w./{}-])(?:--)?([a-z_][a-z0-9_]*(?:\.(?:[a-z_][a-z0-9_]*|\{\}))+)")


def config_paths():
    paths, names = set(), set()

    def walk(node, prefix):
        for key, value in node.items():
            path = f"{prefix}.{key}" if prefix else key
            paths.add(path)
            names.add(key)
            if isinstance(value, dict):
                walk(value, path)

    from claf.config.defaults import with_defaults

    root = ROOT / "base_config"
    for file in root.rglob("*.json"):
        family = file.relative_to(root).parts[0]
        kind = family if family in ("vocab", "pretrain", "factory") else "finetune"
        walk(with_defaults(json.loads(file.read_text()), kind), "")  # with the keys loading fills in
    for schema_file in (root / "schema").glob("*.schema.json"):  # and every key the typed specs define
        schema = json.loads(schema_file.read_text())
        walk(schema_keys(schema, schema), "")
    return paths, names


def schema_keys(node, schema, depth=0):
    """A JSON Schema's properties as nested dicts of keys (``$ref``s into ``$defs`` followed)."""
    if depth > 8:
        return {}
    while isinstance(node, dict) and "$ref" in node:
        node = schema["$defs"][node["$ref"].rsplit("/", 1)[1]]
    found = {}
    for option in (node.get("anyOf") or []) if isinstance(node, dict) else []:
        found.update(schema_keys(option, schema, depth + 1))
    for key, value in (node.get("properties") or {}).items() if isinstance(node, dict) else []:
        found[key] = schema_keys(value, schema, depth + 1) or None
    return found


def message_text(node):
    """The text of a string or f-string, placeholders as ``{}``; None for anything else."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(v.value if isinstance(v, ast.Constant) else "{}" for v in node.values)
    return None


def messages():
    """(file:line, text) of every string inside a raise or a message call of the package."""
    for file in sorted((ROOT / "claf").rglob("*.py")):
        tree = ast.parse(file.read_text(), str(file))
        for node in ast.walk(tree):
            is_message = isinstance(node, ast.Raise) or (
                isinstance(node, ast.Call)
                and (getattr(node.func, "attr", None) or getattr(node.func, "id", None)) in MESSAGE_CALLS
            )
            if not is_message:
                continue
            for inner in ast.walk(node):
                text = message_text(inner)
                if text:
                    yield f"{file.relative_to(ROOT)}:{inner.lineno}", text


def key_mentions(text, names):
    for match in TOKEN.finditer(text):
        key = match.group(1).rstrip(".")
        first = key.split(".")[0]
        if key in PLACEHOLDERS or key.endswith(FILE_ENDINGS + METHODS) or "." not in key:
            continue
        if match.group(0).startswith("--") or first in names:
            yield key


def is_real(key, paths):
    pattern = re.compile(
        r"(^|\.)" + r"\.".join(r"[^.]+" if part == "{}" else re.escape(part) for part in key.split(".")) + "$"
    )
    return any(pattern.search(path) for path in paths)


def is_component_option(key, paths):
    """``token.tokenizer.word.konlpy.tagger``: the options block of a registered tokenizer that no shipped
    config selects is real once a config names it, if the option is a parameter of its constructor;
    ``model.transformers_config.<name>`` is any attribute of a transformers model config."""
    import inspect

    from claf.registry import TOKENIZERS

    parts = key.split(".")
    if parts[:2] == ["token", "tokenizer"] and len(parts) == 5 and is_real(".".join(parts[:3]), paths):
        if parts[3] in TOKENIZERS.names():
            return parts[4] in inspect.signature(TOKENIZERS.get(parts[3]).__init__).parameters
    if parts[:2] == ["model", "transformers_config"] and len(parts) == 3 and is_real(".".join(parts[:2]), paths):
        from transformers import BertConfig

        return hasattr(BertConfig(), parts[2])
    return False


def test_every_key_a_message_names_is_a_real_config_key():
    paths, names = config_paths()
    found, wrong = [], []
    for where, text in messages():
        for key in key_mentions(text, names):
            found.append(key)
            if not is_real(key, paths) and not is_component_option(key, paths) and f"{where}: {key}" not in wrong:
                wrong.append(f"{where}: {key}")
    assert "skip_invalid" in " ".join(found) or any(k.startswith("trainer.") for k in found)  # the scan sees keys
    assert not wrong, "messages name keys no shipped BaseConfig has:\n" + "\n".join(wrong)


def test_the_reader_hints_name_their_block():
    from claf.data.readers.seq_cls import SeqClsReader
    from claf.data.readers.tok_cls import TokClsReader

    paths, _ = config_paths()
    for reader, option in (
        (SeqClsReader(), "skip_invalid"),
        (SeqClsReader(), "skip_empty"),
        (TokClsReader(), "format"),
    ):
        assert is_real(reader.key(option), paths), reader.key(option)
    assert SeqClsReader().key("skip_invalid") == "seq_cls.skip_invalid"
