"""The pre-training batch source: micro-batches as a pure function of (optimizer step, micro-step, rank).

For optimizer step ``s`` the length schedule gives (max_seq_length L, global batch B). Each L
has its own endless instance stream: epoch after epoch of the L-plan, each epoch in its own
shuffled order. Step ``s`` takes the next B instances of L's stream (where the earlier steps of
the schedule left it); micro-step ``m`` of rank ``r`` takes its slice of those B. An instance
at stream position p is (epoch p // N, index order_epoch[p % N]) and is masked with the key of
(seed, epoch, index, L). So the data depend on the global batch only (1 rank x 2 accumulation
sees what 2 ranks see), and an exact resume only needs the step.

``group_by_length`` G > 0 (``instances.group_by_length``) batches instances of similar length: each
epoch's order is cut into windows of G global batches, a window is sorted by instance length and its
batches are shuffled. A batch is padded to its longest instance only, so short instances stop paying
for long ones' padding; which instances an epoch holds is unchanged, and the order is still a pure
function of (seed, epoch).

It follows the trainer's batch-source protocol: ``len(source)`` micro-batches per trainer epoch
(``steps_per_epoch`` optimizer steps: the runner uses one checkpoint interval) and
``source.epoch(epoch, start)``; trainer epochs simply continue the stream.
"""

from dataclasses import dataclass

import numpy as np

from claf.config.errors import ConfigError
from claf.pretrain import rng
from claf.pretrain.instances import build_instances, instance_lengths
from claf.pretrain.masking import IGNORE_INDEX
from claf.pretrain.plans import Plan

MODEL_KEYS = ("input_ids", "token_type_ids", "attention_mask", "labels", "next_sentence_label", "next_sentence_target")
MASKED_POSITIONS = "masked_positions"
GROUP_SALT = 0x6C656E  # the block shuffle's own random stream


@dataclass(frozen=True)
class StepLayout:
    """How optimizer steps map to micro-batches on this process: one trainer epoch is ``steps_per_epoch``
    optimizer steps of ``accumulation`` micro-batches, each split over ``world_size`` ranks."""

    steps_per_epoch: int
    accumulation: int = 1
    rank: int = 0
    world_size: int = 1


