"""Replicas of a pre-trained model, and the ``replicas`` option of the table and series reads.

A model pre-trained with several seeds is stored as one model per seed, named ``<model>-s<seed>``
(``larva-kor-tiny-s43``). Each model row carries its *family* (the recipe's name, ``larva-kor-tiny``) and
its ``pretrain_seed`` (columns of ``models``): given by the checkpoint's payload (a pre-training run
folder's payload says them, ``replica_fields``), else read from such a name. Reads combine a family's replicas into one row
or line (``replicas=combined``, the default) or show each (``replicas=each``).
"""

from claf.hub.index import REPLICA_NAME as _REPLICA
from claf.hub.index import identity, replica_fields  # noqa: F401  (re-exported)

COMBINED, EACH = "combined", "each"


def replica_of(model_name: str, base: str, known: dict[str, str] | None = None) -> str | None:
    """The replica label of ``model_name`` when it is ``base`` or one of ``base``'s replicas (its family is
    ``base``: from ``known``, else from a ``base-s<seed>`` name), else None."""
    if model_name == base:
        return base
    if known and model_name in known:
        return model_name if known[model_name] == base else None
    m = _REPLICA.match(model_name)
    return model_name if m and m.group("model") == base else None


def family_of(model_name: str) -> str:
    """``larva-kor-tiny-s43`` -> ``larva-kor-tiny``; a name without a seed suffix is its own family."""
    m = _REPLICA.match(model_name)
    return m.group("model") if m else model_name


def families(session) -> dict[str, str]:
    """Model name -> its family, from the ``models`` table (a row from before the column: from its name)."""
    from sqlalchemy import select

    from claf.db.tables import Model

    rows = session.execute(select(Model.name, Model.family)).all()
    return {name: family or family_of(name) for name, family in rows}


def check_replicas(value: str) -> str:
    """The ``replicas`` option: ``combined`` or ``each``; anything else is one line naming the option."""
    from claf.results.store import BadParameter

    if value not in (COMBINED, EACH):
        raise BadParameter(
            f"replicas must be '{COMBINED}' (one row per model) or '{EACH}' (one per replica), got '{value}'"
        )
    return value


def row_key(model_name: str, replicas: str, known: dict[str, str] | None = None) -> str:
    """The row (or line) a model's results go to: its family (``known``: from ``families``) when combined,
    itself otherwise."""
    if replicas != COMBINED:
        return model_name
    return (known or {}).get(model_name) or family_of(model_name)
