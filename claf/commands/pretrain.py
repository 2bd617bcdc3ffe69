"""``python pretrain.py --base_config pretrain/larva_kor_tiny [--key value ...]``: run a LaRva recipe.

python -m claf pretrain --base_config pretrain/larva_kor_tiny --help      # every key and its value
python pretrain.py --base_config pretrain/larva_kor_tiny --factory factory/larva_kor_tiny_klue
    # every published checkpoint queues its fine-tuning jobs (run them with `claf factory run/watch`)
"""

from claf.commands.args import config_spec
from claf.commands.common import run_experiment

PROG = "pretrain.py"
SPECS = {"": config_spec(PROG, "Run a LaRva pre-training recipe.")}


def publish_hook(config):
    """The factory's hook when the recipe names one (``--factory factory/...``), else None."""
    if not config.get("factory"):
        return None
    from claf.factory.factory import publish_hook as factory_hook

    return factory_hook(str(config.factory))


def main(argv: list[str] | None = None) -> int:
    return run_experiment("pretrain", argv, PROG, kind="pretrain", on_publish=publish_hook)
