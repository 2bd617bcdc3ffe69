"""The command layer: one small module per verb, ``argv -> (base config, overrides) -> a library call``.

    python -m claf <verb> ...      (also the ``claf`` console script)

Each verb module has ``main(argv) -> int`` and ``SPECS`` (sub-verb, or ``""`` for the verb itself ->
its flag table, parsed by ``claf.commands.args``: one grammar for every verb). Verbs are imported
only when they run, so ``python -m claf list`` never imports torch. Nothing below this package imports it.
"""

import importlib
import sys

# verb -> (module under claf.commands, one-line help)
COMMANDS = {
    "train": ("train", "fine-tune a BaseConfig: --base_config NAME [--key value ...]"),
    "eval": ("eval", "score a run folder or checkpoint on its validation data"),
    "predict": ("predict", "predict with a run folder or checkpoint"),
    "pretrain": ("pretrain", "run a LaRva pre-training recipe"),
    "vocab": ("vocab", "build a vocab from a recipe, or benchmark tokenizers"),
    "list": ("list", "every registered component and BaseConfig"),
    "schema": ("schema", "write the JSON Schema of every recipe kind (editors complete and check keys)"),
    "server": ("server", "the benchmark server: REST API + dashboard (--db URL --host --port)"),
    "results": ("results", "post run folders to the benchmark server (push), retry the outbox (flush)"),
    "compare": ("compare", "is A better than B? per task: difference, 95% interval, P(A > B), verdict"),
    "report": ("report", "a benchmark's dashboard page as one self-contained HTML file"),
    "export": ("export", "export a run to ONNX (optimized, checked; --quantize int8)"),
    "serve": ("serve", "HTTP inference server with micro-batching: <run dir> --backend onnx-int8 --port 8766"),
    "bench": ("bench", "speed benchmarks: bench latency <run dir | bert-base>; bench load <run dir>"),
    "factory": ("factory", "evaluation factory: every checkpoint x every task (run, watch, status, worker, notify)"),
    "quickstart": ("quickstart", "the main job end to end: pre-train, fine-tune, factory, compare, dashboard"),
}


def usage() -> str:
    width = max(len(v) for v in COMMANDS)
    lines = [f"  {verb.ljust(width)}  {help_}" for verb, (_m, help_) in COMMANDS.items()]
    return "usage: python -m claf <command> ...\n\ncommands:\n" + "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else [*argv]  # not list(): importing claf.commands.list shadows it here
    if not argv or argv[0] in ("-h", "--help"):
        print(usage(), file=sys.stdout if argv else sys.stderr)
        return 0 if argv else 2
    if argv[0] not in COMMANDS:
        import difflib

        close = difflib.get_close_matches(argv[0], [*COMMANDS], n=1)
        hint = f"; did you mean '{close[0]}'?" if close else ""
        print(f"error: unknown command '{argv[0]}'{hint}\n{usage()}", file=sys.stderr)
        return 2
    module = importlib.import_module(f"claf.commands.{COMMANDS[argv[0]][0]}")
    try:
        return module.main(argv[1:])
    except SystemExit as e:  # --help (0) or a usage mistake (2), already printed
        return e.code if isinstance(e.code, int) else int(e.code is not None)
