"""SQuAD v1.1 exact match and word-level F1 (same semantics as the official script)."""

import re
import string

from claf.metrics.qa_common import evaluate_qa, overlap_f1
from claf.registry import METRICS

_PUNCTUATION = frozenset(string.punctuation)
_ARTICLES = re.compile(r"\b(a|an|the)\b")


def normalize_answer(text):
    """Lower-case, drop ASCII punctuation and the articles a/an/the, collapse spaces."""
    text = text.lower()
    text = "".join(ch for ch in text if ch not in _PUNCTUATION)
    text = _ARTICLES.sub(" ", text)
    return " ".join(text.split())


def exact_match_score(prediction, gold):
    return float(normalize_answer(prediction) == normalize_answer(gold))


def f1_score(prediction, gold):
    """Token F1: whitespace tokens of the normalised texts, compared as multisets."""
    return overlap_f1(normalize_answer(prediction).split(), normalize_answer(gold).split())


@METRICS.register("squad_v1", keys=("f1", "em"))
def squad_v1(predictions, references):
    """``{"em", "f1"}`` in percent over every question in ``references``.

    ``predictions``: question id -> predicted answer text.
    ``references``: question id -> list of gold answer texts.
    """
    return evaluate_qa(predictions, references, exact_match_score, f1_score)
