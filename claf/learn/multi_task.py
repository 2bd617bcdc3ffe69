"""Multi-task training pieces: a batch source that samples tasks, and per-task evaluation.

Batches (``MultiTaskBatches``): each task has its own ``FeatureBatches`` (so a batch never mixes
tasks). An epoch has as many optimizer steps as the tasks' own epochs together; each step takes
``accumulation`` micro-batches of one task, the task drawn
  - ``proportional``: every task exactly its own number of steps, in shuffled order (MT-DNN);
  - ``temperature``: with probability proportional to (task steps)^(1/T): T=1 is proportional in
    expectation, larger T lifts small tasks, T -> infinity is uniform;
  - ``uniform``: every task equally often.
A task that runs out starts another pass over its data (reshuffled). The order depends only on
the seed and the epoch, so every DDP rank runs the same task at each step and resume is exact.

Evaluation (``multi_task_evaluator``): each task is scored by its own reader's metrics through its
head (sharing the encoder), reported as ``<task>/<key>``, plus ``average``: the mean of the tasks'
``metric_key`` scores (the default model-selection key of multi-task configs).
"""

import math
import random

from claf.data.readers.base import TaskData
from claf.learn.batches import FeatureBatches
from claf.learn.eval_group import EvaluatorGroup, with_extra_valid

PASSES = 1000  # pass p of a task in epoch e uses the shuffle of FeatureBatches epoch (e - 1) * PASSES + p + 1


class MultiTaskBatches:
    def __init__(self, features, batch_size, pad_token_id, accumulation=1, rank=0, world_size=1, seed=42,
                 group_by_length=True, sampling="temperature", temperature=2.0, num_tasks=None):
        groups = {}
        for feature in features:
            groups.setdefault(feature["task_id"], []).append(feature)
        self.task_ids = sorted(groups)
        self.sources = [FeatureBatches(groups[t], batch_size, pad_token_id, 1, rank, world_size, seed,
                                       group_by_length) for t in self.task_ids]
        self.accumulation = max(1, int(accumulation))
        self.sampling, self.temperature, self.seed = sampling, float(temperature), seed
        self.steps = [math.ceil(len(s) / self.accumulation) for s in self.sources]
        self.global_batch_size = self.sources[0].global_batch_size * self.accumulation

    def __len__(self):
        return sum(self.steps) * self.accumulation

    def weights(self):
        if self.sampling == "uniform":
            return [1.0] * len(self.steps)
        if self.sampling == "proportional":
            return [float(n) for n in self.steps]
        return [n ** (1.0 / self.temperature) for n in self.steps]

    def order(self, epoch):
        """The task (position in ``self.sources``) of each optimizer step of ``epoch``."""
        rng = random.Random(f"{self.seed}:{epoch}")
        if self.sampling == "proportional":
            order = [t for t, n in enumerate(self.steps) for _ in range(n)]
            rng.shuffle(order)
            return order
        return rng.choices(range(len(self.steps)), weights=self.weights(), k=sum(self.steps))

    def epoch(self, epoch, start=0):
        consumed = [0] * len(self.sources)
        streams = {}
        for step, t in enumerate(self.order(epoch)):
            for micro in range(self.accumulation):
                k = consumed[t]
                consumed[t] += 1
                if step * self.accumulation + micro < start:
                    continue
                yield self._batch(streams, t, epoch, k)

    def _batch(self, streams, t, epoch, k):
        source = self.sources[t]
        passes, position = divmod(k, len(source))
        key = (t, passes)
        if key not in streams:  # a new pass over this task's data (or the resumed position in one)
            streams[key] = source.epoch((epoch - 1) * PASSES + passes + 1, start=position)
        return next(streams[key])


def batch_source_for(reader):
    """A constructor with FeatureBatches' signature that builds the reader's multi-task batches."""

    def build(features, batch_size, pad_token_id, accumulation=1, rank=0, world_size=1, seed=42,
              group_by_length=True):
        return MultiTaskBatches(features, batch_size, pad_token_id, accumulation, rank, world_size, seed,
                                group_by_length, reader.sampling, reader.temperature)

    return build


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
        members.append((name, with_extra_valid(evaluator, block, task_reader, tokenizer,
                                               lambda data, m=task_model, r=task_reader: make(data, m, r.metrics))))
    group = EvaluatorGroup(members, average={name: reader.metric_key(name) for name in reader.names},
                           all_predictions=True)
    ordered = [e for name in reader.names for e in examples[name]]
    return MultiTaskEvaluator(group, ordered, reader.names)
