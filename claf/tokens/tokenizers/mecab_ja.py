"""Japanese morphemes with MeCab and UniDic (unidic-lite from PyPI): '今日は良い天気' -> '今日', 'は', ..."""

from claf.registry import TOKENIZERS
from claf.tokens.tokenizers.mecab_ko import MecabKoTokenizer


@TOKENIZERS.register("mecab_ja")
class MecabJaTokenizer(MecabKoTokenizer):
    name = "mecab_ja"
    default_dictionary = "unidic_lite"
