"""``python pretrain.py`` / ``python -m claf pretrain``: a pre-training recipe + overrides -> Experiment.

    python pretrain.py --base_config pretrain/larva_kor_tiny --trainer.max_steps 200
    python -m claf pretrain --base_config pretrain/larva_kor_tiny --help      # every key and its value
"""


def main(argv=None):
    from claf.cli import run_main
    from claf.pretrain.runner import REQUIRED_BLOCKS

    return run_main("pretrain", argv, "pretrain.py", required=REQUIRED_BLOCKS, family="pretrain/")
