"""Classification metrics on plain label lists (any hashable, comparable labels)."""

import numpy as np

from claf.registry import METRICS


def _as_arrays(predictions, labels):
    predictions = list(predictions)
    labels = list(labels)
    if len(predictions) != len(labels):
        raise ValueError(
            f"predictions and labels differ in length: "
            f"{len(predictions)} predictions vs {len(labels)} labels"
        )
    if not predictions:
        raise ValueError("cannot compute a metric on empty input (0 predictions and 0 labels)")
    return np.asarray(predictions), np.asarray(labels)


@METRICS.register("accuracy")
def accuracy(predictions, labels):
    """``{"accuracy": percent}``: share of positions where prediction == label."""
    pred, gold = _as_arrays(predictions, labels)
    return {"accuracy": 100.0 * float(np.mean(pred == gold))}


@METRICS.register("macro_f1")
def macro_f1(predictions, labels):
    """``{"macro_f1": percent}``: unweighted mean of per-class F1.

    The classes are every value seen in either list. A class's F1 is
    2*TP / (2*TP + FP + FN), which is 0 when the class is never predicted
    correctly (this matches scikit-learn's ``average="macro"``).
    """
    pred, gold = _as_arrays(predictions, labels)
    classes, codes = np.unique(np.concatenate([pred, gold]), return_inverse=True)
    codes = codes.reshape(-1)
    pred_codes, gold_codes = codes[: len(pred)], codes[len(pred):]
    n = len(classes)
    tp = np.bincount(gold_codes[pred_codes == gold_codes], minlength=n)
    pred_count = np.bincount(pred_codes, minlength=n)
    gold_count = np.bincount(gold_codes, minlength=n)
    f1 = 2.0 * tp / (pred_count + gold_count)  # 2TP+FP+FN == pred_count+gold_count > 0
    return {"macro_f1": 100.0 * float(np.mean(f1))}
