"""One CLI grammar: every verb and sub-verb answers --help, takes kebab aliases, names the closest flag."""

import importlib

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
        if prefix[0] == verb:
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
