"""Classification metrics on plain label lists (any hashable, comparable labels)."""

import numpy as np

from claf.registry import METRICS


def _as_arrays(predictions, labels):
    predictions = list(predictions)
    labels = list(labels)
    if len(predictions) != len(labels):
        raise ValueError(
            f"predictions and labels differ in length: {len(predictions)} predictions vs {len(labels)} labels"
        )
    if not predictions:
        raise ValueError("cannot compute a metric on empty input (0 predictions and 0 labels)")
    return np.asarray(predictions), np.asarray(labels)


@METRICS.register("accuracy", keys=("accuracy",))
def accuracy(predictions, labels):
    """``{"accuracy": percent}``: share of positions where prediction == label."""
    pred, gold = _as_arrays(predictions, labels)
    return {"accuracy": 100.0 * float(np.mean(pred == gold))}


@METRICS.register("macro_f1", keys=("macro_f1",))
def macro_f1(predictions, labels):
    """``{"macro_f1": percent}``: unweighted mean of per-class F1.

    The classes are every value seen in either list. A class's F1 is
    2*TP / (2*TP + FP + FN), which is 0 when the class is never predicted
    correctly (this matches scikit-learn's ``average="macro"``).
    """
    pred, gold = _as_arrays(predictions, labels)
    classes, codes = np.unique(np.concatenate([pred, gold]), return_inverse=True)
    codes = codes.reshape(-1)
    pred_codes, gold_codes = codes[: len(pred)], codes[len(pred) :]
    n = len(classes)
    tp = np.bincount(gold_codes[pred_codes == gold_codes], minlength=n)
    pred_count = np.bincount(pred_codes, minlength=n)
    gold_count = np.bincount(gold_codes, minlength=n)
    f1 = 2.0 * tp / (pred_count + gold_count)  # 2TP+FP+FN == pred_count+gold_count > 0
    return {"macro_f1": 100.0 * float(np.mean(f1))}


@METRICS.register("f1", keys=("f1",))
def binary_f1(predictions, labels, positive_label="1"):
    """``{"f1": percent}``: F1 of the class ``positive_label`` (2TP / (2TP + FP + FN); 0 if it never occurs).

    Labels are compared as strings, so ``positive_label`` "1" matches 1 and "1".
    """
    pred, gold = _as_arrays([str(p) for p in predictions], [str(g) for g in labels])
    positive = str(positive_label)
    tp = int(np.sum((pred == positive) & (gold == positive)))
    denominator = int(np.sum(pred == positive)) + int(np.sum(gold == positive))
    return {"f1": 100.0 * 2 * tp / denominator if denominator else 0.0}


@METRICS.register("matthews_corrcoef", keys=("mcc",))
def matthews_corrcoef(predictions, labels):
    """``{"mcc": percent}``: Matthews correlation over all classes (Gorodkin's multi-class form).

    From the confusion matrix C (n examples, c correct, t_k true and p_k predicted counts of class k):
    (c*n - t.p) / sqrt((n^2 - p.p) * (n^2 - t.t)); 0 when a denominator term is 0 (one class only).
    """
    pred, gold = _as_arrays(predictions, labels)
    classes, codes = np.unique(np.concatenate([pred, gold]), return_inverse=True)
    codes = codes.reshape(-1)
    pred_codes, gold_codes = codes[: len(pred)], codes[len(pred) :]
    n = float(len(pred))
    t = np.bincount(gold_codes, minlength=len(classes)).astype(float)
    p = np.bincount(pred_codes, minlength=len(classes)).astype(float)
    correct = float(np.sum(pred_codes == gold_codes))
    denominator = np.sqrt((n * n - p @ p) * (n * n - t @ t))
    return {"mcc": 100.0 * float((correct * n - t @ p) / denominator) if denominator else 0.0}
