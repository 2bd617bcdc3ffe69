"""Instance plans: which stretch of which shard each instance covers, for one max_seq_length.

A plan holds only integer spans (never token ids): instances are assembled from the shards
when a batch needs them. Plans are cheap to recompute, so the sequence length (and the
instance format) can change from one run, or one step, to the next without re-preparing.

    full_sentence  RoBERTa FULL-SENTENCES: consecutive sentences, crossing documents, packed up
                   to max_seq_length - 2 tokens (a [SEP] where the document changes counts too);
                   a sentence longer than that is cut into pieces.
    sentence_pair  BERT: chunks of consecutive sentences of one document up to max_seq_length - 3
                   tokens; the chunk is split into segments A/B when the batch is built.
"""

import numpy as np

from claf.config.errors import ConfigError
from claf.errors import UserError
from claf.pretrain.holdout import held_documents, held_tokens, inside, overlaps

FORMATS = ("full_sentence", "sentence_pair")
ORDERS = ("shards", "global")  # instances.order: shard by shard (memory-local), or one permutation of all


class Plan:
    """Instances of a corpus for one (format, max_seq_length): global index -> (shard, first, last, doc).

    ``holdout_documents`` > 0 sets documents apart (``holdout_from``, see ``claf.pretrain.holdout``):
    ``part="train"`` leaves their instances out, ``part="valid"`` keeps only those (an instance crossing
    a boundary belongs to neither).
    """

    def __init__(
        self,
        corpus,
        instance_format,
        max_seq_length,
        holdout_documents=0,
        part="train",
        order="shards",
        copy_share=0.0,
        copy_noise=0.0,
        copy_splice=False,
        holdout_from="spread",
    ):
        # format, order, copy_share and copy_noise were checked when the spec was built (claf.config.specs.pretrain)
        self.order = order
        self.copy_share, self.copy_noise, self.copy_splice = float(copy_share), float(copy_noise), bool(copy_splice)
        reserved = 2 if instance_format == "full_sentence" else 3
        if max_seq_length < reserved + 2:
            raise ConfigError(f"max_seq_length {max_seq_length} is too small for {instance_format} instances")
        self.corpus, self.format, self.max_seq_length = corpus, instance_format, int(max_seq_length)
        make = _full_sentence_spans if instance_format == "full_sentence" else _sentence_pair_chunks
        parts = [make(shard, max_seq_length - reserved) for shard in corpus.shards]
        if holdout_documents or part != "train":
            held = held_documents(corpus, int(holdout_documents), holdout_from)
            parts = _split_off(corpus.shards, parts, held, part, instance_format)
        self.shard_sizes = np.array([len(p[0]) for p in parts], dtype=np.int64)
        self.shard_offsets = np.concatenate([[0], np.cumsum(self.shard_sizes)])
        self.shard = np.repeat(np.arange(len(parts)), self.shard_sizes)
        self.first = np.concatenate([p[0] for p in parts]).astype(np.int64)
        self.last = np.concatenate([p[1] for p in parts]).astype(np.int64)
        self.doc = np.concatenate([p[2] for p in parts]).astype(np.int64)
        if len(self.first) == 0:
            if holdout_documents and part == "train":
                raise UserError(
                    f"evaluation.holdout_documents {holdout_documents} leaves no training instances in the "
                    f"prepared corpus; hold out fewer documents"
                )
            raise UserError("the prepared corpus yields no instances")
        self._order_cache = (None, None)

    def __len__(self):
        return len(self.first)

    def epoch_order(self, seed, epoch):
        """The epoch's instance order. ``shards``: shards shuffled, then instances within each shard
        (memory-local: a batch reads one shard). ``global``: one permutation of every instance, so sources
        prepared into separate shards (a task's repeated pairs, the main corpus) mix in every batch."""
        if self._order_cache[0] == (seed, epoch):
            return self._order_cache[1]
        rng = np.random.default_rng([seed, epoch, self.max_seq_length, 0 if self.format == "full_sentence" else 1])
        if self.order == "global":
            order = rng.permutation(len(self.first))
        else:
            pieces = []
            for s in rng.permutation(len(self.shard_sizes)):
                pieces.append(self.shard_offsets[s] + rng.permutation(self.shard_sizes[s]))
            order = np.concatenate(pieces)
        self._order_cache = ((seed, epoch), order)
        return order


def _split_off(shards, parts, held, part, instance_format):
    """Keep the training or the held-out instances of each shard (``held``: per shard, document ranges)."""
    kept = []
    for s, (first, last, doc) in enumerate(parts):
        if instance_format == "sentence_pair":
            sentences = np.asarray(shards[s].sentences, dtype=np.int64)
            tok_first, tok_last = sentences[first], sentences[last]
        else:
            tok_first, tok_last = first, last
        starts, ends = held_tokens(shards[s], held[s])
        if part == "train":
            keep = ~overlaps(tok_first, tok_last, starts, ends)
        else:
            keep = inside(tok_first, tok_last, starts, ends)
        kept.append((first[keep], last[keep], doc[keep]))
    return kept


def _full_sentence_spans(shard, budget):
    """Token spans [first, last) of packed instances (doc = -1: several documents may share one)."""
    lengths = shard.sentence_lengths().tolist()
    offsets = np.asarray(shard.sentences, dtype=np.int64).tolist()
    doc_first = np.zeros(len(lengths) + 1, dtype=bool)
    doc_first[np.asarray(shard.documents[:-1], dtype=np.int64)] = True
    doc_first = doc_first.tolist()
    firsts, lasts = [], []
    start, end, used = 0, 0, 0
    for i, n in enumerate(lengths):
        sep = 1 if used and doc_first[i] else 0
        if used and used + sep + n <= budget:
            used += sep + n
            end = offsets[i] + n
            continue
        if used:
            firsts.append(start)
            lasts.append(end)
        begin = offsets[i]
        while n > budget:  # a sentence longer than an instance: cut it into instance-sized pieces
            firsts.append(begin)
            lasts.append(begin + budget)
            begin += budget
            n -= budget
        start, end, used = begin, begin + n, n
    if used:
        firsts.append(start)
        lasts.append(end)
    return np.array(firsts), np.array(lasts), np.full(len(firsts), -1)


def _sentence_pair_chunks(shard, budget):
    """Sentence ranges [first, last) of chunks inside one document, and the document of each."""
    lengths = shard.sentence_lengths().tolist()
    documents = np.asarray(shard.documents, dtype=np.int64).tolist()
    firsts, lasts, docs = [], [], []
    for d in range(len(documents) - 1):
        start, used = documents[d], 0
        for i in range(documents[d], documents[d + 1]):
            if used and used + lengths[i] > budget:
                firsts.append(start)
                lasts.append(i)
                docs.append(d)
                start, used = i, 0
            used += lengths[i]
        firsts.append(start)
        lasts.append(documents[d + 1])
        docs.append(d)
    return np.array(firsts), np.array(lasts), np.array(docs)
