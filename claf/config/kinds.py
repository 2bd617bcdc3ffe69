"""The one table of recipe kinds: which top-level blocks each kind of BaseConfig must have.

A BaseConfig's kind is known from the command that runs it (train.py -> finetune,
pretrain.py -> pretrain, ``claf vocab build`` -> vocab, ``claf factory`` -> factory).
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class RecipeKind:
    name: str
    required: tuple  # top-level blocks a recipe of this kind must have
    family: str  # the base_config/ folder its shipped recipes live in ("" = any other)


RECIPE_KINDS = {
    "finetune": RecipeKind("finetune", ("data_reader", "model", "trainer"), ""),
    "pretrain": RecipeKind(
        "pretrain",
        (
            "name",
            "corpus",
            "tokenizer",
            "instances",
            "masking",
            "schedule",
            "model",
            "trainer",
            "checkpoint",
            "optimizer",
        ),
        "pretrain/",
    ),
    "vocab": RecipeKind("vocab", ("corpus", "normalization", "vocab"), "vocab/"),
    "factory": RecipeKind("factory", ("checkpoints", "suite", "benchmark", "executor"), "factory/"),
}


def recipe_kind(name: str) -> RecipeKind:
    try:
        return RECIPE_KINDS[name]
    except KeyError:
        raise ValueError(f"unknown recipe kind '{name}'; one of {', '.join(RECIPE_KINDS)}") from None


def names_of_kind(kind: str, names: list[str]) -> list[str]:
    """The BaseConfig names that belong to ``kind`` (fine-tuning: those outside the other families)."""
    k = recipe_kind(kind)
    if k.family:
        return [n for n in names if n.startswith(k.family)]
    others = tuple(r.family for r in RECIPE_KINDS.values() if r.family)
    return [n for n in names if not n.startswith(others)]


# transformers model types whose position ids start at pad_token_id + 1 (RoBERTa's embeddings), so a table of
# max_position_embeddings rows holds pad_token_id + 1 fewer usable positions
OFFSET_POSITION_TYPES = ("roberta", "roberta-prelayernorm", "xlm-roberta", "camembert")
