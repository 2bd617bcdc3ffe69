"""Assemble the tokenizer of an experiment from the ``token`` config block and the checkpoint.

The tokenizer travels with the checkpoint: when the model directory holds tokenizer files
they are used, and the config's options are checked against them, so vocab and casing can
never silently disagree. Without tokenizer files the config builds one.
"""

from pathlib import Path

from claf.registry import TOKENIZERS

TOKENIZER_FILES = ("tokenizer.json", "vocab.txt", "tokenizer_config.json", "spiece.model", "vocab.json")


def _component(block):
    name = block["name"]
    return TOKENIZERS.get(name)(**dict(block.get(name, {})))


def has_tokenizer(model_dir):
    path = Path(model_dir)
    return path.is_dir() and any((path / f).exists() for f in TOKENIZER_FILES)


def build_tokenizer(token_config, model_dir):
    from transformers import AutoTokenizer

    tokenizer_config = (token_config or {}).get("tokenizer", {})
    parts = [_component(tokenizer_config[level]) for level in ("word", "subword") if level in tokenizer_config]
    if has_tokenizer(model_dir) or not Path(str(model_dir)).exists():
        tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
        for part in parts:
            part.check(tokenizer, str(model_dir))
        return tokenizer
    word = next(p for p in parts if p.level == "word")
    subword = next(p for p in parts if p.level == "subword")
    return subword.build(word)
