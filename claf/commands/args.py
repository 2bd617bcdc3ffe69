"""The one CLI grammar: every verb and sub-verb declares its flags in a table, parsed here.

    SPEC = Spec("python -m claf export", "Export a trained model for serving.", (
        Arg("checkpoint", "a run folder or a checkpoint directory"),
        Flag("format", default="onnx", choices=("onnx",)),
        Flag("quantize", choices=("int8",), help="also write an int8 model"),
    ))
    args = parse(SPEC, argv)                 # a Namespace (args.checkpoint, args.format, ...)
    args, rest = parse(SPEC, argv, rest=True)  # a verb that takes a BaseConfig: rest = overrides

Rules, the same for every verb: flags are snake_case (``--work_dir``) and the kebab spelling
(``--work-dir``) is an alias; ``-h``/``--help`` prints the usage and exits 0; a mistake (an
unknown flag, a missing or badly typed value) is one ``error:`` line, naming the closest flag
for an unknown one, and exit 2. Light: imports nothing beyond the standard library.
"""

import argparse
import copy
import difflib
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from claf.errors import UserError

HELP = ("-h", "--help")


class UsageError(UserError):
    """A command line the verb does not take: a flag, a value or an argument."""

    exit_code = 2


@dataclass(frozen=True)
class Flag:
    """``--name VALUE`` (``switch``: a bare ``--name``; ``repeat``: given several times, a list)."""

    name: str
    help: str = ""
    type: Callable[[str], Any] = str
    default: Any = None
    switch: bool = False
    repeat: bool = False
    required: bool = False
    choices: tuple = ()
    short: str = ""
    metavar: str = ""

    @property
    def spellings(self) -> list[str]:
        kebab = [f"--{self.name.replace('_', '-')}"] if "_" in self.name else []
        return ([self.short] if self.short else []) + [f"--{self.name}"] + kebab


@dataclass(frozen=True)
class Arg:
    """A positional argument (``nargs``: ``?``, ``*``, ``+`` as in argparse)."""

    name: str
    help: str = ""
    nargs: str | None = None


@dataclass(frozen=True)
class Spec:
    """A verb's table. ``one_of``: exactly one of these flags is given. ``config``: the verb takes a
    BaseConfig, so ``--help`` does not exit here (the caller also lists the BaseConfig's keys)."""

    prog: str
    description: str = ""
    items: tuple = ()
    one_of: tuple[str, ...] = ()
    config: bool = False

    @property
    def flags(self) -> list[Flag]:
        return [item for item in self.items if isinstance(item, Flag)]


class _Formatter(argparse.RawDescriptionHelpFormatter):
    """Shows each flag by its snake_case name only (the kebab alias is said once, in the epilog)."""

    def _format_action_invocation(self, action):
        if action.option_strings:
            action = copy.copy(action)
            action.option_strings = [s for s in action.option_strings if "-" not in s[2:]]
        return super()._format_action_invocation(action)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # argparse's own mistakes (a missing value, a bad type) -> one line
        raise UsageError(f"{self.prog}: {message}")


def build(spec: Spec) -> argparse.ArgumentParser:
    parser = _Parser(
        prog=spec.prog,
        description=spec.description,
        add_help=False,
        allow_abbrev=False,  # --budget is not --budget_ms, and never steals an override's name
        formatter_class=_Formatter,
        epilog="Every --snake_case flag also takes its --kebab-case spelling.",
    )
    parser.add_argument(*HELP, action="store_true", help="show this help and exit")
    group = parser.add_mutually_exclusive_group(required=True) if spec.one_of else None
    for item in spec.items:
        if isinstance(item, Arg):
            parser.add_argument(item.name, nargs=item.nargs, help=item.help)
            continue
        shown = item.default is not None and not item.switch and "default" not in item.help
        default = ",".join(map(str, item.default)) if isinstance(item.default, list) else item.default
        options: dict[str, Any] = {
            "dest": item.name,
            "help": f"{item.help} (default: {default})" if shown else item.help,
        }
        if item.switch:
            options["action"] = "store_true"
        else:
            options.update(type=item.type, default=item.default, metavar=item.metavar or item.name.upper())
            options.update(action="append" if item.repeat else "store", required=item.required)
            if item.choices:
                options["choices"] = item.choices
        (group if group is not None and item.name in spec.one_of else parser).add_argument(*item.spellings, **options)
    return parser


