"""Korean morphemes with a KoNLPy tagger (optional: pip install konlpy, needs a Java runtime)."""

from claf.config.errors import ConfigError
from claf.registry import TOKENIZERS
from claf.tokens.spans import SpanPreTokenizer, align
from claf.tokens.tokenizers.char import CasedWordTokenizer
from claf.tokens.tokenizers.mecab_ko import MecabKoTokenizer

TAGGERS = ("Okt", "Komoran", "Hannanum", "Kkma")


@TOKENIZERS.register("konlpy")
class KonlpyTokenizer(MecabKoTokenizer):
    name = "konlpy"

    def __init__(self, tagger="Okt", do_lower_case=False, unicode_normalization=None):
        if tagger not in TAGGERS:
            raise ConfigError(f"token.tokenizer.word.konlpy.tagger is {tagger}; use one of {', '.join(TAGGERS)}")
        CasedWordTokenizer.__init__(self, do_lower_case, unicode_normalization)
        self.tagger = tagger

    def options(self):
        return {"tagger": self.tagger, **CasedWordTokenizer.options(self)}

    def python_pre_tokenizer(self):
        try:
            import konlpy.tag
        except ImportError:
            raise ConfigError(
                "the konlpy word tokenizer needs konlpy: pip install konlpy (and a Java runtime), or use mecab_ko"
            ) from None
        tagger = getattr(konlpy.tag, self.tagger)()
        return SpanPreTokenizer(lambda text: align(text, tagger.morphs(text)) if text.strip() else [])
