"""WordPiece subword tokenizer (``##`` continuation) over a word tokenizer."""

from pathlib import Path

from claf.config.errors import ConfigError
from claf.registry import TOKENIZERS
from claf.tokens.vocab import read_wordpiece_vocab


@TOKENIZERS.register("wordpiece")
class WordPieceTokenizer:
    """Subword level. ``vocab_path`` None means "the checkpoint's vocab"."""

    level = "subword"

    def __init__(self, vocab_path=None):
        self.vocab_path = vocab_path

    def build(self, word_tokenizer):
        """A transformers tokenizer from this vocab and the word tokenizer's options."""
        from transformers import BertTokenizer

        if not self.vocab_path:
            raise ConfigError(
                "the checkpoint has no tokenizer files and token.tokenizer.subword.wordpiece.vocab_path "
                "is null; set it to a vocab.txt"
            )
        return BertTokenizer(vocab=read_wordpiece_vocab(self.vocab_path), **word_tokenizer.options())

    def check(self, tokenizer, where):
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
