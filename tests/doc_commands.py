"""The command lines the documentation shows, and an in-process check of each (no subprocess, no run).

``collect(path)`` reads the shell code blocks of a markdown file and returns every command that runs
``python <script>.py``, ``python -m <module>`` or ``claf``: ``\\`` continuations joined, ``&&``/``;``/``|``
chains split, a leading ``$`` prompt, ``VAR=value`` prefixes, comments and launchers (``torchrun``,
``srun``, ``flock LOCK``) taken off. ``check(command)`` parses its flags with the tables the CLI itself
uses (``claf.commands`` ``SPECS``; the scripts' own argparse, stopped right after parsing) and resolves
every BaseConfig it names and every override key the way the CLI does. It returns None or one line
saying what is wrong.
"""

import argparse
import contextlib
import difflib
import importlib
import importlib.util
import io
import os
import re
import runpy
import shlex
import sys
from dataclasses import dataclass, field
from pathlib import Path

from claf.commands import COMMANDS
from claf.commands.args import HELP, parse, unknown_flag
from claf.config import list_base_configs, resolve_config, split_argv
from claf.config.kinds import names_of_kind
from claf.errors import UserError

ROOT = Path(__file__).resolve().parents[1]
SHELL_FENCES = {"", "bash", "sh", "shell", "console", "zsh", "shell-session"}
LAUNCHERS = {"torchrun", "srun", "flock", "time", "nohup", "exec", "env", "sudo", "mpirun"}
PYTHONS = {"python", "python3"}
# (verb, sub-verb) -> the recipe kind its --base_config names (the kind the verb passes to resolve_from_argv)
CONFIG_KINDS = {
    ("train", ""): "finetune",
    ("pretrain", ""): "pretrain",
    ("vocab", "build"): "vocab",
    ("factory", "run"): "factory",
    ("factory", "watch"): "factory",
    ("factory", "status"): "factory",
}
# verbs whose table is not a BaseConfig's but that take --key value overrides after their flags
TAKES_OVERRIDES = {("eval", "")}


@dataclass
class Command:
    where: str  # file:line of the command's first line
    text: str  # the command as the reader sees it (continuations joined)
    kind: str  # "claf" (python -m claf / claf), "script" (python x.py) or "module" (python -m other)
    target: str  # the script path or module name ("claf" for the CLI)
    args: list[str] = field(default_factory=list)


def _scan(text: str):
    """(index, char, quote) for each char: quote is the open quote (' or ") or ""."""
    quote = ""
    escaped = False
    for i, ch in enumerate(text):
        yield i, ch, quote
        if escaped:
            escaped = False
        elif ch == "\\" and quote != "'":
            escaped = True
        elif quote and ch == quote:
            quote = ""
        elif not quote and ch in "'\"":
            quote = ch


def strip_comment(text: str) -> str:
    """The text before an unquoted ``#`` that starts a word."""
    for i, ch, quote in _scan(text):
        if ch == "#" and not quote and (i == 0 or text[i - 1].isspace()):
            return text[:i].rstrip()
    return text


def replace_substitutions(text: str) -> str:
    """``$(...)`` (outside single quotes) becomes one word: its output is not known here."""
    out, i = [], 0
    while i < len(text):
        if text.startswith("$(", i):
            depth, j = 1, i + 2
            while j < len(text) and depth:
                depth += {"(": 1, ")": -1}.get(text[j], 0)
                j += 1
            out.append("SUBSTITUTED")
            i = j
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def split_chain(text: str) -> list[str]:
    """The commands of ``a && b || c ; d | e &``, split at unquoted operators."""
    parts, start, skip = [], 0, 0
    for i, ch, quote in _scan(text):
        if skip:
            skip -= 1
            continue
        if quote or ch not in "&|;":
            continue
        parts.append(text[start:i])
        skip = 1 if text[i : i + 2] in ("&&", "||") else 0
        start = i + 1 + skip
    parts.append(text[start:])
    return [p.strip() for p in parts if p.strip()]


def logical_lines(path: Path) -> list[tuple[int, str]]:
    """(line number, text) of each command line inside shell code blocks, continuations joined."""
    lines = path.read_text(encoding="utf-8").splitlines()
    out: list[tuple[int, str]] = []
    fence, shell = "", False
    pending: tuple[int, str] | None = None
    for number, line in enumerate(lines, 1):
        marker = re.match(r"^\s*(`{3,}|~{3,})\s*([\w+-]*)\s*$", line) or re.match(r"^\s*(`{3,}|~{3,})(\S*)", line)
        if marker and not fence:
            fence, shell = marker.group(1), marker.group(2).lower() in SHELL_FENCES
            continue
        if marker and not marker.group(2) and marker.group(1)[0] == fence[0] and len(marker.group(1)) >= len(fence):
            fence, pending = "", None  # the closing fence
            continue
        if not fence or not shell:
            continue
        text = strip_comment(line.strip())
        start = pending[0] if pending else number
        text = (pending[1] + " " + text) if pending else text
        if text.endswith("\\"):
            pending = (start, text[:-1].rstrip())
            continue
        pending = None
        if text:
            out.append((start, text))
    return out


