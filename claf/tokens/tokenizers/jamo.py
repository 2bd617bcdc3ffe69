"""Jamo units: each Hangul syllable becomes its 2-3 conjoining jamo; other characters stay whole.

Reversible: ``compose(decompose(text)) == text``. Each jamo token's offsets span the
syllable it came from. Only Hangul syllables are decomposed (NFD would also split accents
and kana voicing marks), so this runs in Python; the saved stand-in is character units.
"""

import unicodedata

from claf.registry import TOKENIZERS
from claf.tokens.tokenizers.char import CasedWordTokenizer, CharTokenizer

SYLLABLE_FIRST, SYLLABLE_LAST = 0xAC00, 0xD7A3


def is_syllable(ch):
    return SYLLABLE_FIRST <= ord(ch) <= SYLLABLE_LAST


def decompose(text):
    """Hangul syllables -> conjoining jamo (U+1100 block); everything else unchanged."""
    return "".join(unicodedata.normalize("NFD", ch) if is_syllable(ch) else ch for ch in text)


def compose(text):
    """Conjoining jamo -> Hangul syllables; the inverse of ``decompose``."""
    out, run = [], []
    for ch in text:
        if 0x1100 <= ord(ch) <= 0x11FF:
            run.append(ch)
            continue
        if run:
            out.append(unicodedata.normalize("NFC", "".join(run)))
            run = []
        out.append(ch)
    if run:
        out.append(unicodedata.normalize("NFC", "".join(run)))
    return "".join(out)


class _JamoPreTokenizer:
    def _split(self, index, normalized):
        pieces = []
        for i, ch in enumerate(str(normalized)):
            if ch.isspace():
                continue
            piece = normalized[i : i + 1]
            if is_syllable(ch):
                piece.nfd()  # in place, still aligned to the original syllable
                pieces.extend(piece[j : j + 1] for j in range(len(str(piece))))
            else:
                pieces.append(piece)
        return pieces

    def pre_tokenize(self, pretok):
        pretok.split(self._split)


@TOKENIZERS.register("jamo")
class JamoTokenizer(CasedWordTokenizer):
    name = "jamo"

    def pre_tokenizer(self):
        return CharTokenizer().pre_tokenizer()

    def python_pre_tokenizer(self):
        return _JamoPreTokenizer()
