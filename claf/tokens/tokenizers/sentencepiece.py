"""SentencePiece-style subwords (unigram or BPE) on ``▁``-marked words, natively in ``tokenizers``.

Trains with the tokenizers Unigram/BPE trainers; also loads a model trained by the
``sentencepiece`` library (``model_path``: a ``.model`` file). Normalisation is the word
tokenizer's (the .model's own normaliser is not applied: train it with
``normalization_rule_name=identity`` or normalise with the word tokenizer).
"""

from claf.config.errors import ConfigError
from claf.registry import TOKENIZERS
from claf.tokens.tokenizers.base import BERT_SPECIALS, SubwordTokenizer, alphabet, require

MODEL_TYPES = ("unigram", "bpe")
MARK = "\u2581"


def spm_merges(pieces):
    """BPE merges of a SentencePiece BPE vocab: every split of a piece into two known pieces, by piece rank."""
    rank = {p: i for i, p in enumerate(pieces)}
    merges = []
    for piece in pieces:
        for i in range(1, len(piece)):
            left, right = piece[:i], piece[i:]
            if left in rank and right in rank:
                merges.append((rank[piece], rank[left], rank[right], left, right))
    return [(left, right) for *_, left, right in sorted(merges)]


@TOKENIZERS.register("sentencepiece")
class SentencePieceTokenizer(SubwordTokenizer):
    name = "sentencepiece"

    def __init__(self, model_type="unigram", model_path=None):
        if model_type not in MODEL_TYPES:
            raise ConfigError(
                f"token.tokenizer.subword.sentencepiece.model_type is {model_type}; use one of {', '.join(MODEL_TYPES)}"
            )
        self.model_type_name = model_type
        self.model_path = model_path
        self.specials = dict(BERT_SPECIALS)

    def model(self):
        import sentencepiece as spm
        from tokenizers import models

        path = require(self.model_path, "token.tokenizer.subword.sentencepiece.model_path")
        sp = spm.SentencePieceProcessor(model_file=path)
        pieces = [sp.id_to_piece(i) for i in range(sp.get_piece_size())]
        self.specials["unk_token"] = pieces[sp.unk_id()]
        if self.model_type_name == "unigram":
            return models.Unigram(
                [(p, sp.get_score(i)) for i, p in enumerate(pieces)], unk_id=sp.unk_id(), byte_fallback=False
            )
        return models.BPE(
            {p: i for i, p in enumerate(pieces)}, spm_merges(pieces), unk_token=pieces[sp.unk_id()], fuse_unk=True
        )

    def empty_model(self):
        from tokenizers import models

        if self.model_type_name == "unigram":
            return models.Unigram()
        return models.BPE(unk_token=self.specials["unk_token"], fuse_unk=True)

    def trainer(self, vocab_size, min_frequency=2, limit_alphabet=None, special_tokens=()):
        from tokenizers import trainers

        if self.model_type_name == "unigram":
            return trainers.UnigramTrainer(
                vocab_size=vocab_size,
                special_tokens=list(special_tokens),
                unk_token=self.specials["unk_token"],
                show_progress=False,
            )
        return trainers.BpeTrainer(
            vocab_size=vocab_size,
            min_frequency=min_frequency,
            **alphabet(limit_alphabet),
            special_tokens=list(special_tokens),
            show_progress=False,
        )

    def pre_tokenizer(self):
        from tokenizers import pre_tokenizers

        return pre_tokenizers.Metaspace(replacement=MARK, prepend_scheme="always")

    def decoder(self):
        from tokenizers import decoders

        return decoders.Metaspace(replacement=MARK, prepend_scheme="always")
