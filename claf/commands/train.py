"""``python train.py --base_config klue/nsmc_bert [--section.key value ...]``: fine-tune a BaseConfig."""

from claf.commands.args import config_spec
from claf.commands.common import run_experiment

PROG = "train.py"
SPECS = {"": config_spec(PROG, "Fine-tune a BaseConfig.")}


def main(argv: list[str] | None = None) -> int:
    return run_experiment("train", argv, PROG, kind="finetune")
