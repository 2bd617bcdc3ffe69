"""BERT's basic word tokenizer: text cleaning, CJK and punctuation splitting, optional casing."""

from claf.config.errors import ConfigError
from claf.registry import TOKENIZERS


@TOKENIZERS.register("bert_basic")
class BertBasicTokenizer:
    """Word level. ``do_lower_case``/``strip_accents`` None means "as the checkpoint says"."""

    level = "word"

    def __init__(self, do_lower_case=None, strip_accents=None, tokenize_chinese_chars=True):
        self.do_lower_case = do_lower_case
        self.strip_accents = strip_accents
        self.tokenize_chinese_chars = tokenize_chinese_chars

    def options(self):
        """Keyword arguments for a transformers BertTokenizer."""
        return {
            "do_lower_case": True if self.do_lower_case is None else self.do_lower_case,
            "strip_accents": self.strip_accents,
            "tokenize_chinese_chars": self.tokenize_chinese_chars,
        }

    def check(self, tokenizer, where):
        """Raise if the checkpoint's tokenizer contradicts this config."""
        normalizer = getattr(getattr(tokenizer, "backend_tokenizer", None), "normalizer", None)
        lowercase = getattr(normalizer, "lowercase", getattr(tokenizer, "do_lower_case", None))
        if self.do_lower_case is not None and lowercase is not None and bool(lowercase) != self.do_lower_case:
            raise ConfigError(
                f"token.tokenizer.word.bert_basic.do_lower_case is {str(self.do_lower_case).lower()} but the "
                f"checkpoint {where} {'lower-cases' if lowercase else 'keeps case'}; set it to null "
                "(follow the checkpoint) or use a matching checkpoint"
            )
