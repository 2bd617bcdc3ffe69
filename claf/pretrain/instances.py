"""Instances assembled on the fly from a plan and the shards (nothing is ever stored).

``build_instances(plan, indices, keys, specials)`` returns a padded numpy batch:
input_ids, token_type_ids, attention_mask, word_starts (token starts a whitespace unit),
special (never masked: [CLS]/[SEP]/[PAD]/[UNK]...), and for sentence pairs
next_sentence_label (0: B follows A in the document, 1: B is from another document: the same
sentence slice of another chunk, so that only its content tells it apart).
With ``plan.copy_share`` s > 0, a share s of the pair instances whose chunk has two or more sentences
(one review of a single sentence stays as it is) are copies: B is A again, rotated by a random offset and
labelled 0 like a true next, so the model must find each token's partner by content,
not by position: the cross-segment matching that similarity and paraphrase tasks score.
With ``plan.copy_noise`` c > 0 as well, each copy draws a share f uniform in [0, c] and each of its tokens is
replaced, with probability f, by the token at a random position of the shard (the corpus's unigram
distribution). The batch then carries ``next_sentence_target``: the probability of "another document" the
pair head is trained towards, which is the share of B's tokens actually replaced for a copy and the hard label
otherwise. A graded copy asks how much of B the model finds in A, not only whether it does.
With ``plan.copy_splice`` as well, a copy is not rotated, and its replaced tokens are one span (a share f of
B's length, at a random start) taken from another document's text at the same positions: B reads as natural
text however much of it was replaced, so only comparing it with A tells the share. Spliced copies come
from any chunk, a lone sentence included (B is then the whole sentence again): in a corpus of one-sentence
reviews, copies limited to chunks of two or more sentences are few (7.6% of the tiny recipe's instances).
The random choices of a sentence pair (split point, random next) come from the instance's
key, so they are the same every time that (seed, epoch, index) is built.
Everything is vectorised per shard: a batch is a few numpy gathers, not a loop over instances.
"""

import numpy as np

from claf.pretrain import rng

NSP_STREAM, SPLIT_STREAM, PICK_STREAM, COPY_STREAM, ROTATE_STREAM = 11, 12, 13, 14, 15
NOISE_STREAM, REPLACE_STREAM, FILLER_STREAM = 16, 17, 18
RANDOM_NEXT_TRIES = 10


class Specials:
    """The ids an instance needs from its tokenizer."""

    def __init__(self, tokenizer):
        self.cls, self.sep, self.pad = tokenizer.cls_token_id, tokenizer.sep_token_id, tokenizer.pad_token_id
        self.mask = tokenizer.mask_token_id
        self.vocab_size = len(tokenizer)
        self.all = np.array(sorted(set(tokenizer.all_special_ids)), dtype=np.int64)


def build_instances(plan, indices, keys, specials):
    indices = np.asarray(indices, dtype=np.int64)
    keys = np.asarray(keys, dtype=np.uint64)
    pair = plan.format == "sentence_pair"
    layout = _pair_layout if pair else _full_sentence_layout
    groups = []
    for shard_id in np.unique(plan.shard[indices]):
        rows = np.flatnonzero(plan.shard[indices] == shard_id)
        groups.append((rows, plan.corpus.shards[shard_id], layout(plan, shard_id, indices[rows], keys[rows])))
    lengths = np.zeros(len(indices), dtype=np.int64)
    for rows, _shard, parts in groups:
        lengths[rows] = parts["length"]
    size, width = len(indices), int(lengths.max())
    input_ids = np.full((size, width), specials.pad, dtype=np.int64)
    word_starts = np.ones((size, width), dtype=bool)
    token_type_ids = np.zeros((size, width), dtype=np.int64)
    nsp = np.zeros(size, dtype=np.int64)
    graded = pair and plan.copy_noise > 0
    target = np.zeros(size, dtype=np.float32)
    for rows, shard, parts in groups:
        owner, columns, positions = parts["tokens"]  # each token: shard position -> (row, column)
        input_ids[rows[owner], columns] = shard.tokens[positions]
        word_starts[rows[owner], columns] = _bits(shard, positions)
        owner, columns = parts["separators"]
        input_ids[rows[owner], columns] = specials.sep
        input_ids[rows, 0] = specials.cls
        if pair:
            second = np.arange(width)[None, :] >= parts["type_from"][:, None]
            token_type_ids[rows] = second & (np.arange(width)[None, :] < parts["length"][:, None])
            nsp[rows] = parts["label"]
            if graded:
                target[rows] = parts["target"]
    attention_mask = (np.arange(width)[None, :] < lengths[:, None]).astype(np.int64)
    batch = {
        "input_ids": input_ids,
        "token_type_ids": token_type_ids,
        "attention_mask": attention_mask,
        "word_starts": word_starts,
        "special": np.isin(input_ids, specials.all) | (attention_mask == 0),
    }
    if pair:
        batch["next_sentence_label"] = nsp
    if graded:
        batch["next_sentence_target"] = target
    return batch


