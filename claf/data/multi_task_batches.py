"""Multi-task training batches: each optimizer step trains one task, the task drawn by a sampling rule.

Each task has its own ``FeatureBatches`` (so a batch never mixes tasks). An epoch has as many
optimizer steps as the tasks' own epochs together; each step takes ``accumulation`` micro-batches
of one task, the task drawn
  - ``proportional``: every task exactly its own number of steps, in shuffled order (MT-DNN);
  - ``temperature``: with probability proportional to (task steps)^(1/T): T=1 is proportional in
    expectation, larger T lifts small tasks, T -> infinity is uniform;
  - ``uniform``: every task equally often.
A task that runs out starts another pass over its data (reshuffled). The order depends only on
the seed and the epoch, so every DDP rank runs the same task at each step and resume is exact.
"""

import math
import random

from claf.data.batch_source import FeatureBatches

PASSES = 1000  # pass p of a task in epoch e uses the shuffle of FeatureBatches epoch (e - 1) * PASSES + p + 1


class MultiTaskBatches:
    def __init__(
        self,
        features,
        batch_size,
        pad_token_id,
        accumulation=1,
        rank=0,
        world_size=1,
        seed=42,
        group_by_length=True,
        sampling="temperature",
        temperature=2.0,
        num_tasks=None,
    ):
        groups = {}
        for feature in features:
            groups.setdefault(feature["task_id"], []).append(feature)
        self.task_ids = sorted(groups)
        self.sources = [
            FeatureBatches(groups[t], batch_size, pad_token_id, 1, rank, world_size, seed, group_by_length)
            for t in self.task_ids
        ]
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
