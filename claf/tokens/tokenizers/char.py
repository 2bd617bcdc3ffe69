"""Character units: every non-space Unicode character is a word (char vocab: ``word_level``)."""

from claf.config.errors import ConfigError
from claf.registry import TOKENIZERS
from claf.tokens.tokenizers.base import WordTokenizer


def casing_normalizer(do_lower_case, unicode_normalization=None):
    from tokenizers import normalizers

    parts = []
    if unicode_normalization:
        if str(unicode_normalization).upper() not in FORMS:
            raise ConfigError(
                f"unicode_normalization is {unicode_normalization}; use one of {', '.join(FORMS)} or null"
            )
        parts.append(getattr(normalizers, unicode_normalization.upper())())
    if do_lower_case:
        parts.append(normalizers.Lowercase())
    if len(parts) == 1:
        return parts[0]
    return normalizers.Sequence(parts) if parts else None


FORMS = ("NFC", "NFKC", "NFD", "NFKD")


class CasedWordTokenizer(WordTokenizer):
    """A word tokenizer whose only options are lower-casing and Unicode normalisation."""

    def __init__(self, do_lower_case=False, unicode_normalization=None):
        self.do_lower_case = do_lower_case
        self.unicode_normalization = unicode_normalization

    def options(self):
        return {"do_lower_case": self.do_lower_case, "unicode_normalization": self.unicode_normalization}

    def normalizer(self):
        return casing_normalizer(self.do_lower_case, self.unicode_normalization)


@TOKENIZERS.register("char")
class CharTokenizer(CasedWordTokenizer):
    name = "char"

    def pre_tokenizer(self):
        from tokenizers import Regex, pre_tokenizers

        return pre_tokenizers.Sequence(
            [pre_tokenizers.WhitespaceSplit(), pre_tokenizers.Split(Regex("."), behavior="isolated")]
        )
