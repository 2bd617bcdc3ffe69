"""The evaluation loop shared by the extractive-QA metrics (SQuAD, KorQuAD).

Each metric supplies two per-pair scorers, ``exact(prediction, gold)`` and
``f1(prediction, gold)``, both returning a number in [0, 1]. This module takes
the best score over a question's gold answers, averages over all questions of
the references and reports percentages. A question without a prediction
scores 0 on both, and how many were missing is reported under ``"missing"``.
"""

from collections import Counter


def overlap_f1(predicted_units, gold_units):
    """F1 of two sequences of units (tokens or characters) as multisets."""
    common = Counter(predicted_units) & Counter(gold_units)
    num_same = sum(common.values())
    if num_same == 0:
        return 0.0
    precision = num_same / len(predicted_units)
    recall = num_same / len(gold_units)
    return 2 * precision * recall / (precision + recall)


def evaluate_qa(predictions, references, exact, f1):
    """Score ``predictions`` (id -> text) against ``references`` (id -> gold texts).

    Returns ``{"em": float, "f1": float}`` in 0..100, plus ``"missing": int``
    when some reference questions have no prediction. Predictions for ids not
    in ``references`` are ignored.
    """
    if not references:
        raise ValueError("references is empty: there are no questions to evaluate")
    em_total = 0.0
    f1_total = 0.0
    missing = 0
    for qid, golds in references.items():
        if isinstance(golds, str):
            golds = [golds]
        if not golds:
            raise ValueError(f"question {qid!r} has no gold answers")
        if qid not in predictions:
            missing += 1
            continue
        prediction = predictions[qid]
        em_total += max(exact(prediction, gold) for gold in golds)
        f1_total += max(f1(prediction, gold) for gold in golds)
    total = len(references)
    result = {"em": 100.0 * em_total / total, "f1": 100.0 * f1_total / total}
    if missing:
        result["missing"] = missing
    return result
