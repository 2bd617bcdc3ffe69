"""Assemble the tokenizer of an experiment from the ``token`` config block and the checkpoint.

The tokenizer travels with the checkpoint: when the model directory holds tokenizer files
they are used, and the config's options are checked against them, so vocab and casing can
never silently disagree. Without tokenizer files the config builds one: the word component
(normalizer + pre-tokenizer) and the subword component (model, decoder, specials) are
composed into one ``tokenizers.Tokenizer`` wrapped as a transformers fast tokenizer
(``ClafTokenizerFast``), which saves and loads with ``AutoTokenizer``.
"""

import json
from pathlib import Path

from claf.config.errors import ConfigError
from claf.registry import TOKENIZERS
from claf.tokens.files import has_tokenizer

MODEL_INPUTS = ("input_ids", "token_type_ids", "attention_mask")


def component(block, level=None):
    """A ``{"name": X, X: {...options}}`` block (or the spec's ``TokenizerPart``) -> the tokenizer component."""
    name = block["name"]
    options = block.options if hasattr(block, "options") else dict(block.get(name) or {})
    part = TOKENIZERS.get(name)(**options)
    if level and part.level != level:
        raise ConfigError(
            f"token.tokenizer.{level}.name is {name}, a {part.level} tokenizer; "
            f"pick a {level} tokenizer ({', '.join(names(level))})"
        )
    return part


def names(level):
    return [n for n in TOKENIZERS.names() if TOKENIZERS.get(n).level == level]


def compose(word, subword, model=None):
    """word + subword components (and a trained ``model``, else the subword's files) -> ClafTokenizerFast."""
    from tokenizers import Tokenizer

    from claf.tokens.fast import ClafTokenizerFast
    from claf.tokens.tokenizers.base import special_list

    backend = Tokenizer(model if model is not None else subword.model())
    pipeline_parts(backend, word, subword)
    specials = dict(subword.specials)
    backend.add_special_tokens(special_list(specials))
    backend.post_processor = subword.post_processor(backend.token_to_id)
    return ClafTokenizerFast(tokenizer_object=backend, model_input_names=list(MODEL_INPUTS), **specials).attach(word)


def pipeline_parts(backend, word, subword):
    """Set the normalizer, (stand-in) pre-tokenizer and decoder of a ``tokenizers.Tokenizer``."""
    from tokenizers import pre_tokenizers

    normalizer = word.normalizer()
    if normalizer is not None:
        backend.normalizer = normalizer
    pres = [p for p in (word.pre_tokenizer(), subword.pre_tokenizer()) if p is not None]
    # a Python word piece replaces the first item of a Sequence in-process (claf.tokens.fast)
    wrap = len(pres) > 1 or word.python_pre_tokenizer() is not None
    backend.pre_tokenizer = pre_tokenizers.Sequence(pres) if wrap else pres[0]
    decoder = subword.decoder()
    if decoder is not None:
        backend.decoder = decoder


def load_tokenizer(path):
    """A saved tokenizer directory (or hub name) -> tokenizer, with a recorded Python word piece re-attached."""
    from transformers import AutoTokenizer

    from claf.tokens.fast import RECORD_KEY, ClafTokenizerFast

    config_file = Path(str(path)) / "tokenizer_config.json"
    record = None
    if config_file.is_file():
        try:
            record = json.loads(config_file.read_text(encoding="utf-8")).get(RECORD_KEY)
        except ValueError as e:
            raise ConfigError(f"{config_file}: invalid JSON ({e}); restore the tokenizer files") from None
    if not record:
        return AutoTokenizer.from_pretrained(str(path))
    word = TOKENIZERS.get(record["name"])(**record.get("options", {}))
    return ClafTokenizerFast.from_pretrained(str(path)).attach(word)


def build_tokenizer(tokenizer_spec, model_dir):
    """``token.tokenizer`` (the spec's ``TokenizerSpec``, or a dict with ``word``/``subword`` blocks) + checkpoint."""
    if tokenizer_spec is not None and "tokenizer" in tokenizer_spec:  # the whole token block
        tokenizer_spec = tokenizer_spec["tokenizer"]
    given = {level: (tokenizer_spec or {}).get(level) for level in ("word", "subword")}
    parts = {level: component(block, level) for level, block in given.items() if block}
    if has_tokenizer(model_dir) or not Path(str(model_dir)).exists():
        tokenizer = load_tokenizer(model_dir)
        for part in parts.values():
            part.check(tokenizer, str(model_dir))
        return tokenizer
    missing = [level for level in ("word", "subword") if level not in parts]
    if missing:
        raise ConfigError(
            f"checkpoint {model_dir} has no tokenizer files and token.tokenizer has no "
            f"{' or '.join(missing)} block; give both to build one"
        )
    return compose(parts["word"], parts["subword"])
