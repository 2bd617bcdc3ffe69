"""Training batches as the trainer consumes them: micro-batches, one epoch at a time, resumable.

A batch source is any object with ``len(source)`` (micro-batches per epoch on this rank) and
``source.epoch(epoch, start=0)`` (an iterator over that epoch's micro-batches, skipping the
first ``start``). A plain list of batch dicts is wrapped by ``as_batch_source``.

``FeatureBatches`` orders features by *optimizer step*: each epoch the features are shuffled
(seeded by seed + epoch) and cut into global batches of ``batch_size * accumulation *
world_size`` (length-grouped: similar lengths share a batch, so dynamic padding wastes little);
each global batch is split into ``accumulation`` micro-steps and each micro-step into
``world_size`` rank shards. The data order therefore depends only on the global batch size:
2 ranks x 16, 1 rank x 16 x 2 accumulation and 1 rank x 32 see the same updates.

Elastic runs fix the global batch instead (``global_batch``, from ``trainer.global_batch_size``):
``elastic_layout`` picks the per-rank micro-batch and the accumulation for the world size at hand,
so the global batches, and the data order, are functions of (seed, step) on any number of ranks,
and ``position_at(step)`` tells a run resumed on another world size where to continue.
"""

import itertools

import torch

from claf.data.padding import batch_order, collate
from claf.errors import UserError

UNITS_KEY = "loss_units"  # optional batch entry: how many loss units (examples/tokens) the batch weighs


class FeatureBatches:
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
        collate_fn=None,
        global_batch=None,
    ):
        if not features:
            raise UserError("no training features: the training file produced no examples")
        self.features = features
        self.batch_size = int(batch_size)
        self.accumulation = max(1, int(accumulation))
        self.rank, self.world_size = rank, world_size
        self.global_batch_size = int(global_batch or self.batch_size * self.accumulation * world_size)
        self.seed = seed
        self.group_by_length = group_by_length
        self.collate = collate_fn or (lambda indices: collate(features, indices, pad_token_id))
        self.lengths = [len(f["input_ids"]) for f in features]
        self._len = len(self._plan(1))
        self.steps_per_epoch = -(-self._len // self.accumulation)

    def position_at(self, step):
        """(epoch, micro-batch within it) where optimizer step ``step`` starts: every step but an epoch's
        last takes a full window, so this holds for whatever world size and accumulation saved ``step``."""
        epoch, within = divmod(int(step), self.steps_per_epoch)
        return epoch + 1, within * self.accumulation

    def _plan(self, epoch):
        """This rank's micro-batches of an epoch: (indices, weighted) pairs."""
        plan = []
        batches = batch_order(
            self.lengths,
            self.global_batch_size,
            shuffle=True,
            seed=self.seed + epoch,
            group_by_length=self.group_by_length,
        )
        # The one short global batch goes last, so every optimizer step but the epoch's last takes a
        # full window of ``accumulation`` micro-batches (the trainer cuts windows by count).
        batches.sort(key=lambda b: len(b) < self.global_batch_size)
        for batch in batches:
            step_size = self.batch_size * self.world_size
            for start in range(0, len(batch), step_size):
                shard = _split(batch[start : start + step_size], self.world_size)[self.rank]
                # A rank left without examples (a tiny last batch) runs one real example at weight 0,
                # so every rank does the same number of forward/backward passes.
                plan.append((shard, True) if shard else ([batch[start]], False))
        return plan

    def __len__(self):
        return self._len

    def epoch(self, epoch, start=0):
        for indices, weighted in self._plan(epoch)[start:]:
            batch = self.collate(indices)
            if not weighted:
                batch[UNITS_KEY] = 0
            yield batch


class ListBatches:
    """A re-iterable of ready batches (the same every epoch)."""

    def __init__(self, batches):
        self.batches = batches

    def __len__(self):
        return len(self.batches)

    def epoch(self, epoch, start=0):
        return itertools.islice(iter(self.batches), start, None)


def as_batch_source(batches):
    return batches if hasattr(batches, "epoch") else ListBatches(batches)


def count_units(batch, model=None):
    """Loss units of a micro-batch: labelled tokens for token-level labels, else examples.

    A model's loss is the mean over these units, so weighting each micro-batch's loss by its
    share of the window's units makes accumulated (and distributed) updates equal the big batch's.
    """
    if UNITS_KEY in batch:
        return int(batch.pop(UNITS_KEY))
    if model is not None and hasattr(model, "loss_units"):
        return int(model.loss_units(batch))
    labels = batch.get("labels")
    if isinstance(labels, torch.Tensor):
        return int((labels != -100).sum())  # -100: ignored by the loss (transformers' convention)
    for value in batch.values():
        if isinstance(value, torch.Tensor) and value.dim() > 0:
            return len(value)
    return 1


def elastic_layout(global_batch, batch_size, world_size):
    """(per-rank micro-batch, accumulation) that make up ``global_batch`` examples per optimizer step on
    ``world_size`` ranks, with micro-batches of at most ``batch_size``: every global batch is then cut into
    exactly ``accumulation`` micro-steps (the last may be short), each split over the ranks."""
    accumulation = -(-global_batch // (batch_size * world_size))
    micro = -(-global_batch // (accumulation * world_size))
    return micro, -(-global_batch // (micro * world_size))


def _split(items, parts):
    """``items`` in ``parts`` contiguous chunks whose sizes differ by at most one."""
    size, extra = divmod(len(items), parts)
    out, start = [], 0
    for p in range(parts):
        end = start + size + (1 if p < extra else 0)
        out.append(items[start:end])
        start = end
    return out
