"""BERT's basic word tokenizer: text cleaning, CJK and punctuation splitting, casing switches.

``do_lower_case`` and ``strip_accents`` are separate: accent stripping decomposes Hangul into
jamo ('안녕' -> 'ㅇㅏㄴㄴㅕㅇ'), so a Korean uncased tokenizer lower-cases with
``strip_accents: false``. ``strip_accents: null`` follows ``do_lower_case`` (BERT's default).
Native: the ``tokenizers`` BertNormalizer + BertPreTokenizer (what BertTokenizerFast runs).
"""

from claf.config.errors import ConfigError
from claf.registry import TOKENIZERS
from claf.tokens.tokenizers.base import WordTokenizer
from claf.tokens.tokenizers.char import casing_normalizer


@TOKENIZERS.register("bert_basic")
class BertBasicTokenizer(WordTokenizer):
    """``do_lower_case``/``strip_accents`` None means "as the checkpoint says" (lower-case when building)."""

    name = "bert_basic"

    def __init__(self, do_lower_case=None, strip_accents=None, tokenize_chinese_chars=True, unicode_normalization=None):
        self.do_lower_case = do_lower_case
        self.strip_accents = strip_accents
        self.tokenize_chinese_chars = tokenize_chinese_chars
        self.unicode_normalization = unicode_normalization

    def options(self):
        return {"do_lower_case": self.do_lower_case, "strip_accents": self.strip_accents,
                "tokenize_chinese_chars": self.tokenize_chinese_chars,
                "unicode_normalization": self.unicode_normalization}

    def normalizer(self):
        from tokenizers import normalizers

        lowercase = True if self.do_lower_case is None else self.do_lower_case
        bert = normalizers.BertNormalizer(clean_text=True, handle_chinese_chars=self.tokenize_chinese_chars,
                                          strip_accents=self.strip_accents, lowercase=lowercase)
        form = casing_normalizer(False, self.unicode_normalization)  # NFC/NFKC first, if asked
        return normalizers.Sequence([form, bert]) if form is not None else bert

    def pre_tokenizer(self):
        from tokenizers import pre_tokenizers

        return pre_tokenizers.BertPreTokenizer()

    def check(self, tokenizer, where):
        """Raise if the checkpoint's casing contradicts this config."""
        normalizer = getattr(getattr(tokenizer, "backend_tokenizer", None), "normalizer", None)
        lowercase = getattr(normalizer, "lowercase", getattr(tokenizer, "do_lower_case", None))
        if self.do_lower_case is not None and lowercase is not None and bool(lowercase) != self.do_lower_case:
            raise ConfigError(
                f"token.tokenizer.word.bert_basic.do_lower_case is {str(self.do_lower_case).lower()} but the "
                f"checkpoint {where} {'lower-cases' if lowercase else 'keeps case'}; set it to null "
                "(follow the checkpoint) or use a matching checkpoint"
            )
        if self.strip_accents is None or not hasattr(normalizer, "strip_accents"):
            return
        theirs = normalizer.strip_accents
        theirs = bool(lowercase) if theirs is None else bool(theirs)
        if theirs != self.strip_accents:
            raise ConfigError(
                f"token.tokenizer.word.bert_basic.strip_accents is {str(self.strip_accents).lower()} but the "
                f"checkpoint {where} {'strips' if theirs else 'keeps'} accents; set it to null or use a matching "
                "checkpoint")
