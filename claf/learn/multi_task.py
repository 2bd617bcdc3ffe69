"""Multi-task evaluation (batches: ``claf.data.multi_task_batches``).

Evaluation (``multi_task_evaluator``): each task is scored by its own reader's metrics through its
head (sharing the encoder), reported as ``<task>/<key>``, plus ``average``: the mean of the tasks'
``metric_key`` scores (the default model-selection key of multi-task configs).
"""

from claf.data.readers.base import TaskData
from claf.learn.eval_group import EvaluatorGroup, with_extra_valid


class MultiTaskEvaluator:
    """Scores of every task and their average; predictions in the order of all validation examples."""

    def __init__(self, group, valid_examples, names):
        self.group = group
        self.examples = valid_examples
        self.names = names

    def __call__(self):
        scores, per_task = self.group()
        predictions = []
        for name, task_predictions in zip(self.names, per_task):
            task_examples = [e for e in self.examples if e["task"] == name]
            if isinstance(task_predictions, dict):
                predictions += [task_predictions[e["id"]] for e in task_examples]
            else:
                predictions += list(task_predictions)
        return scores, predictions


def multi_task_evaluator(reader, model, valid, tokenizer, make, data_reader=None):
    """``make(task_data, task_model, metrics)`` -> an Evaluator; one member per task."""
    examples = reader.by_task(valid.examples, "task")
    features = reader.by_task(valid.features, "task_id")
    members = []
    for name in reader.names:
        task_reader, task_model = reader.readers[name], model.task_model(name)
        evaluator = make(TaskData(examples[name], features[name]), task_model, task_reader.metrics)
        block = dict(reader.blocks[name])
        if data_reader is not None and not block.get("valid_limit"):
            block["valid_limit"] = data_reader.get("valid_limit")
        members.append(
            (
                name,
                with_extra_valid(
                    evaluator,
                    task_reader.extra_valid_sets(block),
                    task_reader,
                    tokenizer,
                    lambda data, m=task_model, r=task_reader: make(data, m, r.metrics),
                ),
            )
        )
    group = EvaluatorGroup(
        members, average={name: reader.metric_key(name) for name in reader.names}, all_predictions=True
    )
    ordered = [e for name in reader.names for e in examples[name]]
    return MultiTaskEvaluator(group, ordered, reader.names)
