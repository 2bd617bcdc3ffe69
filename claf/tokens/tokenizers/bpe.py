"""BPE subwords over a word tokenizer (``</w>`` marks a word end, so decoding restores the spaces)."""

from claf.registry import TOKENIZERS
from claf.tokens.tokenizers.base import SubwordTokenizer, alphabet, require

SUFFIX = "</w>"


@TOKENIZERS.register("bpe")
class BpeTokenizer(SubwordTokenizer):
    """``vocab_path`` (vocab.json) + ``merges_path`` (merges.txt), as written by ``tokenizers``."""

    name = "bpe"

    def __init__(self, vocab_path=None, merges_path=None):
        self.vocab_path = vocab_path
        self.merges_path = merges_path

    def model(self):
        from tokenizers import models

        vocab = require(self.vocab_path, f"token.tokenizer.subword.{self.name}.vocab_path")
        merges = require(self.merges_path, f"token.tokenizer.subword.{self.name}.merges_path")
        return models.BPE.from_file(vocab, merges, **self._model_options())

    def _model_options(self):
        return {"unk_token": self.specials["unk_token"], "end_of_word_suffix": SUFFIX}

    def empty_model(self):
        from tokenizers import models

        return models.BPE(**self._model_options())

    def trainer(self, vocab_size, min_frequency=2, limit_alphabet=None, special_tokens=()):
        from tokenizers import trainers

        return trainers.BpeTrainer(
            vocab_size=vocab_size,
            min_frequency=min_frequency,
            **alphabet(limit_alphabet),
            special_tokens=list(special_tokens),
            end_of_word_suffix=SUFFIX,
            show_progress=False,
        )

    def decoder(self):
        from tokenizers import decoders

        return decoders.BPEDecoder(suffix=SUFFIX)
