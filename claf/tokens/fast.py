"""The transformers tokenizer that claf composes: a ``PreTrainedTokenizerFast`` that can carry a
Python word pre-tokenizer (jamo, MeCab).

A Python pre-tokenizer cannot be written to ``tokenizer.json``. On save the native stand-in
of the word component is written instead, and ``tokenizer_config.json`` records the component
(``claf_word_tokenizer``); ``claf.tokens.pipeline.load_tokenizer`` re-attaches it. Plain
``AutoTokenizer.from_pretrained`` loads such a directory with the stand-in word units.
"""

import json
from pathlib import Path

from transformers import PreTrainedTokenizerFast

RECORD_KEY = "claf_word_tokenizer"


class ClafTokenizerFast(PreTrainedTokenizerFast):
    claf_word = None  # the word component whose Python pre-tokenizer is attached, if any

    def attach(self, word):
        """Run ``word``'s Python pre-tokenizer in this process (no-op for native components)."""
        running = running_pre_tokenizer(self.backend_tokenizer.pre_tokenizer, word)
        if running is None:
            return self
        self._claf_stand_in = self.backend_tokenizer.pre_tokenizer
        self.backend_tokenizer.pre_tokenizer = running
        self.claf_word = word
        return self

    def _save_pretrained(self, save_directory, file_names, legacy_format=None, filename_prefix=None):
        backend = self.backend_tokenizer
        running = backend.pre_tokenizer
        if self.claf_word is not None:
            backend.pre_tokenizer = self._claf_stand_in
        try:
            saved = super()._save_pretrained(save_directory, file_names, legacy_format, filename_prefix)
        finally:
            backend.pre_tokenizer = running
        config_file = Path(save_directory) / (
            (filename_prefix + "-" if filename_prefix else "") + "tokenizer_config.json"
        )
        if config_file.is_file():  # loadable without claf: a plain fast tokenizer class
            config = json.loads(config_file.read_text(encoding="utf-8"))
            config["tokenizer_class"] = "PreTrainedTokenizerFast"
            if self.claf_word is not None:
                config[RECORD_KEY] = self.claf_word.record()
            config_file.write_text(
                json.dumps(config, indent=2, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8"
            )
        return saved


def running_pre_tokenizer(stand_in, word):
    """The in-process pre-tokenizer: ``word``'s Python piece in place of its stand-in (None if native)."""
    from tokenizers import pre_tokenizers

    python_piece = word.python_pre_tokenizer()
    if python_piece is None:
        return None
    custom = pre_tokenizers.PreTokenizer.custom(python_piece)
    # the stand-in sits first; a subword piece (byte-level, metaspace) may follow it
    rest = _items(stand_in)[1:] if isinstance(stand_in, pre_tokenizers.Sequence) else []
    return pre_tokenizers.Sequence([custom] + rest) if rest else custom


def _items(sequence):
    items, i = [], 0
    while True:
        try:
            items.append(sequence[i])
        except IndexError:
            return items
        i += 1


def claf_record(tokenizer):
    """The word component recorded with a saved tokenizer, or None."""
    word = getattr(tokenizer, "claf_word", None)
    if word is not None:
        return word.record()
    return (getattr(tokenizer, "init_kwargs", None) or {}).get(RECORD_KEY)
