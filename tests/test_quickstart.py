"""``python -m claf quickstart``: the plan it prints parses line by line; a smoke run goes end to end and
prints the verdicts and the run folders; a second run skips every step; without the data mirror, one line."""

import json
import os
import re
import shlex
from pathlib import Path

import pytest

from claf.commands import quickstart
from claf.commands.args import parse
from claf.config import resolve_config
from claf.data.locate import file_problem

KINDS = {"pretrain": "pretrain", "train": "finetune", "factory": "factory"}
FINAL = {  # smoke -> (the final checkpoint, compare's A and B)
    False: ("larva-kor-tiny-8k", "larva-kor-tiny@8k", "larva-kor-tiny-random-init"),
    True: ("larva-kor-tiny-smoke-4", "larva-kor-tiny-smoke@4", "larva-kor-tiny-smoke-random-init"),
}
VERDICTS = ("better", "worse", "no detectable difference")


def commands(out: str) -> list[list[str]]:
    """The argv after ``python -m claf`` of every command line in the printed plan."""
    lines = [line for line in out.splitlines() if line.startswith("python -m claf ")]
    return [shlex.split(line)[3:] for line in lines]


@pytest.mark.parametrize("smoke", [False, True], ids=["main", "smoke"])
def test_dry_run_prints_every_step_and_each_line_parses(smoke, tmp_path, capsys, mirror):
    work = tmp_path / "qs"
    assert quickstart.main(["--dry_run", "--work_dir", str(work), *(["--smoke"] if smoke else [])]) == 0
    out = capsys.readouterr().out
    argvs = commands(out)
    assert [a[0] for a in argvs] == ["pretrain", "train", "factory", "compare", "server"]
    for argv in argvs:
        verb, rest = argv[0], argv[1:]
        module = __import__(f"claf.commands.{verb}", fromlist=["SPECS"])
        if verb == "factory":
            assert rest[0] == "run"
            spec, rest = module.SPECS["run"], rest[1:]
        else:
            spec = module.SPECS[""]
        if verb not in KINDS:
            parse(spec, rest)  # a flag it does not take exits 2
            continue
        args, overrides = parse(spec, rest, rest=True)
        kind = KINDS[verb]
        config = resolve_config(
            args.base_config, overrides, kind=kind, files=file_problem if kind != "factory" else None
        )
        if verb == "pretrain" and smoke:  # --corpus.exclude null: no exclusion (reading the suite is slow)
            assert config.corpus.exclude is None
    final, a, b = FINAL[smoke]
    train = " ".join(argvs[1])
    assert f"--bert_for_seq_cls.pretrained_model_name {final}" in train
    if not smoke:  # the README's NSMC fine-tuning
        assert "--data_reader.train_limit 10000 --data_reader.valid_limit 5000 --trainer.num_epochs 1" in train
    assert f"--checkpoints.names '[\"{final}\"]'" in out and argvs[3][1:3] == [a, b]
    assert not work.exists()  # nothing was run


