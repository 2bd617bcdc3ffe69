"""``python pretrain.py --base_config pretrain/larva_kor_tiny [--key value ...]``: run a LaRva recipe.

    python -m claf pretrain --base_config pretrain/larva_kor_tiny --help      # every key and its value
"""

from claf.commands.common import run_experiment


def main(argv: list[str] | None = None) -> int:
    return run_experiment("pretrain", argv, "pretrain.py", kind="pretrain")
