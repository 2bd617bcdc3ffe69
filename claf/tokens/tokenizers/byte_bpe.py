"""Byte-level BPE (RoBERTa / GPT-2 style): no unknown tokens, ``<s> A </s></s> B </s>`` specials."""

from claf.registry import TOKENIZERS
from claf.tokens.tokenizers.base import ROBERTA_SPECIALS
from claf.tokens.tokenizers.bpe import BpeTokenizer


@TOKENIZERS.register("byte_bpe")
class ByteBpeTokenizer(BpeTokenizer):
    name = "byte_bpe"
    specials = ROBERTA_SPECIALS

    def _model_options(self):
        return {}

    def trainer(self, vocab_size, min_frequency=2, limit_alphabet=None, special_tokens=()):
        from tokenizers import pre_tokenizers, trainers

        return trainers.BpeTrainer(
            vocab_size=vocab_size,
            min_frequency=min_frequency,
            special_tokens=list(special_tokens),
            initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
            show_progress=False,
        )

    def pre_tokenizer(self):
        from tokenizers import pre_tokenizers

        return pre_tokenizers.ByteLevel(add_prefix_space=True, use_regex=False)

    def decoder(self):
        from tokenizers import decoders

        return decoders.ByteLevel()

    def post_processor(self, token_to_id):
        from tokenizers import processors

        s = self.specials
        return processors.RobertaProcessing(
            (s["sep_token"], token_to_id(s["sep_token"])),
            (s["cls_token"], token_to_id(s["cls_token"])),
            trim_offsets=True,
            add_prefix_space=True,
        )
