"""A seeded train/validation cut of one file's rows (``split: {"seed": 42, "valid_share": 0.3}``).

Each row goes by the sha256 of ``<seed>:<row id>``: the ``round(valid_share * n)`` rows with the smallest
hashes are validation, the rest train, each kept in file order. The cut depends only on the seed and the
rows' ids, so it is the same on every machine and does not move when the file's rows are reordered.
"""

import hashlib


def split_rows(examples: list[dict], seed: int, valid_share: float) -> tuple[list[dict], list[dict]]:
    """(train, valid) rows of ``examples``; ids must be unique (a row's id, or its line number)."""
    ids = [str(e["id"]) for e in examples]
    if len(set(ids)) != len(ids):
        raise ValueError("split: row ids are not unique; set the reader's id_column to a unique column")
    ranked = sorted(range(len(examples)), key=lambda i: hashlib.sha256(f"{seed}:{ids[i]}".encode()).digest())
    held = set(ranked[: round(valid_share * len(examples))])
    train = [e for i, e in enumerate(examples) if i not in held]
    valid = [e for i, e in enumerate(examples) if i in held]
    return train, valid