def test_without_the_mirror_it_says_so_in_one_line(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("CLAF_DATA_MIRROR")
    assert quickstart.main(["--smoke", "--no_serve", "--work_dir", str(tmp_path)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ") and "CLAF_DATA_MIRROR is not set" in err[0], err
    assert "export CLAF_DATA_MIRROR=" in err[0] and not (tmp_path / "pretrain").exists()


def summary_rows(out: str) -> dict[str, str]:
    """The summary's ``name  value`` lines after the verdict table."""
    tail = out[out.index("quickstart: done") :].split("\n\n")[-1]
    return dict(re.split(r"\s{2,}", line, maxsplit=1) for line in tail.splitlines())


def verdicts(out: str) -> dict[str, str]:
    rows = [line for line in out.splitlines() if line.startswith("| ") and not line.startswith("| task ")]
    return {cells[1].split()[0]: cells[-2].strip() for cells in (row.split("|") for row in rows)}


@pytest.mark.slow
def test_smoke_runs_end_to_end_then_skips_every_step(tmp_path, capsys, mirror):
    work = tmp_path / "qs"
    before = {k: os.environ.get(k) for k in ("CLAF_HUB_DIR", "CLAF_CACHE", "CLAF_HOME")}
    argv = ["--smoke", "--no_serve", "--work_dir", str(work)]
    assert quickstart.main(argv) == 0, capsys.readouterr().err[-3000:]
    out = capsys.readouterr().out
    assert {k: os.environ.get(k) for k in before} == before  # the smoke's store, cache and home were its own

    assert verdicts(out) == {"nsmc": verdicts(out)["nsmc"]} and verdicts(out)["nsmc"].split(" (")[0] in VERDICTS
    rows = summary_rows(out)
    for name in ("pre-training", "NSMC run", "factory", "database", "verdicts"):
        assert Path(rows[name].split("  ")[0]).exists(), (name, rows[name])
    assert rows["dashboard"].startswith("http://127.0.0.1:8765/benchmarks/klue")
    published = json.loads((work / "hub" / "index.json").read_text())["models"]
    assert sorted(published) == ["larva-kor-tiny-smoke-2", "larva-kor-tiny-smoke-4"]
    jobs = sorted(p.parent.parent.name for p in (work / "factory").rglob("factory_result.json"))
    assert jobs == ["larva-kor-tiny-smoke-4", "larva-kor-tiny-smoke-random-init"]
    state = work / "nsmc" / "checkpoints" / "last" / "trainer_state.json"
    stamp = state.stat().st_mtime_ns

    assert quickstart.main(argv) == 0
    again = capsys.readouterr().out
    skipped = [line for line in again.splitlines() if ": skipped, " in line]
    assert [line.split()[1] for line in skipped] == ["1/5", "2/5", "3/5"], again
    assert "$ python -m claf pretrain" not in again and "$ python -m claf train" not in again
    assert state.stat().st_mtime_ns == stamp
    assert verdicts(again) == verdicts(out)


def test_dry_run_with_a_budget_names_the_fitted_step(tmp_path, capsys, mirror):
    work = tmp_path / "qs"
    assert quickstart.main(["--dry_run", "--work_dir", str(work), "--budget_minutes", "12"]) == 0
    argvs = commands(capsys.readouterr().out)
    pre = " ".join(argvs[0])
    assert "--trainer.budget_minutes 12.0" in pre and "--trainer.resume true" in pre
    assert "--bert_for_seq_cls.pretrained_model_name larva-kor-tiny-<fitted>" in " ".join(argvs[1])
    from claf.commands import pretrain

    args, overrides = parse(pretrain.SPECS[""], argvs[0][1:], rest=True)
    assert resolve_config(args.base_config, overrides, kind="pretrain").trainer.budget_minutes == 12.0
    assert argvs[3][1:3] == ["larva-kor-tiny@<fitted>", "larva-kor-tiny-random-init"]


def test_a_budget_of_no_minutes_is_refused_in_one_line(tmp_path, capsys):
    assert quickstart.main(["--dry_run", "--work_dir", str(tmp_path), "--budget_minutes", "0"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["error: --budget_minutes 0: give a number of minutes above 0"]


@pytest.mark.slow
def test_smoke_with_a_budget_plans_the_rest_from_the_fitted_steps(tmp_path, capsys, mirror):
    from claf.pretrain.publish import checkpoint_name

    work = tmp_path / "qs"
    argv = ["--smoke", "--no_serve", "--work_dir", str(work), "--budget_minutes", "1"]
    assert quickstart.main(argv) == 0, capsys.readouterr().err[-3000:]
    out = capsys.readouterr().out
    steps = json.loads((work / "pretrain" / "budget.json").read_text())["max_steps"]
    assert steps > 4  # the budget fitted the steps, not the smoke recipe's 4
    assert json.loads((work / "pretrain" / "config.json").read_text())["trainer"]["max_steps"] == steps
    final = checkpoint_name("larva-kor-tiny-smoke", steps)
    published = json.loads((work / "hub" / "index.json").read_text())["models"]
    assert sorted(published) == [final]  # one checkpoint: the smoke's every-2-steps saving is off under a budget
    assert f"--bert_for_seq_cls.pretrained_model_name {final}" in out
    jobs = sorted(p.parent.parent.name for p in (work / "factory").rglob("factory_result.json"))
    assert jobs == [final, "larva-kor-tiny-smoke-random-init"]
    assert f"larva-kor-tiny-smoke@{final.rsplit('-', 1)[1]}" in out

    assert quickstart.main(argv) == 0  # a second run finds the fitted steps and skips every step
    again = capsys.readouterr().out
    skipped = [line for line in again.splitlines() if ": skipped, " in line]
    assert [line.split()[1] for line in skipped] == ["1/5", "2/5", "3/5"], again
