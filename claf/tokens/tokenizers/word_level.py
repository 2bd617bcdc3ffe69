"""Whole word units looked up in a vocab (one token per line): the vocab of char / jamo / space / morpheme units."""

from claf.registry import TOKENIZERS
from claf.tokens.tokenizers.base import SubwordTokenizer, require
from claf.tokens.vocab import read_wordpiece_vocab


@TOKENIZERS.register("word_level")
class WordLevelTokenizer(SubwordTokenizer):
    name = "word_level"

    def __init__(self, vocab_path=None):
        self.vocab_path = vocab_path

    def model(self):
        from tokenizers import models

        path = require(self.vocab_path, "token.tokenizer.subword.word_level.vocab_path")
        return models.WordLevel(read_wordpiece_vocab(path), unk_token=self.specials["unk_token"])

    def empty_model(self):
        from tokenizers import models

        return models.WordLevel(unk_token=self.specials["unk_token"])

    def trainer(self, vocab_size, min_frequency=2, limit_alphabet=None, special_tokens=()):
        from tokenizers import trainers

        return trainers.WordLevelTrainer(
            vocab_size=vocab_size, min_frequency=min_frequency, special_tokens=list(special_tokens), show_progress=False
        )
