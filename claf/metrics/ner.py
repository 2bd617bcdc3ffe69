"""Named-entity metrics on BIO tag sequences, as KLUE-NER reports them (both in percent).

- entity-level macro F1: entities are read strictly (IOB2): ``B-X`` followed by any ``I-X``; an
  ``I-X`` that does not continue a ``B-X``/``I-X`` of the same type starts no entity. An entity is
  correct when type, start and end all match. F1 per type, averaged over the types that occur in
  the gold or the predictions (as seqeval's ``average="macro"`` in strict IOB2 mode).
- character-level macro F1: every unit (character for KLUE) is one classification; F1 per tag,
  averaged over the tags other than ``O`` that occur in the gold or the predictions (as
  scikit-learn's ``f1_score(average="macro", labels=those tags)``).

``predictions`` and ``references`` are lists of tag sequences (one per sentence, equal lengths).
"""

from collections import Counter

from claf.registry import METRICS


def entities(tags):
    """Strict IOB2 entities of one sentence: a list of (type, start, end_exclusive)."""
    found, current = [], None
    for i, tag in enumerate(list(tags) + ["O"]):
        prefix, kind = (tag[0], tag[2:]) if tag != "O" and len(tag) > 2 and tag[1] == "-" else ("O", None)
        if current is not None and not (prefix == "I" and kind == current[0]):
            found.append((current[0], current[1], i))
            current = None
        if prefix == "B":
            current = (kind, i)
    return found


def _checked(predictions, references):
    predictions, references = list(predictions), list(references)
    if len(predictions) != len(references):
        raise ValueError(f"{len(predictions)} predicted sentences vs {len(references)} reference sentences")
    for i, (p, r) in enumerate(zip(predictions, references)):
        if len(p) != len(r):
            raise ValueError(f"sentence {i}: {len(p)} predicted tags vs {len(r)} reference tags")
    if not references:
        raise ValueError("cannot compute a metric on empty input (0 sentences)")
    return predictions, references


def _f1(tp, n_pred, n_gold):
    return 2.0 * tp / (n_pred + n_gold) if n_pred + n_gold else 0.0


@METRICS.register("ner_entity_f1", keys=("entity_f1",))
def ner_entity_f1(predictions, references):
    predictions, references = _checked(predictions, references)
    tp, n_pred, n_gold = Counter(), Counter(), Counter()
    for p, r in zip(predictions, references):
        pred, gold = set(entities(p)), set(entities(r))
        for kind, *_ in pred:
            n_pred[kind] += 1
        for kind, *_ in gold:
            n_gold[kind] += 1
        for kind, *_ in pred & gold:
            tp[kind] += 1
    kinds = sorted(set(n_pred) | set(n_gold))
    score = sum(_f1(tp[k], n_pred[k], n_gold[k]) for k in kinds) / len(kinds) if kinds else 0.0
    return {"entity_f1": 100.0 * score}


@METRICS.register("ner_char_f1", keys=("char_f1",))
def ner_char_f1(predictions, references):
    predictions, references = _checked(predictions, references)
    tp, n_pred, n_gold = Counter(), Counter(), Counter()
    for p, r in zip(predictions, references):
        for pt, gt in zip(p, r):
            n_pred[pt] += 1
            n_gold[gt] += 1
            tp[pt] += pt == gt
    tags = sorted((set(n_pred) | set(n_gold)) - {"O"})
    score = sum(_f1(tp[t], n_pred[t], n_gold[t]) for t in tags) / len(tags) if tags else 0.0
    return {"char_f1": 100.0 * score}
