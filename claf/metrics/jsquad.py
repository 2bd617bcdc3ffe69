"""JSQuAD (JGLUE) exact match and character-level F1.

Japanese has no spaces between words, so F1 compares characters (as JGLUE reports it). Both
texts are NFKC-normalised (full-width and half-width forms agree), lower-cased, and stripped of
whitespace and punctuation (any Unicode punctuation, e.g. 。、「」).
"""

import unicodedata

from claf.metrics.qa_common import evaluate_qa, overlap_f1
from claf.registry import METRICS


def normalize_answer(text):
    text = unicodedata.normalize("NFKC", text).lower()
    return "".join(ch for ch in text if not ch.isspace() and not unicodedata.category(ch).startswith("P"))


def exact_match_score(prediction, gold):
    return float(normalize_answer(prediction) == normalize_answer(gold))


def f1_score(prediction, gold):
    return overlap_f1(list(normalize_answer(prediction)), list(normalize_answer(gold)))


@METRICS.register("jsquad_v1", keys=("f1", "em"))
def jsquad_v1(predictions, references):
    """``{"em", "f1"}`` in percent; ``predictions`` id -> text, ``references`` id -> gold texts."""
    return evaluate_qa(predictions, references, exact_match_score, f1_score)
