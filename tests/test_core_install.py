"""The core install: ``pip install claf`` alone fine-tunes; the server, database and S3 packages are extras,
and a command whose extra is missing says in one line which one to install (issue 23)."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from claf.commands.common import guarded
from claf.extras import EXTRAS, MissingExtraError, missing, require
from claf.paths import cache_dir, user_dir

ROOT = Path(__file__).resolve().parents[1]
SERVER_MESSAGE = "error: 'claf server' needs the server extra: pip install 'claf[server]'"


def test_require_names_the_extra(monkeypatch, capsys):
    monkeypatch.setitem(EXTRAS, "server", ("json", "claf_no_such_module"))
    assert missing("server") == ["claf_no_such_module"]
    with pytest.raises(MissingExtraError) as raised:
        require("server", "claf server")
    assert str(raised.value) == SERVER_MESSAGE.removeprefix("error: ")
    assert guarded(lambda: require("server", "claf server")) == 1
    assert capsys.readouterr().err.strip() == SERVER_MESSAGE
    monkeypatch.setitem(EXTRAS, "server", ("json",))
    require("server", "claf server")  # installed: nothing happens


def test_user_dir_and_cache_dir_follow_their_variables(monkeypatch, tmp_path):
    monkeypatch.delenv("CLAF_HOME", raising=False)
    monkeypatch.delenv("CLAF_CACHE", raising=False)
    assert user_dir() == cache_dir() == Path.home() / ".cache" / "claf"
    monkeypatch.setenv("CLAF_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("CLAF_CACHE", "~/elsewhere")
    assert user_dir() == tmp_path / "home"
    assert cache_dir() == Path.home() / "elsewhere"
    monkeypatch.setenv("CLAF_HOME", "")  # empty counts as unset
    assert user_dir() == Path.home() / ".cache" / "claf"


def _copy_source(dest: Path) -> Path:
    """The repository's files that an install reads, so the build leaves nothing in the work tree."""
    skip = shutil.ignore_patterns(
        ".git", "logs", "tests", "benchmarks", "docs", "build", "*.egg-info", "__pycache__", ".*_cache"
    )
    shutil.copytree(ROOT, dest, ignore=skip)
    return dest


@pytest.mark.slow
def test_core_install_fine_tunes_without_the_extras(tmp_path_factory, tiny_korean_bert, mirror):
    work = tmp_path_factory.mktemp("core_install")
    venv = work / "venv"
    python = venv / "bin" / "python"
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")}
    env.update(CLAF_DATA_MIRROR=str(mirror), HF_HUB_OFFLINE="1", TOKENIZERS_PARALLELISM="false")
    env.update(CLAF_HOME=str(work / "home"), CLAF_CACHE=str(work / "cache"))

    def run(*args, check=True):
        done = subprocess.run([str(a) for a in args], capture_output=True, text=True, env=env, cwd=work)
        if check:
            assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-4000:]
        return done

    try:
        run(sys.executable, "-m", "venv", venv)
        run(python, "-m", "pip", "install", "--quiet", "torch==2.13.0")
        run(python, "-m", "pip", "install", "--quiet", _copy_source(work / "src"))
        size = run("du", "-sh", venv).stdout.split()[0]
        print(f"core venv: {size}")

        for module in ("fastapi", "sqlalchemy", "alembic", "boto3", "onnxruntime", "ray", "slack_sdk"):
            absent = run(python, "-c", f"import {module}", check=False)
            assert absent.returncode != 0 and "ModuleNotFoundError" in absent.stderr, module

        server = run(python, "-m", "claf", "server", check=False)
        assert server.returncode != 0 and server.stderr.strip() == SERVER_MESSAGE, server.stderr

        log_dir = work / "run"
        train = run(
            python,
            "-m",
            "claf",
            "train",
            "--base_config",
            "klue/nsmc_bert",
            "--bert_for_seq_cls.pretrained_model_name",
            tiny_korean_bert,
            "--data_reader.train_limit",
            64,
            "--data_reader.valid_limit",
            32,
            "--iterator.batch_size",
            16,
            "--trainer.num_epochs",
            1,
            "--trainer.num_threads",
            1,
            "--trainer.log_dir",
            log_dir,
        )
        metrics = json.loads((log_dir / "metrics.json").read_text())
        assert 0 <= metrics["best"]["valid/accuracy"] <= 100, train.stderr[-2000:]
        assert [h["global_step"] for h in metrics["history"]] == [4]
    finally:
        shutil.rmtree(work, ignore_errors=True)  # 1 GB or more: not left for pytest's tmp rotation
