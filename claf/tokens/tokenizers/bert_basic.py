"""BERT's basic word tokenizer: text cleaning, CJK and punctuation splitting, casing switches.

``do_lower_case`` and ``strip_accents`` are separate; ``strip_accents: null`` follows ``do_lower_case``
(BERT's default). BERT's own accent stripping decomposes Hangul into jamo ('안녕' -> 'ㅇㅏㄴㄴㅕㅇ'),
so every Korean word of an uncased tokenizer became [UNK]; here accents are stripped as NFD ->
drop combining marks -> NFC, which recomposes Hangul syllables: 'Café 안녕' -> 'cafe 안녕'.
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
        return {
            "do_lower_case": self.do_lower_case,
            "strip_accents": self.strip_accents,
            "tokenize_chinese_chars": self.tokenize_chinese_chars,
            "unicode_normalization": self.unicode_normalization,
        }

    def normalizer(self):
        from tokenizers import normalizers

        lowercase = True if self.do_lower_case is None else self.do_lower_case
        strip = lowercase if self.strip_accents is None else self.strip_accents
        bert = normalizers.BertNormalizer(
            clean_text=True, handle_chinese_chars=self.tokenize_chinese_chars, strip_accents=False, lowercase=lowercase
        )
        steps = [bert]
        form = casing_normalizer(False, self.unicode_normalization)  # NFC/NFKC first, if asked
        if form is not None:
            steps.insert(0, form)
        if strip:  # accents off (é -> e), then NFC puts Hangul syllables back together: never jamo
            steps += [normalizers.NFD(), normalizers.StripAccents(), normalizers.NFC()]
        return normalizers.Sequence(steps) if len(steps) > 1 else bert

    def pre_tokenizer(self):
        from tokenizers import pre_tokenizers

        return pre_tokenizers.BertPreTokenizer()

    def check(self, tokenizer, where):
        """Raise if the checkpoint's word units or casing contradict this config."""
        from claf.tokens.fast import claf_record

        recorded = claf_record(tokenizer)
        if recorded is not None and recorded.get("name") != self.name:
            raise ConfigError(
                f"token.tokenizer.word.name is bert_basic but checkpoint {where} splits words with "
                f"{recorded.get('name')} {recorded.get('options', {})}; set token.tokenizer.word.name to "
                f"{recorded.get('name')} or use another checkpoint"
            )
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
                "checkpoint"
            )