class PretrainBatches:
    """``instances`` is the recipe's instances block (``claf.config.specs.pretrain.InstancesSpec``: format,
    order, group_by_length, copy_share), already validated."""

    def __init__(
        self,
        corpus,
        specials,
        lengths,
        masker,
        mask_schedule,
        layout,
        instances,
        seed=42,
        holdout_documents=0,
        as_tensors=True,
        holdout_from="spread",
    ):
        self.corpus, self.specials, self.instances_spec = corpus, specials, instances
        self.format, self.order, self.group_by_length = instances.format, instances.order, instances.group_by_length
        self.lengths, self.masker, self.mask_schedule = lengths, masker, mask_schedule
        self.steps_per_epoch = layout.steps_per_epoch
        self.accumulation, self.rank, self.world_size = layout.accumulation, layout.rank, layout.world_size
        self.seed, self.as_tensors = int(seed), as_tensors
        self.holdout_documents, self.holdout_from = int(holdout_documents or 0), holdout_from
        self._plans, self._grouped = {}, (None, None)
        for until, _length, batch in lengths.phases:  # the world size is known only here, at run time
            if batch % (self.accumulation * self.world_size):
                raise ConfigError(
                    f"schedule.sequence_length: batch_size {batch} (until step {until}) must be "
                    f"divisible by gradient_accumulation_steps x world size = "
                    f"{self.accumulation * self.world_size}"
                )

    def plan(self, length):
        if length not in self._plans:
            spec = self.instances_spec
            self._plans[length] = Plan(
                self.corpus,
                spec.format,
                length,
                self.holdout_documents,
                order=spec.order,
                copy_share=spec.copy_share,
                copy_noise=spec.copy_noise,
                copy_splice=spec.copy_splice,
                holdout_from=self.holdout_from,
            )
        return self._plans[length]

    def __len__(self):
        return self.steps_per_epoch * self.accumulation

    def position_at(self, step):
        """(trainer epoch, micro-batch within it) where optimizer step ``step`` starts: a resumed run may use
        another checkpoint interval (``steps_per_epoch``), since the data depend on the step only."""
        epoch, within = divmod(int(step), self.steps_per_epoch)
        return epoch + 1, within * self.accumulation

    def epoch(self, epoch, start=0):
        offset = (int(epoch) - 1) * len(self)
        for k in range(start, len(self)):
            yield self.micro_batch(offset + k)

    def locate(self, micro_index):
        """(step, max_seq_length, stream positions) of a micro-batch on this rank."""
        step, micro = divmod(int(micro_index), self.accumulation)
        length, batch = self.lengths.at(step)
        size = batch // (self.accumulation * self.world_size)
        begin = self.lengths.consumed(step, length) + (micro * self.world_size + self.rank) * size
        return step, length, np.arange(begin, begin + size, dtype=np.int64)

    def instances(self, length, positions):
        """(plan indices, epochs) of stream positions of ``length``."""
        plan = self.plan(length)
        epochs, within = np.divmod(positions, len(plan))
        indices = np.empty_like(positions)
        for e in np.unique(epochs):
            chosen = epochs == e
            indices[chosen] = self.epoch_order(length, int(e))[within[chosen]]
        return indices, epochs

    def epoch_order(self, length, epoch):
        """The plan's instance order for an epoch, length-grouped when ``group_by_length`` is set."""
        plan = self.plan(length)
        order = plan.epoch_order(self.seed, epoch)
        if not self.group_by_length:
            return order
        if self._grouped[0] != (length, epoch):
            keys = rng.instance_keys(self.seed, epoch, order, length)
            batch = next(b for _u, phase_length, b in self.lengths.phases if phase_length == length)
            # Where this length's batches start inside the epoch, so every shuffled block is one batch.
            shift = (-epoch * len(plan)) % batch
            seed = np.random.default_rng([self.seed, epoch, length, GROUP_SALT])
            grouped = group_order(order, instance_lengths(plan, order, keys), batch, self.group_by_length, shift, seed)
            self._grouped = ((length, epoch), grouped)
        return self._grouped[1]

    def micro_batch(self, micro_index):
        step, length, positions = self.locate(micro_index)
        plan = self.plan(length)
        indices, epochs = self.instances(length, positions)
        keys = rng.instance_keys(self.seed, epochs, indices, length)
        batch = build_instances(plan, indices, keys, self.specials)
        batch = self.masker(batch, keys, self.mask_schedule.ngram_share(step))
        out = {k: batch[k] for k in MODEL_KEYS if k in batch}
        # the masked tokens' flat positions, found here on the host: the model then gathers them without the
        # device sync a boolean mask costs (claf.pretrain.model)
        out[MASKED_POSITIONS] = np.flatnonzero(out["labels"].reshape(-1) != IGNORE_INDEX)
        if self.as_tensors:
            import torch

            out = {k: torch.from_numpy(v) for k, v in out.items()}
        return out


def group_order(order, sizes, batch, window_batches, shift, generator):
    """``order`` (``sizes[k]``: the length of instance ``order[k]``) with each window of ``window_batches``
    whole batches after the first ``shift`` positions sorted by length and its batches shuffled; the
    ragged ends (before ``shift``, after the last whole batch) are only sorted."""
    n = len(order)
    shift = min(int(shift), n)
    segments = [(0, shift, False)]
    begin = shift
    while begin + batch <= n:
        end = begin + min(batch * window_batches, (n - begin) // batch * batch)
        segments.append((begin, end, True))
        begin = end
    segments.append((begin, n, False))
    perm = np.arange(n)
    for begin, end, shuffle in segments:
        piece = perm[begin:end][np.argsort(sizes[begin:end], kind="stable")]
        if shuffle:
            piece = piece.reshape(-1, batch)[generator.permutation((end - begin) // batch)].reshape(-1)
        perm[begin:end] = piece
    return np.asarray(order)[perm]
