"""What a tokenizer component contributes to a ``tokenizers.Tokenizer``.

A *word* component gives a normalizer and a pre-tokenizer (the word units, with offsets);
a *subword* component gives the model (WordPiece, BPE, Unigram, WordLevel), its trainer,
decoder and special tokens. ``claf.tokens.pipeline`` composes one of each.

Pieces the ``tokenizers`` library has are native and serialise into ``tokenizer.json``.
A word component that needs Python (jamo, MeCab) also returns ``python_pre_tokenizer()``:
it runs in-process, and a saved tokenizer stores ``pre_tokenizer()`` as a stand-in plus a
record of the component, which ``claf.tokens.pipeline.load_tokenizer`` re-attaches.
"""

import json

from claf.config.errors import ConfigError

BERT_SPECIALS = {
    "pad_token": "[PAD]",
    "unk_token": "[UNK]",
    "cls_token": "[CLS]",
    "sep_token": "[SEP]",
    "mask_token": "[MASK]",
}
ROBERTA_SPECIALS = {
    "bos_token": "<s>",
    "pad_token": "<pad>",
    "eos_token": "</s>",
    "unk_token": "<unk>",
    "cls_token": "<s>",
    "sep_token": "</s>",
    "mask_token": "<mask>",
}


def special_list(specials):
    """Special tokens in id order (first ids of a trained vocab), without duplicates."""
    order = ("pad_token", "unk_token", "cls_token", "sep_token", "mask_token", "bos_token", "eos_token")
    seen = []
    for key in order:
        token = specials.get(key)
        if token and token not in seen:
            seen.append(token)
    return seen


def _pieces_json(tokenizer, attribute):
    backend = getattr(tokenizer, "backend_tokenizer", tokenizer)
    if not hasattr(backend, "to_str"):
        return None
    stand_in = getattr(tokenizer, "_claf_stand_in", None)
    if stand_in is None:
        return json.loads(backend.to_str()).get(attribute)
    running = backend.pre_tokenizer  # a Python pre-tokenizer cannot be serialised: use its native stand-in
    backend.pre_tokenizer = stand_in
    try:
        return json.loads(backend.to_str()).get(attribute)
    finally:
        backend.pre_tokenizer = running


def _native_json(piece):
    if piece is None:
        return None
    from tokenizers import Tokenizer, models

    probe = Tokenizer(models.WordLevel({"x": 0}, unk_token="x"))
    probe.pre_tokenizer = piece
    return json.loads(probe.to_str())["pre_tokenizer"]


class WordTokenizer:
    level = "word"
    name = None

    def options(self):
        """The settings that rebuild this component (recorded with a saved tokenizer)."""
        return {}

    def normalizer(self):
        return None

    def pre_tokenizer(self):
        """A native (serialisable) pre-tokenizer: the word units, or the stand-in of a Python one."""
        raise NotImplementedError

    def python_pre_tokenizer(self):
        """An object with ``pre_tokenize(PreTokenizedString)`` when the units need Python, else None."""
        return None

    def record(self):
        return {"name": self.name, "options": self.options()}

    def check(self, tokenizer, where):
        """Raise ConfigError if the checkpoint's tokenizer was built with other word units."""
        from claf.tokens.fast import claf_record

        recorded = claf_record(tokenizer)
        if recorded is not None:
            if recorded.get("name") != self.name or any(
                v is not None and recorded.get("options", {}).get(k) != v for k, v in self.options().items()
            ):
                raise ConfigError(
                    f"token.tokenizer.word is {self.name} {self.options()} but checkpoint {where} was built with "
                    f"{recorded.get('name')} {recorded.get('options', {})}; use its settings or another checkpoint"
                )
            return
        theirs, mine = _pieces_json(tokenizer, "pre_tokenizer") or {}, _native_json(self.pre_tokenizer())
        first = (theirs.get("pretokenizers") or [None])[0] if theirs.get("type") == "Sequence" else None
        if self.python_pre_tokenizer() is not None or mine not in (theirs, first):
            raise ConfigError(
                f"token.tokenizer.word.name is {self.name} but checkpoint {where} splits words differently; "
                "set the word tokenizer the checkpoint was built with (its tokenizer travels with it)"
            )


class SubwordTokenizer:
    level = "subword"
    name = None
    specials = BERT_SPECIALS

    def model(self):
        """The trained model from this component's files (ConfigError when they are missing)."""
        raise NotImplementedError

    def empty_model(self):
        """An untrained model for ``trainer()``."""
        raise NotImplementedError

    def trainer(self, vocab_size, min_frequency=2, limit_alphabet=None, special_tokens=()):
        raise NotImplementedError

    def pre_tokenizer(self):
        """A pre-tokenizer run after the word units (byte-level, metaspace), or None."""
        return None

    def decoder(self):
        return None

    def post_processor(self, token_to_id):
        from tokenizers import processors

        s = self.specials
        cls, sep = s["cls_token"], s["sep_token"]
        return processors.TemplateProcessing(
            single=f"{cls} $A {sep}",
            pair=f"{cls} $A {sep} $B:1 {sep}:1",
            special_tokens=[(cls, token_to_id(cls)), (sep, token_to_id(sep))],
        )

    def model_type(self):
        return type(self.empty_model()).__name__

    def check(self, tokenizer, where):
        """Raise ConfigError if the checkpoint's subword model is of another kind."""
        model = _pieces_json(tokenizer, "model") or {}
        if model.get("type") and model["type"] != self.model_type():
            raise ConfigError(
                f"token.tokenizer.subword.name is {self.name} ({self.model_type()}) but checkpoint {where} "
                f"uses a {model['type']} model; set the subword tokenizer to match the checkpoint"
            )


def alphabet(limit_alphabet):
    """Trainer keyword for the initial alphabet size (tokenizers refuses None)."""
    return {} if limit_alphabet is None else {"limit_alphabet": int(limit_alphabet)}


def require(path, key):
    """A component file option that must be set when no checkpoint tokenizer exists."""
    if not path:
        raise ConfigError(
            f"the checkpoint has no tokenizer files and {key} is null; set it to a vocab file "
            "or use a checkpoint that carries its tokenizer"
        )
    from pathlib import Path

    if not Path(path).expanduser().is_file():
        raise ConfigError(f"{key}: file {path} not found; give an existing vocab file")
    return str(Path(path).expanduser())