def unknown_flag(spec: Spec, token: str) -> str:
    """The one-line message for an argument the verb does not take."""
    name = token.split("=", 1)[0]
    if not name.startswith("-"):
        return f"{spec.prog}: unexpected argument '{token}' (see --help)"
    spellings = [f"--{flag.name}" for flag in spec.flags]
    close = difflib.get_close_matches(name.replace("-", "_").replace("__", "--", 1), spellings, n=1, cutoff=0.4)
    hint = f"; closest: {close[0]}" if close else f"; it takes {', '.join(spellings) or 'no flags'}"
    return f"{spec.prog}: unknown flag '{name}'{hint} (see --help)"


def _near(spec: Spec, name: str) -> bool:
    snake = name[2:].replace("-", "_")
    return bool(difflib.get_close_matches(snake, [flag.name for flag in spec.flags], n=1, cutoff=0.8))


def parse(spec: Spec, argv: list[str] | None, rest: bool = False):
    """``argv`` -> Namespace (``rest``: (Namespace, the arguments the table does not name)).

    ``--help`` prints the usage and exits 0 (for a ``config`` spec it sets ``args.help`` instead);
    a mistake prints one ``error:`` line and exits 2.
    """
    argv = [str(token) for token in (sys.argv[1:] if argv is None else argv)]
    parser = build(spec)
    if not spec.config and any(token in HELP for token in argv):
        print(parser.format_help().rstrip())
        raise SystemExit(0)
    try:
        args, extra = parser.parse_known_args(argv)
        if extra and not rest:
            raise UsageError(unknown_flag(spec, extra[0]))
        for token in extra if rest else ():  # a near miss of the verb's own flag, not a config key
            name = token.split("=", 1)[0]
            if name.startswith("--") and "." not in name and _near(spec, name):
                raise UsageError(unknown_flag(spec, token))
    except UsageError as e:
        print(f"error: {e}", file=sys.stderr)
        raise SystemExit(e.exit_code) from None
    return (args, extra) if rest else args


def dispatch(prog: str, verbs: dict[str, tuple[str, Callable[[list[str]], int]]], argv: list[str]) -> int:
    """``prog <sub-verb> ...``: run the sub-verb's ``main(argv)``; ``--help`` lists the sub-verbs."""
    width = max(len(name) for name in verbs)
    usage = f"usage: {prog} {{{','.join(verbs)}}} ... (each takes --help)\n\n" + "\n".join(
        f"  {name.ljust(width)}  {help_}" for name, (help_, _) in verbs.items()
    )
    if not argv or argv[0] in HELP:
        print(usage, file=sys.stdout if argv else sys.stderr)
        return 0 if argv else 2
    if argv[0] not in verbs:
        close = difflib.get_close_matches(argv[0], list(verbs), n=1)
        hint = f"closest: '{close[0]}'" if close else f"one of {', '.join(verbs)}"
        print(f"error: {prog}: unknown command '{argv[0]}'; {hint}", file=sys.stderr)
        return 2
    return verbs[argv[0]][1](argv[1:])


def config_spec(prog: str, description: str = "", *items) -> Spec:
    """The table of a verb that takes a BaseConfig: its own ``items``, then the rest are overrides."""
    return Spec(
        prog,
        description,
        (
            Flag("base_config", "a named BaseConfig, a JSON file or a run folder", metavar="NAME_OR_PATH"),
            Flag("include_package", "import a module of your own components first (repeatable)", repeat=True),
            *items,
        ),
        config=True,
    )
