"""A seeded train/validation cut of one file's rows (``split: {"seed": 42, "valid_share": 0.3}``).

Each row goes by the sha256 of ``<seed>:<row id>``: the ``round(valid_share * n)`` rows with the smallest
hashes are validation, the rest train, each kept in file order. The cut depends only on the seed and the
rows' ids, so it is the same on every machine and does not move when the file's rows are reordered.

With ``group_by`` (an example field, e.g. ``text``) the hash is of ``<seed>:<that field's value>`` and rows
sharing a value go to the same side: groups are taken in hash order until at least ``round(valid_share * n)``
rows are held out. NLI files that pair one premise with a hypothesis per label need this: cut row by row,
the train side teaches each held-out premise's other labels.
"""

import hashlib


def _rank(seed: int, key: str) -> bytes:
    return hashlib.sha256(f"{seed}:{key}".encode()).digest()


def split_rows(
    examples: list[dict], seed: int, valid_share: float, group_by: str | None = None
) -> tuple[list[dict], list[dict]]:
    """(train, valid) rows of ``examples``; ids must be unique (a row's id, or its line number)."""
    ids = [str(e["id"]) for e in examples]
    if len(set(ids)) != len(ids):
        raise ValueError("split: row ids are not unique; set the reader's id_column to a unique column")
    want = round(valid_share * len(examples))
    if group_by is None:
        ranked = sorted(range(len(examples)), key=lambda i: _rank(seed, ids[i]))
        held = set(ranked[:want])
    else:
        groups: dict[str, list[int]] = {}
        for i, e in enumerate(examples):
            groups.setdefault(str(e.get(group_by) or ""), []).append(i)
        held = set()
        for key in sorted(groups, key=lambda k: _rank(seed, k)):
            if len(held) >= want:
                break
            held.update(groups[key])
    train = [e for i, e in enumerate(examples) if i not in held]
    valid = [e for i, e in enumerate(examples) if i in held]
    return train, valid
