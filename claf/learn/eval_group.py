"""Several evaluations reported as one (MNLI matched + mismatched, CoLA in + out of domain, multi-task).

``EvaluatorGroup([(name, evaluator), ...])`` runs each member; a member named None reports its
scores as they are, the others under ``<name>/<key>``. With ``average={name: key}`` it adds
``average``: the mean of those members' main scores (the multi-task model-selection score), and
``loss``: the mean of their losses.
The predictions returned are those of the first member (they go to ``predictions/valid.json``),
or with ``all_predictions`` the list of every member's.
"""

import time

from claf.config.errors import ConfigError


class EvaluatorGroup:
    def __init__(self, members, average=None, all_predictions=False):
        if not members:
            raise ValueError("an evaluator group needs at least one member")
        self.members = list(members)
        self.average = dict(average or {})
        self.all_predictions = all_predictions  # a list of every member's predictions instead of the first's

    def __call__(self):
        start = time.perf_counter()
        scores, every = {}, []
        for name, evaluator in self.members:
            member_scores, predictions = evaluator()
            every.append(predictions)
            prefix = f"{name}/" if name else ""
            scores.update({prefix + key: value for key, value in member_scores.items()})
        if self.average:
            missing = [f"{n}/{k}" for n, k in self.average.items() if f"{n}/{k}" not in scores]
            if missing:
                raise ConfigError(
                    f"average: no score {', '.join(missing)} among {sorted(scores)}; check each task's metric_key"
                )
            scores["average"] = sum(scores[f"{n}/{k}"] for n, k in self.average.items()) / len(self.average)
            losses = [scores[f"{n}/loss"] for n in self.average if f"{n}/loss" in scores]
            if losses:
                scores["loss"] = sum(losses) / len(losses)
        scores.setdefault("epoch_time", time.perf_counter() - start)
        return scores, every if self.all_predictions else every[0]


def with_extra_valid(evaluator, extra_sets, reader, tokenizer, make):
    """``evaluator`` plus one member per extra validation set (``{name: examples}``, from the reader)."""
    if not extra_sets:
        return evaluator
    from claf.data.readers.base import TaskData

    members = [(None, evaluator)]
    for name, examples in extra_sets.items():
        members.append((name, make(TaskData(examples, reader.featurize(examples, tokenizer)))))
    return EvaluatorGroup(members)
