"""``python pretrain.py`` / ``python -m claf pretrain``: a pre-training recipe + overrides -> Experiment.

    python pretrain.py --base_config pretrain/larva_kor_tiny --trainer.max_steps 200
    python -m claf pretrain --base_config pretrain/larva_kor_tiny --help      # every key and its value
"""

import json
import sys

USAGE = "usage: pretrain.py --base_config pretrain/<recipe> [--section.key value ...]"


def main(argv=None):
    from claf.cli import _fail, _is_user_error, _setup_logging, split_base_config
    from claf.config import ConfigError, describe, list_base_configs, resolve_config
    from claf.config.loader import load_base_config
    from claf.pretrain.runner import REQUIRED_BLOCKS

    argv = sys.argv[1:] if argv is None else list(argv)
    base, overrides, want_help = split_base_config(argv)
    recipes = [n for n in list_base_configs() if n.startswith("pretrain/")]
    if base is None:
        if want_help:
            print(f"{USAGE}\n\npre-training recipes:\n" + "\n".join(f"  {n}" for n in recipes))
            return 0
        return _fail(f"--base_config is required; one of: {', '.join(recipes)}", 2)
    try:
        config = resolve_config(base, overrides, required=REQUIRED_BLOCKS)
    except ConfigError as e:
        return _fail(str(e), 2)
    if want_help:
        _data, source = load_base_config(base, REQUIRED_BLOCKS)
        print(f"usage: pretrain.py --base_config {base} [--key value ...]\n")
        print(f"Every key of {source} (full dotted path, or a unique suffix of 2+ parts):")
        print("\n".join(describe(config.to_dict())))
        return 0
    _setup_logging()
    from claf.experiment import Experiment

    try:
        result = Experiment("pretrain", config.to_dict())()
    except ConfigError as e:
        return _fail(str(e), 2)
    except (FileNotFoundError, KeyError, ValueError, RuntimeError) as e:
        if not (_is_user_error(e) or isinstance(e, ValueError)):
            raise
        return _fail(str(e), 1)
    shown = {k: v for k, v in result.items() if k != "history"}
    print(json.dumps(shown, indent=2, ensure_ascii=False))
    return 0
