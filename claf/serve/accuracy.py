"""What a backend costs on the task: its validation score and its agreement with ``torch`` fp32.

compare_backends("logs/glue/sst2_bert", ["torch", "onnx", "onnx-int8"])
-> [{"backend": "onnx", "score": 91.2, "delta": 0.0, "agreement": 1.0, ...}, ...]
"""

import time


def agreement(reference, other):
    """Share of equal predictions (labels, QA answers, NER tags per unit); None for regression scores."""
    if isinstance(reference, dict):
        keys = list(reference)
        reference, other = [reference[k] for k in keys], [other[k] for k in keys]
    if reference and isinstance(reference[0], list):  # one tag per unit
        reference = [t for row in reference for t in row]
        other = [t for row in other for t in row]
    if not reference or isinstance(reference[0], float):
        return None
    return sum(a == b for a, b in zip(reference, other)) / len(reference)


def max_difference(reference, other):
    """Largest |difference| of regression predictions (None for labels)."""
    if isinstance(reference, list) and reference and isinstance(reference[0], float):
        return max(abs(a - b) for a, b in zip(reference, other))
    return None


def compare_backends(run, backends, overrides=None) -> list[dict]:
    """Evaluate ``run`` with each backend; deltas and agreement are against the first backend."""
    from claf.experiment import Experiment

    rows, first = [], None
    for backend in backends:
        experiment = Experiment("eval", run, overrides=overrides, backend=backend)
        start = time.perf_counter()
        scores = experiment()
        key = "valid/" + experiment.config.trainer.metric_key
        if key not in scores:  # multi-task runs select on their average
            key = "valid/average" if "valid/average" in scores else key
        row = {
            "backend": backend,
            "metric": key,
            "score": scores.get(key),
            "seconds": time.perf_counter() - start,
            "scores": scores,
        }
        if first is None:
            first = (row, experiment.predictions)
        else:
            ref_row, ref_predictions = first
            row["delta"] = row["score"] - ref_row["score"] if row["score"] is not None else None
            row["agreement"] = agreement(ref_predictions, experiment.predictions)
            row["max_abs_diff"] = max_difference(ref_predictions, experiment.predictions)
        rows.append(row)
    return rows


def format_rows(rows) -> str:
    reference = rows[0]["backend"]
    lines = [f"{'backend':<12} {'metric':<22} {'score':>8} {'delta':>8} {'agree vs ' + reference:>16} {'seconds':>8}"]
    for row in rows:
        delta = f"{row['delta']:+.2f}" if row.get("delta") is not None else "-"
        agree = (
            f"{100 * row['agreement']:.2f}%"
            if row.get("agreement") is not None
            else (f"max|d| {row['max_abs_diff']:.1e}" if row.get("max_abs_diff") is not None else "-")
        )
        score = f"{row['score']:.2f}" if row["score"] is not None else "-"
        lines.append(
            f"{row['backend']:<12} {row['metric']:<22} {score:>8} {delta:>8} {agree:>16} {row['seconds']:>8.1f}"
        )
    return "\n".join(lines)