def _unprefixed(tokens: list[str]) -> list[str]:
    """Without a leading ``$`` prompt and ``VAR=value`` assignments."""
    while tokens and (tokens[0] == "$" or re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", tokens[0])):
        tokens = tokens[1:]
    return tokens


def _runs_ours(part: str) -> bool:
    """Whether a part that does not split still looks like one of our commands (python, claf, a launcher)."""
    words = _unprefixed(part.split())
    return bool(words) and (words[0] in PYTHONS or words[0] == "claf" or words[0] in LAUNCHERS)


def _entry(tokens: list[str]) -> tuple[str, str, list[str]] | None:
    """(kind, target, args) of one simple command, or None when it runs none of ours."""
    tokens = _unprefixed(tokens)
    launched = bool(tokens) and tokens[0] in LAUNCHERS
    if launched:  # torchrun --nproc_per_node 2 train.py ...; flock LOCK python ...
        tokens = next(
            (tokens[i:] for i, t in enumerate(tokens) if t in PYTHONS or t == "claf" or t.endswith(".py")), []
        )
    if not tokens:
        return None
    head, rest = tokens[0], tokens[1:]
    if head == "claf":
        return "claf", "claf", rest
    if head.endswith(".py") and launched:
        return "script", head, rest
    if head not in PYTHONS:
        return None
    while rest and rest[0].startswith("-") and rest[0] not in ("-m", "-c"):  # python -u, -X dev ...
        rest = rest[1:]
    if not rest or rest[0] == "-c":
        return None  # an inline program is not an entry point
    if rest[0] == "-m" and len(rest) > 1:
        return ("claf" if rest[1] == "claf" else "module"), rest[1], rest[2:]
    if rest[0].endswith(".py"):
        return "script", rest[0], rest[1:]
    return None


def collect(path: Path, root: Path = ROOT) -> list[Command]:
    """Every command of ours in the shell code blocks of ``path``."""
    commands = []
    name = path.relative_to(root).as_posix() if path.is_relative_to(root) else str(path)
    for number, text in logical_lines(path):
        for part in split_chain(replace_substitutions(text)):
            try:
                tokens = shlex.split(part)
            except ValueError as e:  # an unbalanced quote: ours is an error, anything else is not read
                if _runs_ours(part):
                    commands.append(Command(f"{name}:{number}", part, "broken", "", [str(e)]))
                continue
            found = _entry(tokens)
            if found:
                kind, target, args = found
                commands.append(Command(f"{name}:{number}", part, kind, target, args))
    return commands


def doc_files(root: Path = ROOT) -> list[Path]:
    """README.md and docs/**/*.md, except the generated results pages."""
    docs = sorted(p for p in (root / "docs").rglob("*.md") if "results" not in p.relative_to(root / "docs").parts)
    return [root / "README.md", *docs]


# ---------------------------------------------------------------------------------------------- checks


def _quiet(call):
    """(result, SystemExit code or None, captured stderr) of ``call()``."""
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        try:
            return call(), None, err.getvalue()
        except SystemExit as e:
            return None, (e.code if isinstance(e.code, int) else 1), err.getvalue()


def _first_line(text: str) -> str:
    """The error line of what a parser printed (argparse prints its usage first), else its first line."""
    lines = [line for line in text.strip().splitlines() if line.strip()]
    said = next((line for line in lines if "error:" in line), lines[0] if lines else "")
    return said.split("error: ", 1)[-1]


def base_config_names(args: list[str]) -> list[str]:
    """The tokens that name a BaseConfig of a shipped family (``klue/nsmc_bert``, ``factory/x``), flag values too."""
    families = {name.split("/")[0] for name in list_base_configs()}
    pattern = re.compile(r"^(?:%s)/[\w-]+(?:/[\w-]+)*$" % "|".join(map(re.escape, sorted(families))))
    names = []
    for token in args:
        value = token.split("=", 1)[1] if token.startswith("--") and "=" in token else token
        if pattern.match(value):
            names.append(value)
    return names


def check_claf(argv: list[str]) -> str | None:
    """``python -m claf <argv>``: the verb, its flags, its BaseConfig and overrides."""
    if not argv or argv[0] in HELP:
        return None
    verb = argv[0]
    if verb not in COMMANDS:
        close = difflib.get_close_matches(verb, list(COMMANDS), n=1)
        return f"claf has no command '{verb}'" + (f"; closest: {close[0]}" if close else "")
    specs = importlib.import_module(f"claf.commands.{COMMANDS[verb][0]}").SPECS
    rest = argv[1:]
    if rest and rest[0] and rest[0] in specs:
        sub, rest = rest[0], rest[1:]
    elif "" in specs:
        sub = ""
    elif rest and rest[0] in HELP:
        return None
    else:
        subs = ", ".join(s for s in specs if s)
        return f"claf {verb} needs one of: {subs}" + (f" (got '{rest[0]}')" if rest else "")
    spec = specs[sub]
    want_help = any(token in HELP for token in rest)
    if want_help and not spec.config:
        _result, code, err = _quiet(lambda: parse(spec, rest))
        return None if code == 0 else _first_line(err)
    tokens = [token for token in rest if token not in HELP]
    parsed, code, err = _quiet(lambda: parse(spec, tokens, rest=True))
    if code is not None:
        return _first_line(err) or f"{spec.prog}: exit {code}"
    args, extra = parsed
    if not spec.config:
        if not extra:
            return None
        if (verb, sub) not in TAKES_OVERRIDES:
            return unknown_flag(spec, extra[0])
        try:
            split_argv(extra)
        except UserError as e:
            return str(e)
        return None
    kind = CONFIG_KINDS.get((verb, sub))
    if kind is None:
        return f"claf {verb} {sub}: takes a BaseConfig but tests/doc_commands.py CONFIG_KINDS has no kind for it"
    base = args.base_config
    if base is None:
        if want_help or getattr(args, "recipe", None):
            return None
        return f"{spec.prog}: --base_config is required"
    names = names_of_kind(kind, list_base_configs())
    if base not in names:
        close = difflib.get_close_matches(base, names, n=1)
        return f"--base_config {base}: not a shipped {kind} BaseConfig" + (f"; closest: {close[0]}" if close else "")
    try:
        resolve_config(base, extra, kind=kind)
    except UserError as e:
        return str(e).splitlines()[0]
    return None


class _Parsed(Exception):
    """Raised right after a script's argparse parsed its command line: nothing else runs."""


def check_script(script: str, argv: list[str], root: Path = ROOT) -> str | None:
    """``python <script> <argv>``: the file exists and its command line parses (the script stops there)."""
    path = root / script
    if not path.is_file():
        return f"{script} does not exist"
    source = path.read_text(encoding="utf-8")
    verb = re.search(r"^from claf\.commands\.(\w+) import main$", source, re.M)
    if verb:  # train.py, pretrain.py, predict.py: the verb's own table
        by_module = {module: name for name, (module, _help) in COMMANDS.items()}
        return check_claf([by_module[verb.group(1)], *argv])
    if "parse_args" not in source and "parse_known_args" not in source:
        return f"{script} parses no flags, but the line gives {argv[0]}" if argv else None
    return _parse_only(path, argv)


def _parse_only(path: Path, argv: list[str]) -> str | None:
    """Run the script as ``__main__`` until its ArgumentParser has parsed ``argv``, then stop it."""
    real_args, real_known = argparse.ArgumentParser.parse_args, argparse.ArgumentParser.parse_known_args
    inside = [0]

    def parse_args(self, *a, **k):
        inside[0] += 1
        try:
            result = real_args(self, *a, **k)
        finally:
            inside[0] -= 1
        raise _Parsed(result)

    def parse_known_args(self, *a, **k):
        result = real_known(self, *a, **k)
        if inside[0]:
            return result
        raise _Parsed(result)

    saved = sys.argv[:], sys.path[:], dict(os.environ)
    argparse.ArgumentParser.parse_args = parse_args  # type: ignore[method-assign]
    argparse.ArgumentParser.parse_known_args = parse_known_args  # type: ignore[method-assign]
    sys.argv, sys.path[:0] = [str(path), *argv], [str(path.parent)]
    err = io.StringIO()
    try:
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            runpy.run_path(str(path), run_name="__main__")
    except _Parsed:
        return None
    except SystemExit as e:
        return None if e.code in (0, None) else _first_line(err.getvalue()) or f"{path.name}: exit {e.code}"
    finally:
        argparse.ArgumentParser.parse_args, argparse.ArgumentParser.parse_known_args = real_args, real_known
        sys.argv, sys.path[:] = saved[0], saved[1]
        os.environ.clear()
        os.environ.update(saved[2])
    return f"{path.name} ran to its end without parsing a command line"


def check(command: Command) -> str | None:
    """None when the command's entry point exists, its flags parse and every BaseConfig it names resolves."""
    if command.kind == "broken":
        return f"cannot split the line: {command.args[0]}"
    missing = [name for name in base_config_names(command.args) if name not in list_base_configs()]
    if missing:
        close = difflib.get_close_matches(missing[0], list_base_configs(), n=1)
        return f"names BaseConfig '{missing[0]}', which is not shipped" + (f"; closest: {close[0]}" if close else "")
    if command.kind == "claf":
        return check_claf(command.args)
    if command.kind == "script":
        return check_script(command.target, command.args)
    try:
        found = importlib.util.find_spec(command.target)
    except ModuleNotFoundError:
        found = None
    return None if found else f"python -m {command.target}: no such module here"