def instance_lengths(plan, indices, keys):
    """The length (special tokens included) of each instance ``build_instances`` would build, without
    assembling any tokens: what length-grouped batching sorts by."""
    indices = np.asarray(indices, dtype=np.int64)
    keys = np.asarray(keys, dtype=np.uint64)
    lengths = np.zeros(len(indices), dtype=np.int64)
    for shard_id in np.unique(plan.shard[indices]):
        rows = np.flatnonzero(plan.shard[indices] == shard_id)
        if plan.format == "sentence_pair":
            _a0, la, _b0, lb, *_ = _pair_segments(plan, shard_id, indices[rows], keys[rows])
            lengths[rows] = la + lb + 3
        else:
            lengths[rows] = _full_sentence_length(plan, shard_id, indices[rows])
    return lengths


def _ragged(starts, counts):
    """Flattened ranges [start, start + count): (positions, owner row, offset within the range)."""
    owner = np.repeat(np.arange(len(counts)), counts)
    offset = np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts)
    return starts[owner] + offset, owner, offset


def _bits(shard, positions):
    return (shard._word_bits[positions >> 3] >> (7 - (positions & 7)).astype(np.uint8)) & 1 == 1


def _full_sentence_layout(plan, shard_id, indices, keys):
    """[CLS] consecutive sentences ([SEP] where the document changes) [SEP]."""
    shard = plan.corpus.shards[shard_id]
    first, last = plan.first[indices], plan.last[indices]
    count = last - first
    doc_starts = shard.doc_token_starts
    before_first = np.searchsorted(doc_starts, first, "right")
    positions, owner, offset = _ragged(first, count)
    at_or_before = np.searchsorted(doc_starts, positions, "right")
    columns = 1 + offset + at_or_before - before_first[owner]
    opens = (offset > 0) & (doc_starts[at_or_before - 1] == positions)  # a document starts inside the span
    length = _full_sentence_length(plan, shard_id, indices)
    separators = (
        np.concatenate([owner[opens], np.arange(len(indices))]),
        np.concatenate([columns[opens] - 1, length - 1]),
    )
    return {"length": length, "tokens": (owner, columns, positions), "separators": separators}


def _full_sentence_length(plan, shard_id, indices):
    """Tokens of a full-sentence instance: its span, a [SEP] per document change inside it, [CLS] and [SEP]."""
    doc_starts = plan.corpus.shards[shard_id].doc_token_starts
    first, last = plan.first[indices], plan.last[indices]
    changes = np.searchsorted(doc_starts, last - 1, "right") - np.searchsorted(doc_starts, first, "right")
    return last - first + changes + 2


def _pair_segments(plan, shard_id, indices, keys):
    """Where segments A and B of each pair instance lie in the shard: (a0, la, b0, lb, is_random, is_copy,
    o0), o0 the start of another document's slice (a random next's, also drawn for a copy's filler)."""
    shard = plan.corpus.shards[shard_id]
    first, last = plan.first[indices], plan.last[indices]
    n = last - first
    split = np.where(n >= 2, first + 1 + (rng.uniform(keys, 0, SPLIT_STREAM) * (n - 1)).astype(np.int64), last)
    want_random = (n < 2) | (rng.uniform(keys, 0, NSP_STREAM) >= 0.5)
    lo, size = plan.shard_offsets[shard_id], plan.shard_sizes[shard_id]
    picks = lo + rng.integers(keys[:, None], np.arange(RANDOM_NEXT_TRIES)[None, :], PICK_STREAM, size)
    other_doc = plan.doc[picks] != plan.doc[indices][:, None]
    found = other_doc.any(axis=1)
    other = picks[np.arange(len(indices)), other_doc.argmax(axis=1)]
    # No other document within the tries: a true next when the chunk can be split, else itself.
    is_random = want_random & (found | (n < 2))
    other = np.where(found, other, indices)
    # The random next is the same slice of the other chunk as the true next would be (same position,
    # same sentence count, where the other chunk has room): a whole chunk would give itself away by its
    # length (a premise + hypothesis against a lone hypothesis), not by what it says.
    count = np.maximum(last - split, 1)
    o_first, o_last = plan.first[other], plan.last[other]
    o_start = o_first + np.minimum(split - first, np.maximum(o_last - o_first - count, 0))
    o_end = np.minimum(o_start + count, o_last)
    sentences = np.asarray(shard.sentences, dtype=np.int64)
    a0, a1 = sentences[first], sentences[split]
    b0 = np.where(is_random, sentences[o_start], sentences[split])
    b1 = np.where(is_random, sentences[o_end], sentences[last])
    is_copy = np.zeros(len(indices), dtype=bool)
    if plan.copy_share:  # from chunks a true next could split; spliced copies from any chunk
        is_copy = ((n >= 2) | plan.copy_splice) & (rng.uniform(keys, 0, COPY_STREAM) < plan.copy_share)
    b0, b1, is_random = np.where(is_copy, a0, b0), np.where(is_copy, a1, b1), is_random & ~is_copy
    la, lb = _truncate(a1 - a0, b1 - b0, plan.max_seq_length - 3)
    lb = np.where(is_copy, np.minimum(la, lb), lb)  # a copy holds only tokens that A shows
    return a0, la, b0, lb, is_random, is_copy, sentences[o_start]


