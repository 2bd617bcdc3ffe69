"""The evaluator of a task, assembled once for training and for ``eval``.

``make(task_data, task_model, metrics)`` builds one ``Evaluator``; this module adds the reader's
extra validation sets (reported under ``<name>/``) or, for a multi-task reader, one member per task.
"""

from claf.learn.eval_group import with_extra_valid
from claf.learn.evaluator import Evaluator


def evaluator_factory(model, metrics, batch_size, pad_token_id, precision, dist=None):
    def make(data, task_model=model, task_metrics=metrics):
        return Evaluator(task_model, data, task_metrics, batch_size, pad_token_id, precision, dist)

    return make


def build_evaluator(reader, model, valid, tokenizer, data_reader, batch_size, precision, dist=None):
    """The validation evaluator of ``reader``'s task: main set, extra sets, or every task's."""
    make = evaluator_factory(model, reader.metrics, batch_size, tokenizer.pad_token_id, precision, dist)
    if hasattr(reader, "readers"):  # multi-task: each task scored by its head, plus their average
        from claf.learn.multi_task import multi_task_evaluator

        return multi_task_evaluator(reader, model, valid, tokenizer, make, data_reader)
    return with_extra_valid(make(valid), reader.extra_valid_sets(data_reader), reader, tokenizer, make)
