"""``python pretrain.py --base_config pretrain/larva_kor_tiny [--key value ...]``: run a LaRva recipe.

python -m claf pretrain --base_config pretrain/larva_kor_tiny --help      # every key and its value
python pretrain.py --base_config pretrain/larva_kor_tiny --factory factory/larva_kor_tiny_klue
    # every published checkpoint queues its fine-tuning jobs (run them with `claf factory run/watch`)
"""

import json
import sys

from claf.commands.common import guarded, resolve_from_argv, setup_logging


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    config, status = resolve_from_argv(argv, "pretrain.py", kind="pretrain")
    if status is not None or config is None:
        return status or 0

    def run() -> int:
        setup_logging()
        from claf.experiment import Experiment

        hook = None
        if config.get("factory"):
            from claf.factory.factory import publish_hook

            hook = publish_hook(str(config.factory))
        result = Experiment("pretrain", config, on_publish=hook)()
        print(json.dumps({k: v for k, v in result.items() if k != "history"}, indent=2, ensure_ascii=False))
        return 0

    return guarded(run)
