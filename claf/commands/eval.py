"""``python -m claf eval <run dir or checkpoint> [--key value ...]``: validation scores as JSON."""

import argparse
import json

from claf.commands.common import guarded, setup_logging


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m claf eval", description="Score a trained run on its validation data.")
    parser.add_argument("checkpoint", help="a run folder (its checkpoints/best is used) or a checkpoint directory")
    args, overrides = parser.parse_known_args(argv)
    setup_logging()

    def run() -> int:
        from claf.config.overrides import split_argv
        from claf.experiment import Experiment

        scores = Experiment("eval", args.checkpoint, overrides=split_argv(overrides) if overrides else None)()
        print(json.dumps(scores, indent=2, ensure_ascii=False))
        return 0

    return guarded(run)
