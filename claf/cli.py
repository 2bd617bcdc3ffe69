"""Command lines: argv -> (base config, overrides) -> Experiment.

    python train.py --base_config klue/nsmc_bert --optimizer.learning_rate 5e-5
    python predict.py logs/klue/nsmc_bert --text "재밌어요"
    python -m claf list
"""

import argparse
import json
import logging
import os
import sys

from claf.config import ConfigError, describe, list_base_configs, resolve_config
from claf.config.loader import REQUIRED_BLOCKS, load_base_config

USER_ERRORS = (FileNotFoundError, KeyError, ValueError, RuntimeError)


def _fail(message, status):
    print(f"error: {message}", file=sys.stderr)
    return status


def _setup_logging():
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s",
                        datefmt="%H:%M:%S")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()  # load reports and weight-loading progress bars
    hf_logging.disable_progress_bar()


def split_base_config(argv):
    """Pull ``--base_config X`` and ``--help`` out of argv; the rest are overrides."""
    base, rest, want_help, i = None, [], False, 0
    while i < len(argv):
        token = argv[i]
        if token in ("-h", "--help"):
            want_help = True
        elif token == "--base_config" and i + 1 < len(argv):
            base = argv[i + 1]
            i += 1
        elif token.startswith("--base_config="):
            base = token.split("=", 1)[1]
        else:
            rest.append(token)
        i += 1
    return base, rest, want_help


def run_main(mode, argv=None, prog="train.py", required=REQUIRED_BLOCKS, family=""):
    """``--base_config X [overrides]`` -> Experiment(mode). ``family`` filters the names listed."""
    argv = sys.argv[1:] if argv is None else list(argv)
    base, overrides, want_help = split_base_config(argv)
    names = [n for n in list_base_configs() if n.startswith(family)]
    if base is None:
        if want_help:
            print(f"usage: {prog} --base_config NAME_OR_PATH [--section.key value ...]\n\nnamed BaseConfigs:")
            print("\n".join(f"  {name}" for name in names))
            return 0
        return _fail(f"--base_config is required; one of: {', '.join(names)}", 2)
    try:
        config = resolve_config(base, overrides, required=required)
    except ConfigError as e:
        return _fail(str(e), 2)
    if want_help:
        _data, source = load_base_config(base, required)
        print(f"usage: {prog} --base_config {base} [--key value ...]\n")
        print(f"Every key of {source} (full dotted path, or a unique suffix of 2+ parts):")
        print("\n".join(describe(config.to_dict())))
        return 0
    _setup_logging()
    from claf.experiment import Experiment

    try:
        result = Experiment(mode, config.to_dict())()
    except ConfigError as e:
        return _fail(str(e), 2)
    except USER_ERRORS as e:
        if not _is_user_error(e):
            raise
        return _fail(str(e), 1)
    print(json.dumps({k: v for k, v in result.items() if k != "history"}, indent=2, ensure_ascii=False))
    return 0


def _is_user_error(error):
    """Errors whose message says what to fix: shown as one line, without a traceback."""
    from claf.hub.cache import HubError
    from claf.registry import RegistryError

    return isinstance(error, (ValueError, FileNotFoundError, RegistryError, HubError))


def predict_main(argv=None):
    parser = argparse.ArgumentParser(prog="predict.py", description="Predict with a trained run or checkpoint.")
    parser.add_argument("checkpoint", help="a run folder (its checkpoints/best is used) or a checkpoint directory")
    parser.add_argument("--text", help="classification input")
    parser.add_argument("--text_pair", help="second text for sentence-pair tasks")
    parser.add_argument("--task", help="the task of a multi-task model to predict with")
    parser.add_argument("--question", help="QA question (with --context)")
    parser.add_argument("--context", help="QA context (with --question)")
    parser.add_argument("--input", help="JSON lines file of inputs")
    parser.add_argument("--output", help="JSON lines file for the predictions (default: stdout)")
    parser.add_argument("-i", "--interactive", action="store_true", help="read inputs at a prompt")
    args = parser.parse_args(argv)
    _setup_logging()
    from claf.experiment import find_checkpoint
    from claf.predictor import Predictor

    try:
        predictor = Predictor(find_checkpoint(args.checkpoint))
        if args.interactive:
            return _interactive(predictor)
        records = _records(args, parser)
        results = predictor.predict(records)
    except (FileNotFoundError, ValueError) as e:
        return _fail(str(e), 1)
    lines = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in results)
    if args.output:
        from claf.atomic import atomic_write_text

        atomic_write_text(args.output, lines)
    else:
        sys.stdout.write(lines)
    return 0


def _records(args, parser):
    if args.input:
        records = []
        with open(args.input, encoding="utf-8") as f:
            for line_no, line in enumerate(f, 1):
                if line.strip():
                    try:
                        records.append(json.loads(line))
                    except json.JSONDecodeError as e:
                        raise ValueError(f"{args.input}:{line_no}: invalid JSON ({e.msg})") from None
        return records
    if args.text is not None:
        return [{"text": args.text, "text_pair": args.text_pair, **({"task": args.task} if args.task else {})}]
    if args.question is not None and args.context is not None:
        return [{"question": args.question, "context": args.context, **({"task": args.task} if args.task else {})}]
    parser.error("give --text, --question with --context, --input, or -i")


def _ask(prompt):
    """Prompt on stderr so stdout carries only JSON; None at end of input."""
    sys.stderr.write(prompt)
    sys.stderr.flush()
    line = sys.stdin.readline()
    return line.strip() if line else None


def _interactive(predictor):
    fields = ("context", "question") if predictor.reader.task == "qa" else ("text",)
    if getattr(predictor.reader, "text_pair_column", None) is not None:  # sentence-pair tasks
        fields = ("text", "text_pair")
    print("Enter inputs (empty line or Ctrl-D to quit).", file=sys.stderr)
    while True:
        record = {}
        for field in fields:
            value = _ask(f"{field}> ")
            if not value:
                return 0
            record[field] = value
        print(json.dumps(predictor.predict([record])[0], ensure_ascii=False), flush=True)


def list_main():
    from claf.registry import ALL

    for kind, registry in ALL.items():
        print(f"{kind}: {', '.join(registry.names())}")
    print(f"base_config: {', '.join(list_base_configs())}")
    return 0


def _lazy(module, function):
    """A sub-command whose code is imported only when it runs."""

    def run(rest):
        import importlib

        return getattr(importlib.import_module(module), function)(rest)

    return run


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    commands = {"list": lambda rest: list_main(), "train": lambda rest: run_main("train", rest, "claf train"),
                "predict": predict_main, "vocab": _lazy("claf.tokens.vocab_cli", "main"),
                "pretrain": _lazy("claf.pretrain.cli", "main")}
    if not argv or argv[0] not in commands:
        print(f"usage: python -m claf {{{','.join(commands)}}} ...", file=sys.stderr)
        return 2
    return commands[argv[0]](argv[1:])
