"""``python train.py --base_config klue/nsmc_bert [--section.key value ...]``: fine-tune a BaseConfig."""

from claf.commands.common import run_experiment


def main(argv: list[str] | None = None) -> int:
    return run_experiment("train", argv, "train.py", kind="finetune")