def _pair_layout(plan, shard_id, indices, keys):
    """[CLS] A [SEP] B [SEP]: B continues A (50%) or is the same slice of another chunk (or a rotated copy)."""
    a0, la, b0, lb, is_random, is_copy, o0 = _pair_segments(plan, shard_id, indices, keys)
    a_pos, a_owner, a_off = _ragged(a0, la)
    b_pos, b_owner, b_off = _ragged(b0, lb)
    if is_copy.any() and not plan.copy_splice:  # B[j] = A[(j + r) mod lb], r uniform in [0, lb)
        shift = (rng.uniform(keys, 0, ROTATE_STREAM) * np.maximum(lb, 1)).astype(np.int64)
        rotated = b0[b_owner] + (b_off + shift[b_owner]) % np.maximum(lb[b_owner], 1)
        b_pos = np.where(is_copy[b_owner], rotated, b_pos)
    target = is_random.astype(np.float32)
    if plan.copy_noise and is_copy.any():  # graded copies: replace a drawn share of B's tokens
        share = rng.uniform(keys, 0, NOISE_STREAM) * plan.copy_noise
        key = keys[b_owner]
        if plan.copy_splice:  # one span of round(share * lb) tokens, from another document's same positions
            span = np.rint(share * lb).astype(np.int64)
            start = (rng.uniform(keys, 0, REPLACE_STREAM) * (lb - span + 1)).astype(np.int64)
            inside = (b_off >= start[b_owner]) & (b_off < start[b_owner] + span[b_owner])
            replace = is_copy[b_owner] & inside
            shard_end = len(plan.corpus.shards[shard_id].tokens) - 1
            filler = np.minimum(o0[b_owner] + b_off, shard_end)
        else:
            replace = is_copy[b_owner] & (rng.uniform(key, b_off, REPLACE_STREAM) < share[b_owner])
            filler = rng.integers(key, b_off, FILLER_STREAM, len(plan.corpus.shards[shard_id].tokens))
        b_pos = np.where(replace, filler, b_pos)
        replaced = np.bincount(b_owner, weights=replace, minlength=len(indices))
        target = np.where(is_copy, replaced / np.maximum(lb, 1), target).astype(np.float32)
    rows = np.arange(len(indices))
    tokens = (
        np.concatenate([a_owner, b_owner]),
        np.concatenate([1 + a_off, 2 + la[b_owner] + b_off]),
        np.concatenate([a_pos, b_pos]),
    )
    separators = (np.concatenate([rows, rows]), np.concatenate([1 + la, 2 + la + lb]))
    return {
        "length": la + lb + 3,
        "tokens": tokens,
        "separators": separators,
        "type_from": la + 2,
        "label": is_random.astype(np.int64),
        "target": target,
    }


def _truncate(la, lb, budget):
    """Segment lengths after trimming the longer one (from its end) until both fit in ``budget``."""
    excess = np.maximum(la + lb - budget, 0)
    cut = np.minimum(excess, np.abs(la - lb))
    a_longer = la >= lb
    la, lb = la - np.where(a_longer, cut, 0), lb - np.where(a_longer, 0, cut)
    excess = excess - cut
    return np.maximum(la - (excess + 1) // 2, 0), np.maximum(lb - excess // 2, 0)
