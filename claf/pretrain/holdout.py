"""``evaluation.holdout_documents``: which documents of a prepared corpus are set apart for the held-out loss.

``holdout_from: "spread"`` (the default) takes them as blocks of up to ``BLOCK`` consecutive documents: the
corpus (in file order) is cut into as many equal strata as there are blocks, and each stratum gives one
block at a drawn position, the same for every pre-training seed of a corpus. So the held-out loss reads
every source in its share of the corpus (within a block), and no source loses its tail to it. ``"tail"`` takes
the last documents of the last shard: the rule before the option, when the held-out loss read only the last
file listed (in the tiny recipes, 2,000 lines of bills).

An instance inside a held-out block is held out; one crossing a block's edge belongs to neither part.
"""

import numpy as np

HOLDOUT_FROM = ("spread", "tail")
BLOCK = 50  # documents per held-out block
DRAW_SEED = 20261207  # fixed: every seed of a recipe holds out the same documents


def held_documents(corpus, holdout_documents: int, holdout_from: str = "spread") -> list[list[tuple[int, int]]]:
    """Per shard, the sorted [first, end) document ranges held out."""
    shards = corpus.shards
    ranges: list[list[tuple[int, int]]] = [[] for _ in shards]
    wanted = max(int(holdout_documents or 0), 0)
    if not wanted or not shards:
        return ranges
    if holdout_from == "tail":
        last = shards[-1].num_documents
        ranges[-1].append((last - min(wanted, last), last))
        return ranges
    if holdout_from not in HOLDOUT_FROM:
        raise ValueError(f"evaluation.holdout_from '{holdout_from}' is not one of {', '.join(HOLDOUT_FROM)}")
    total = sum(s.num_documents for s in shards)
    if wanted >= total:
        return [[(0, shard.num_documents)] if shard.num_documents else [] for shard in shards]
    blocks = -(-wanted // BLOCK)
    size = max(1, min(BLOCK, total // blocks))
    while True:  # blocks never cross a shard: small shards get smaller blocks
        slots = [(s, k * size) for s, shard in enumerate(shards) for k in range(shard.num_documents // size)]
        if len(slots) * size >= wanted or size == 1:
            break
        size = max(1, size // 2)
    count = -(-wanted // size)  # one block in each of ``count`` equal strata of the corpus, at a drawn slot
    edges = np.linspace(0, len(slots), count + 1).astype(np.int64)
    draw = np.random.default_rng(DRAW_SEED)
    chosen = np.array([draw.integers(a, b) for a, b in zip(edges[:-1], edges[1:])], dtype=np.int64)
    left = wanted
    for i in sorted(chosen.tolist()):
        s, first = slots[i]
        take = min(size, left)
        ranges[s].append((first, first + take))
        left -= take
    return ranges


def held_tokens(shard, documents: list[tuple[int, int]]) -> tuple[np.ndarray, np.ndarray]:
    """(starts, ends): the token spans of one shard's held-out document ranges, sorted."""
    offsets = shard.doc_token_starts
    starts = np.asarray([offsets[a] for a, _b in documents], dtype=np.int64)
    ends = np.asarray([offsets[b] for _a, b in documents], dtype=np.int64)
    return starts, ends


def inside(first: np.ndarray, last: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Whether each token span [first, last) lies inside one of the spans [starts, ends)."""
    if not len(starts):
        return np.zeros(len(first), dtype=bool)
    j = np.searchsorted(starts, first, side="right") - 1  # the last span starting at or before ``first``
    ok = j >= 0
    return ok & (last <= ends[np.where(ok, j, 0)])


def overlaps(first: np.ndarray, last: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Whether each token span [first, last) shares a token with one of the spans [starts, ends)."""
    if not len(starts):
        return np.zeros(len(first), dtype=bool)
    j = np.searchsorted(starts, last, side="left") - 1  # the last span starting before ``last``
    ok = j >= 0
    return ok & (ends[np.where(ok, j, 0)] > first)


def token_mask(shard, documents: list[tuple[int, int]]) -> np.ndarray:
    """Bool per token of ``shard``: True where it belongs to a held-out document."""
    mask = np.zeros(shard.num_tokens, dtype=bool)
    for a, b in zip(*held_tokens(shard, documents)):
        mask[a:b] = True
    return mask


def check_resume(run_folder, evaluation) -> None:
    """Refuse to resume a run under another held-out rule than it started with (that changes its training
    data mid-run). A run folder written before ``holdout_from`` existed used ``tail``."""
    import json
    from pathlib import Path

    from claf.config.errors import ConfigError

    path = Path(run_folder) / "config.json"
    if not evaluation.holdout_documents or not path.is_file():
        return
    saved = json.loads(path.read_text(encoding="utf-8")).get("evaluation") or {}
    if not saved.get("holdout_documents"):
        return
    started = saved.get("holdout_from", "tail")
    if started != evaluation.holdout_from:
        raise ConfigError(
            f"{path}: this run held out its documents with holdout_from '{started}'; resume it with "
            f"--evaluation.holdout_from {started} (another rule would change its training data mid-run)"
        )
