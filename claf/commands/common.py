"""What every verb shares: logging set-up, ``--base_config`` parsing, user-error handling."""

import json
import logging
import os
import sys
from collections.abc import Callable
from typing import Any

from claf.commands.args import config_spec, parse
from claf.config import ConfigError, describe, list_base_configs, load_base_config, resolve_config
from claf.config.kinds import names_of_kind
from claf.errors import UserError


def fail(message: str, status: int) -> int:
    print(f"error: {message}", file=sys.stderr)
    return status


def setup_basic_logging() -> None:
    """Log lines to stderr, above any progress bar (cheap: imports nothing heavy)."""
    from claf.progress import BarSafeHandler

    handler = BarSafeHandler()  # log lines go above a progress bar, never through it
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s", datefmt="%H:%M:%S"))
    logging.basicConfig(level=logging.INFO, handlers=[handler])


def setup_logging() -> None:
    setup_basic_logging()
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()  # load reports and weight-loading progress bars
    hf_logging.disable_progress_bar()


def split_base_config(argv: list[str]) -> tuple[str | None, list[str], bool]:
    """Pull ``--base_config X``, ``--include_package M`` and ``--help`` out of argv; the rest are overrides.

    ``--include_package`` (repeatable) imports a module of the user's own components before the
    run; it becomes the config's ``plugins`` list, so the run folder records it for predict/eval.
    """
    args, rest = parse(config_spec("claf"), argv, rest=True)
    if args.include_package:
        rest += ["--plugins", json.dumps(args.include_package)]
    return args.base_config, rest, args.help


def guarded(call: Callable[[], int]) -> int:
    """Run ``call``; a UserError becomes one ``error:`` line and its exit code, a bug keeps its traceback."""
    try:
        return call()
    except UserError as e:
        return fail(str(e), e.exit_code)


def resolve_from_argv(argv: list[str], prog: str, kind: str) -> tuple[Any, int | None]:
    """``--base_config X [overrides] [--help]`` -> (the typed spec or None, exit status or None).

    Prints the usage or the ``--help`` listing itself; a status is returned when the command is done.
    """
    base, overrides, want_help = split_base_config(argv)
    names = names_of_kind(kind, list_base_configs())
    if base is None:
        if want_help:
            print(f"usage: {prog} --base_config NAME_OR_PATH [--section.key value ...]\n\nnamed BaseConfigs:")
            print("\n".join(f"  {name}" for name in names))
            return None, 0
        return None, fail(f"--base_config is required; one of: {', '.join(names)}", 2)
    setup_basic_logging()
    try:
        config = resolve_config(base, overrides, kind=kind, files=_file_check(kind))
    except UserError as e:  # a bad key or value: exit 2 (ConfigError), or the error's own code
        return None, fail(str(e), e.exit_code if not isinstance(e, ConfigError) else 2)
    if want_help:
        _data, source = load_base_config(base, kind)
        print(f"usage: {prog} --base_config {base} [--key value ...]\n")
        print(f"Every key of {source} (full dotted path, or a unique suffix of 2+ parts):")
        print("\n".join(describe(config.to_dict())))
        return None, 0
    return config, None


def _file_check(kind: str) -> Callable | None:
    """The check of the paths a recipe names (train/pretrain/vocab: before anything loads)."""
    if kind not in ("finetune", "pretrain", "vocab"):
        return None
    from claf.data.locate import file_problem

    return file_problem


def run_experiment(mode: str, argv: list[str] | None, prog: str, kind: str, on_publish: Callable | None = None) -> int:
    """``--base_config X [overrides]`` -> Experiment(mode)(); prints the Metric Logs.

    ``on_publish``: ``config -> hook or None``, the pre-training's publish hook made from the config.
    """
    argv = sys.argv[1:] if argv is None else list(argv)
    config, status = resolve_from_argv(argv, prog, kind)
    if status is not None or config is None:
        return status or 0

    def run() -> int:
        setup_logging()
        from claf.experiment import Experiment

        hook = on_publish(config) if on_publish is not None else None
        result = Experiment(mode, config, on_publish=hook)()  # the spec built above: no second resolution
        if os.environ.get("RANK", "0") == "0":  # the Metric Logs, once (under torchrun: by rank 0 only)
            print(json.dumps({k: v for k, v in result.items() if k != "history"}, indent=2, ensure_ascii=False))
        return 0

    return guarded(run)
