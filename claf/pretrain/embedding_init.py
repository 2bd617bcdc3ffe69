"""Word embeddings that start from the corpus's co-occurrence statistics (``model.embedding_init``).

A tiny model on a CPU budget spends most of its steps learning which tokens resemble each other; a
count-based method learns that from the same prepared corpus in seconds. ``ppmi_svd``:

1. count the token pairs at most ``window`` tokens apart within a sentence (held-out documents excluded,
   so the held-out MLM loss stays honest), symmetrically;
2. weight them by positive pointwise mutual information, with the context counts raised to 0.75
   (Levy, Goldberg and Dagan 2015) so rare contexts do not dominate;
3. take a rank-``d`` truncated SVD (``d`` = the embedding width), rows ``U * sqrt(S)``, centred and scaled
   to the model's ``initializer_range``.

Tokens the corpus never holds (special tokens among them) keep their random rows. The vectors are kept in
the prepared corpus folder (``embedding-init/``), written atomically, so replicas and resumed runs reuse them.
"""

import logging
import time
from pathlib import Path

import numpy as np

from claf.atomic import atomic_file

logger = logging.getLogger(__name__)

METHODS = ("ppmi_svd",)
CONTEXT_POWER = 0.75


def pair_counts(corpus, vocab_size, window, holdout_documents=0, max_tokens=None, holdout_from="spread"):
    """Symmetric co-occurrence counts as (codes, counts): code = a * vocab_size + b, sorted, unique.

    The held-out documents (``claf.pretrain.holdout``) are not counted; ``max_tokens`` caps the tokens read."""
    from claf.pretrain.holdout import held_documents, token_mask

    held = held_documents(corpus, holdout_documents, holdout_from)
    codes_all, counts_all, used = [], [], 0
    for s, shard in enumerate(corpus.shards):
        end = shard.num_tokens
        if max_tokens is not None:
            end = min(end, max_tokens - used)
        if end <= 1:
            break
        used += end
        ids = np.asarray(shard.tokens[:end], dtype=np.int64)
        sentence = np.repeat(np.arange(shard.num_sentences), shard.sentence_lengths())[:end]
        if held[s]:
            keep = ~token_mask(shard, held[s])[:end]  # a held-out sentence's tokens are dropped whole
            ids, sentence = ids[keep], sentence[keep]
        parts = []
        for k in range(1, window + 1):
            same = sentence[:-k] == sentence[k:]
            a, b = ids[:-k][same], ids[k:][same]
            parts += [a * vocab_size + b, b * vocab_size + a]
        codes, counts = np.unique(np.concatenate(parts), return_counts=True)
        codes_all.append(codes)
        counts_all.append(counts)
    if not codes_all:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    codes = np.concatenate(codes_all)
    counts = np.concatenate(counts_all)
    order = np.argsort(codes, kind="stable")
    codes, counts = codes[order], counts[order]
    starts = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]])
    return codes[starts], np.add.reduceat(counts, starts)


def ppmi_svd(codes, counts, vocab_size, dim, seed=0):
    """Rows ``U * sqrt(S)`` of the PPMI matrix's rank-``dim`` SVD, and the mask of tokens seen."""
    import torch

    rows, cols = codes // vocab_size, codes % vocab_size
    counts = counts.astype(np.float64)
    row_sum = np.bincount(rows, weights=counts, minlength=vocab_size)
    context = row_sum**CONTEXT_POWER
    context /= context.sum()
    # log P(a, b) / (P(a) P_0.75(b)) = log(count / row_sum[a]) - log P_0.75(b): the totals cancel
    pmi = np.log(counts) - np.log(row_sum[rows]) - np.log(context[cols])
    keep = pmi > 0
    matrix = torch.sparse_coo_tensor(
        torch.from_numpy(np.stack([rows[keep], cols[keep]])),
        torch.from_numpy(pmi[keep].astype(np.float32)),
        (vocab_size, vocab_size),
        check_invariants=True,
    ).coalesce()
    generator_state = torch.random.get_rng_state()
    torch.manual_seed(seed)  # svd_lowrank draws a random projection: the same corpus gives the same vectors
    try:
        u, s, _ = torch.svd_lowrank(matrix, q=dim, niter=4)
    finally:
        torch.random.set_rng_state(generator_state)
    vectors = (u * s.sqrt()).numpy().astype(np.float32)
    return vectors, row_sum > 0


def corpus_vectors(corpus, vocab_size, dim, window, holdout_documents=0, max_tokens=None, holdout_from="spread"):
    """The vectors for this corpus (computed once, then read from ``<corpus>/embedding-init/``)."""
    limit = "all" if max_tokens is None else str(max_tokens)
    held = f"h{holdout_documents}" + ("" if holdout_from == "tail" or not holdout_documents else f"-{holdout_from}")
    path = Path(corpus.folder) / "embedding-init" / f"ppmi_svd-w{window}-d{dim}-{held}-t{limit}.npz"
    if path.is_file():
        with np.load(path) as saved:
            return saved["vectors"], saved["seen"], 0.0
    start = time.perf_counter()
    codes, counts = pair_counts(corpus, vocab_size, window, holdout_documents, max_tokens, holdout_from)
    if not len(codes):
        raise ValueError(f"{corpus.folder}: no token pairs to count for model.embedding_init")
    vectors, seen = ppmi_svd(codes, counts, vocab_size, dim)
    seconds = time.perf_counter() - start
    with atomic_file(path) as f:
        np.savez(f, vectors=vectors, seen=seen)
    logger.info("embedding init: PPMI-SVD of %d token pairs, %d tokens seen, in %.1fs", len(codes), seen.sum(), seconds)
    return vectors, seen, seconds


def apply_vectors(embedding, vectors, seen, std):
    """Write the centred vectors, scaled to ``std``, into the rows of the tokens seen."""
    import torch

    if embedding.weight.shape[1] != vectors.shape[1] or embedding.weight.shape[0] < vectors.shape[0]:
        raise ValueError(f"embedding {tuple(embedding.weight.shape)} does not fit vectors {vectors.shape}")
    mask = torch.from_numpy(seen)
    chosen = torch.from_numpy(vectors)[mask]
    chosen = chosen - chosen.mean(0)
    chosen = chosen / chosen.std().clamp_min(1e-12) * std
    with torch.no_grad():
        embedding.weight[: len(seen)][mask] = chosen.to(embedding.weight.dtype)


def init_embeddings(model, corpus, spec, holdout_documents=0, holdout_from="spread"):
    """Apply ``model.embedding_init`` to every input embedding of the pre-training module; seconds spent."""
    nets = [model.net] + [g for g in [getattr(model, "generator", None)] if g is not None]
    tables = {id(n.get_input_embeddings()): (n, n.get_input_embeddings()) for n in nets}
    seconds = 0.0
    for net, table in tables.values():
        rows, width = table.weight.shape
        vectors, seen, spent = corpus_vectors(
            corpus, rows, width, spec.window, holdout_documents, spec.max_tokens, holdout_from
        )
        seconds += spent
        apply_vectors(table, vectors, seen, float(getattr(net.config, "initializer_range", 0.02)))
    return seconds
