"""Little padding: a length-grouped batch order, and dynamic padding (``collate``) to each batch's longest."""

import random

import torch

PAD_VALUES = {"input_ids": None, "token_type_ids": 0, "attention_mask": 0}  # None: the tokenizer's pad id
SCALAR_KEYS = ("labels", "start_positions", "end_positions", "task_id")  # task_id: multi-task batches


def batch_order(lengths, batch_size, shuffle=True, seed=0, group_by_length=True, group_size=50):
    """Indices split into batches.

    With grouping, examples are shuffled, cut into groups of ``group_size`` batches, sorted by
    length inside each group, then the batches themselves are shuffled: batches hold similar
    lengths yet the order stays random. Without shuffling (evaluation) batches follow length
    order when grouping, else file order.
    """
    indices = list(range(len(lengths)))
    rng = random.Random(seed)
    if shuffle:
        rng.shuffle(indices)
    if group_by_length:
        size = batch_size * group_size if shuffle else len(indices)
        indices = [
            i
            for start in range(0, len(indices), size)
            for i in sorted(indices[start : start + size], key=lambda j: -lengths[j])
        ]
    batches = [indices[i : i + batch_size] for i in range(0, len(indices), batch_size)]
    if shuffle and group_by_length:
        rng.shuffle(batches)
    return batches


def collate(features, indices, pad_token_id):
    """Pad the chosen features to the longest one in the batch; keep the feature indices."""
    chosen = [features[i] for i in indices]
    longest = max(len(f["input_ids"]) for f in chosen)
    batch = {"index": torch.tensor(indices)}
    for key, pad in PAD_VALUES.items():
        if key in chosen[0]:
            value = pad_token_id if pad is None else pad
            batch[key] = torch.tensor([f[key] + [value] * (longest - len(f[key])) for f in chosen])
    for key in SCALAR_KEYS:
        if key in chosen[0]:
            if isinstance(chosen[0][key], list):  # one label per token (NER): pad with -100, ignored by the loss
                batch[key] = torch.tensor([f[key] + [-100] * (longest - len(f[key])) for f in chosen])
            else:
                batch[key] = torch.tensor([f[key] for f in chosen])
    return batch
