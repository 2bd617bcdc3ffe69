"""One CLI grammar: every verb and sub-verb answers --help, takes kebab aliases, names the closest flag."""

import importlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from claf.commands import COMMANDS, main
from claf.commands.args import Flag, Spec, parse
from claf.config.overrides import split_argv


def specs():
    """(argv prefix, Spec) of every verb and sub-verb, from the tables the verbs declare."""
    for verb, (module, _help) in COMMANDS.items():
        for sub, spec in importlib.import_module(f"claf.commands.{module}").SPECS.items():
            yield [verb, sub] if sub else [verb], spec


ALL = list(specs())
ROOT = Path(__file__).resolve().parents[1]


def test_every_verb_declares_a_table():
    verbs = {prefix[0] for prefix, _ in ALL}
    assert verbs == set(COMMANDS)
    subs = {tuple(prefix) for prefix, _ in ALL if len(prefix) == 2}
    for expected in (("factory", "run"), ("bench", "latency"), ("results", "push"), ("vocab", "build")):
        assert expected in subs


@pytest.mark.parametrize("prefix", [p for p, _ in ALL], ids=lambda p: " ".join(p))
def test_help_prints_usage_and_exits_0(prefix, capsys):
    assert main([*prefix, "--help"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("usage:") and " ".join(prefix[1:]) in out.splitlines()[0]
    assert main([*prefix, "-h"]) == 0


@pytest.mark.parametrize("verb", [v for v in COMMANDS if any(len(p) == 2 and p[0] == v for p, _ in ALL)])
def test_verbs_with_sub_verbs_list_them(verb, capsys):
    assert main([verb, "--help"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("usage:")
    for prefix, _ in ALL:
        if prefix[0] == verb and len(prefix) == 2:  # a verb may also run by itself (server; server token)
            assert prefix[1] in out
    assert main([verb, "nonsense"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error:") and "nonsense" in err[0]


def test_flag_names_are_snake_case_in_every_table():
    for prefix, spec in ALL:
        for flag in spec.flags:
            assert "-" not in flag.name, f"{' '.join(prefix)}: --{flag.name}"
            kebab = [s for s in flag.spellings if s.startswith("--") and "-" in s[2:]]
            assert kebab == ([f"--{flag.name.replace('_', '-')}"] if "_" in flag.name else [])


def test_a_kebab_alias_parses_like_the_snake_spelling():
    worker = dict(importlib.import_module("claf.commands.factory").SPECS)["worker"]
    snake = parse(worker, ["--server", "http://x", "--work_dir", "/tmp/w", "--lease", "3"])
    kebab = parse(worker, ["--server", "http://x", "--work-dir", "/tmp/w", "--lease", "3"])
    assert snake == kebab and kebab.work_dir == "/tmp/w" and kebab.lease == 3.0
    latency = dict(importlib.import_module("claf.commands.bench").SPECS)["latency"]
    assert (
        parse(latency, ["bert-tiny", "--budget-ms", "50"]).budget_ms
        == parse(latency, ["bert-tiny", "--budget_ms=50"]).budget_ms
        == 50.0
    )


def test_config_overrides_take_kebab_aliases():
    from claf.config import resolve_config

    assert resolve_config("klue/nsmc_bert", ["--trainer.num-epochs", "2"]).trainer.num_epochs == 2
    assert split_argv(["--trainer.num-epochs", "3", "--optimizer.learning-rate=1e-4"]) == [
        ("trainer.num_epochs", "3"),
        ("optimizer.learning_rate", "1e-4"),
    ]


def test_a_config_verb_keeps_its_overrides_in_order():
    watch = dict(importlib.import_module("claf.commands.factory").SPECS)["watch"]
    args, rest = parse(
        watch, ["--trainer.max_steps", "3", "--max-polls", "2", "--base_config", "f/x", "--a.b=1"], rest=True
    )
    assert (args.max_polls, args.base_config) == (2, "f/x")
    assert rest == ["--trainer.max_steps", "3", "--a.b=1"]


@pytest.mark.parametrize(
    "argv, closest",
    [
        (["bench", "latency", "bert-tiny", "--budget", "3"], "--budget_ms"),
        (["factory", "worker", "--server", "u", "--workdir", "w"], "--work_dir"),
        (["report", "--out", "x.html", "--speed", "--group_bi", "m"], "--group_by"),
        (["results", "push", "--servr", "u"], "--server"),
        (["factory", "watch", "--base_config", "factory/x", "--max-pols", "2"], "--max_polls"),
        (["train", "--base_confg", "klue/nsmc_bert"], "--base_config"),
    ],
)
def test_an_unknown_flag_is_one_line_naming_the_closest(argv, closest, capsys):
    assert main(argv) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:"), captured.err
    assert f"closest: {closest}" in lines[0] and captured.out == ""


def test_a_bad_value_is_one_line_naming_the_flag(capsys):
    assert main(["factory", "worker", "--server", "u", "--lease", "soon"]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and "--lease" in lines[0] and "'soon'" in lines[0]
    assert main(["bench", "latency", "bert-tiny", "--batches", "1,x"]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and "--batches" in lines[0]


def test_one_of_and_required_flags(capsys):
    assert main(["report", "--out", "x.html"]) == 2
    assert "--benchmark" in capsys.readouterr().err
    assert main(["factory", "worker"]) == 2
    assert "--server" in capsys.readouterr().err


def test_a_table_spells_its_own_mistakes():
    spec = Spec("prog", items=(Flag("max_polls", type=int), Flag("once", switch=True)))
    assert vars(parse(spec, ["--max-polls=4", "--once"])) == {"help": False, "max_polls": 4, "once": True}
    with pytest.raises(SystemExit) as exit_:
        parse(spec, ["stray"])
    assert exit_.value.code == 2


def test_pretrain_runs_through_run_experiment_with_its_publish_hook(monkeypatch, capsys):
    """One copy of the run path: the factory's hook is passed in, and only rank 0 prints the Metric Logs."""
    calls = []

    class Experiment:
        def __init__(self, mode, config, on_publish=None):
            calls.append((mode, on_publish))

        def __call__(self):
            return {"score": 1.0, "history": [1]}

    monkeypatch.setattr("claf.experiment.Experiment", Experiment)
    monkeypatch.setattr("claf.factory.factory.publish_hook", lambda name: ("hook", name))
    monkeypatch.setattr("claf.commands.common.setup_logging", lambda: None)
    argv = ["pretrain", "--base-config", "pretrain/larva_kor_tiny", "--factory", "factory/larva_kor_tiny_klue"]
    monkeypatch.setenv("RANK", "1")
    assert main(argv) == 0
    assert capsys.readouterr().out == ""
    monkeypatch.setenv("RANK", "0")
    assert main(argv) == 0
    assert json.loads(capsys.readouterr().out) == {"score": 1.0}
    assert calls == [("pretrain", ("hook", "factory/larva_kor_tiny_klue"))] * 2
    assert main(argv[:3]) == 0 and calls[-1] == ("pretrain", None)  # no --factory: no hook


def test_help_of_every_verb_imports_no_torch(tmp_path):
    code = (
        "import contextlib, io, sys\n"
        "from claf.commands import main\n"
        f"for argv in {[[*prefix, '--help'] for prefix, _ in ALL]!r}:\n"
        "    with contextlib.redirect_stdout(io.StringIO()):\n"
        "        assert main(argv) == 0, argv\n"
        "print(sorted(m for m in ('torch', 'transformers', 'fastapi', 'sqlalchemy') if m in sys.modules))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "[]"
