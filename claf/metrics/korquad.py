"""KorQuAD 1.0 exact match and character-level F1 (semantics of evaluate-v1.0.py).

Normalisation differs from SQuAD: some quote and bracket characters become
spaces first, and no articles are removed. F1 compares the characters of the
normalised answer with spaces left out, so "세종 대왕" and "세종대왕" score 100.
"""

import string

from claf.metrics.qa_common import evaluate_qa, overlap_f1
from claf.registry import METRICS

_TO_SPACE = str.maketrans({ch: " " for ch in "'\"《》<>〈〉()‘’"})
_PUNCTUATION = frozenset(string.punctuation)


def normalize_answer(text):
    """Quote/bracket characters to spaces, lower-case, drop ASCII punctuation, collapse spaces."""
    text = text.translate(_TO_SPACE).lower()
    text = "".join(ch for ch in text if ch not in _PUNCTUATION)
    return " ".join(text.split())


def exact_match_score(prediction, gold):
    return float(normalize_answer(prediction) == normalize_answer(gold))


def _characters(text):
    return [ch for token in normalize_answer(text).split() for ch in token]


def f1_score(prediction, gold):
    """Character F1 of the normalised texts, whitespace not counted."""
    return overlap_f1(_characters(prediction), _characters(gold))


@METRICS.register("korquad_v1", keys=("f1", "em"))
def korquad_v1(predictions, references):
    """``{"em", "f1"}`` in percent over every question in ``references``.

    ``predictions``: question id -> predicted answer text.
    ``references``: question id -> list of gold answer texts.
    """
    return evaluate_qa(predictions, references, exact_match_score, f1_score)
