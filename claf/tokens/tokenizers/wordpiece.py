"""WordPiece subwords (``##`` continuation) over a word tokenizer; trains with the tokenizers WordPieceTrainer."""

from pathlib import Path

from claf.config.errors import ConfigError
from claf.registry import TOKENIZERS
from claf.tokens.tokenizers.base import SubwordTokenizer, alphabet, require
from claf.tokens.vocab import read_wordpiece_vocab


@TOKENIZERS.register("wordpiece")
class WordPieceTokenizer(SubwordTokenizer):
    """Subword level. ``vocab_path`` None means "the checkpoint's vocab"."""

    name = "wordpiece"

    def __init__(self, vocab_path=None, max_input_chars_per_word=100):
        self.vocab_path = vocab_path
        self.max_input_chars_per_word = max_input_chars_per_word

    def model(self):
        from tokenizers import models

        path = require(self.vocab_path, "token.tokenizer.subword.wordpiece.vocab_path")
        return models.WordPiece(
            read_wordpiece_vocab(path),
            unk_token=self.specials["unk_token"],
            max_input_chars_per_word=self.max_input_chars_per_word,
        )

    def empty_model(self):
        from tokenizers import models

        return models.WordPiece(
            unk_token=self.specials["unk_token"], max_input_chars_per_word=self.max_input_chars_per_word
        )

    def trainer(self, vocab_size, min_frequency=2, limit_alphabet=None, special_tokens=()):
        from tokenizers import trainers

        return trainers.WordPieceTrainer(
            vocab_size=vocab_size,
            min_frequency=min_frequency,
            special_tokens=list(special_tokens),
            **alphabet(limit_alphabet),
            continuing_subword_prefix="##",
            show_progress=False,
        )

    def decoder(self):
        from tokenizers import decoders

        return decoders.WordPiece(prefix="##")

    def check(self, tokenizer, where):
        super().check(tokenizer, where)
        if not self.vocab_path:
            return
        mine = read_wordpiece_vocab(self.vocab_path)
        theirs = tokenizer.get_vocab()
        if mine != theirs:
            raise ConfigError(
                f"token.tokenizer.subword.wordpiece.vocab_path {Path(self.vocab_path).name} "
                f"({len(mine)} entries) differs from the vocab of checkpoint {where} ({len(theirs)} entries); "
                "set vocab_path to null: the tokenizer travels with the checkpoint"
            )
