"""Whitespace units: Korean eojeol (the unit of space-level masking), English words with punctuation attached."""

from claf.registry import TOKENIZERS
from claf.tokens.tokenizers.char import CasedWordTokenizer


@TOKENIZERS.register("space")
class SpaceTokenizer(CasedWordTokenizer):
    name = "space"

    def pre_tokenizer(self):
        from tokenizers import pre_tokenizers

        return pre_tokenizers.WhitespaceSplit()
