"""Replicas of a pre-trained model, and the ``replicas`` option of the table and series reads.

A model pre-trained with several seeds is stored as one model per seed, named ``<model>-s<seed>``
(``larva-kor-tiny-s43``); the name without the suffix is the model's *family*. Reads combine a family's
replicas into one row or line (``replicas=combined``, the default) or show each (``replicas=each``).
"""

import re

from claf.results.store import BadParameter

COMBINED, EACH = "combined", "each"
_REPLICA = re.compile(r"^(?P<model>.+)-s(?P<seed>\d+)$")


def replica_of(model_name: str, base: str) -> str | None:
    """The replica label of ``model_name`` when it is ``base`` or ``base-s<seed>``, else None."""
    if model_name == base:
        return base
    m = _REPLICA.match(model_name)
    return model_name if m and m.group("model") == base else None


def family_of(model_name: str) -> str:
    """``larva-kor-tiny-s43`` -> ``larva-kor-tiny``; a name without a seed suffix is its own family."""
    m = _REPLICA.match(model_name)
    return m.group("model") if m else model_name


def check_replicas(value: str) -> str:
    """The ``replicas`` option: ``combined`` or ``each``; anything else is one line naming the option."""
    if value not in (COMBINED, EACH):
        raise BadParameter(
            f"replicas must be '{COMBINED}' (one row per model) or '{EACH}' (one per replica), got '{value}'"
        )
    return value


def row_key(model_name: str, replicas: str) -> str:
    """The row (or line) a model's results go to: its family when combined, itself otherwise."""
    return family_of(model_name) if replicas == COMBINED else model_name
