"""``python -m claf list``: every registered component and every named BaseConfig by kind."""

from claf.commands.args import Spec, parse
from claf.config import list_base_configs
from claf.config.kinds import RECIPE_KINDS, names_of_kind

SPECS = {"": Spec("python -m claf list", "Every registered component and every named BaseConfig by kind.")}


def main(argv: list[str] | None = None) -> int:
    parse(SPECS[""], argv)
    from claf.registry import ALL

    for kind, registry in ALL.items():
        print(f"{kind}: {', '.join(registry.names())}")
    names = list_base_configs()
    for kind in RECIPE_KINDS:
        print(f"base_config ({kind}): {', '.join(names_of_kind(kind, names)) or '-'}")
    return 0
