"""A newcomer's first hour, each trap run through the user's own command (issue 12).

precision auto, positions vs sequence length, runs that refuse to overwrite, names that do not
resolve, tokenizer contradictions, progress/log lines, pre-training resumed with a new schedule.
"""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def run(script, *args):
    """``python <script> args`` as the user types it; (returncode, stdout, stderr)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TOKENIZERS_PARALLELISM": "false"}
    result = subprocess.run(
        [sys.executable, str(ROOT / script), *map(str, args)], capture_output=True, text=True, env=env, cwd=ROOT
    )
    return result.returncode, result.stdout, result.stderr


def one_error_line(stderr):
    lines = [line for line in stderr.strip().splitlines() if line.startswith("error: ")]
    assert len(lines) == 1 and stderr.strip().endswith(lines[0]), stderr
    return lines[0]


def nsmc_args(model, log_dir, *extra):
    return [
        "--base_config",
        "klue/nsmc_bert",
        "--bert_for_seq_cls.pretrained_model_name",
        model,
        "--data_reader.train_limit",
        48,
        "--data_reader.valid_limit",
        16,
        "--iterator.batch_size",
        16,
        "--trainer.num_epochs",
        1,
        "--trainer.log_dir",
        log_dir,
        "--trainer.num_threads",
        1,
        *extra,
    ]


# ---- 1. precision ------------------------------------------------------------------------------------
def test_auto_precision_follows_the_cpu_flags(tmp_path, caplog):
    from claf.learn.precision import cpu_bf16_flags, cpu_has_native_bf16, resolve_precision

    kinds = {"avx2": "fpu sse avx avx2 fma", "avx512_bf16": "avx2 avx512f avx512_bf16", "amx": "avx2 amx_bf16 amx_tile"}
    files = {}
    for name, flags in kinds.items():
        files[name] = tmp_path / name
        files[name].write_text(f"processor\t: 0\nflags\t\t: {flags}\n\nprocessor\t: 1\nflags\t\t: {flags}\n")
    assert cpu_bf16_flags(str(files["avx2"])) == frozenset()
    assert cpu_bf16_flags(str(files["amx"])) == {"amx_bf16"}
    for name, expected in (("avx2", "fp32"), ("avx512_bf16", "bf16"), ("amx", "bf16")):
        assert resolve_precision("auto", "cpu", cpu_has_native_bf16(str(files[name]))) == expected, name
    with caplog.at_level("WARNING"):  # explicit bf16 on an AVX2-only CPU still runs, with one line saying why
        assert resolve_precision("bf16", "cpu", native_bf16=False) == "bf16"
    assert [r.message for r in caplog.records if "emulated" in r.message and "fp32" in r.message]
    on_this_cpu = resolve_precision("auto", "cpu")
    assert on_this_cpu == ("bf16" if cpu_has_native_bf16() else "fp32")

    shipped = [p for p in (ROOT / "base_config").rglob("*.json") if "trainer" in json.loads(p.read_text())]
    assert len(shipped) > 20
    assert {p.name: json.loads(p.read_text())["trainer"]["precision"] for p in shipped} == {
        p.name: "auto" for p in shipped
    }


def test_bf16_trains_a_tiny_model_and_saves_fp32(tiny_korean_bert, tmp_path):
    from claf.experiment import Experiment

    overrides = {
        "bert_for_seq_cls.pretrained_model_name": str(tiny_korean_bert),
        "data_reader.train_limit": 64,
        "data_reader.valid_limit": 16,
        "iterator.batch_size": 16,
        "trainer.num_epochs": 1,
        "trainer.precision": "bf16",
        "trainer.log_dir": str(tmp_path),
        "trainer.progress": False,
    }
    summary = Experiment("train", "klue/nsmc_bert", overrides=overrides)()
    assert 0 < summary["best"]["valid/loss"] < 10
    saved = json.loads((tmp_path / "checkpoints" / "best" / "config.json").read_text())
    assert saved.get("dtype", saved.get("torch_dtype", "float32")) == "float32"


def test_bf16_keeps_regression_scores_and_logits_in_fp32(tiny_korean_bert):
    """Under bf16 autocast the task layer still answers in fp32: near-equal KorSTS-like scores stay
    distinct (a bf16 Linear rounds them all to one value, which made every spearman 0)."""
    import torch

    from claf.learn.precision import autocast
    from claf.models.heads.reg import BertForReg

    head = BertForReg(pretrained_model_name=str(tiny_korean_bert)).eval()
    torch.nn.init.normal_(head.net.classifier.weight, std=1e-4)
    torch.nn.init.constant_(head.net.classifier.bias, 2.8)
    ids = torch.randint(5, 1000, (32, 12), generator=torch.Generator().manual_seed(0))
    batch = {"input_ids": ids, "attention_mask": torch.ones_like(ids)}
    with torch.no_grad(), autocast("bf16", "cpu"):
        scores = head(batch).logits
        plain = torch.nn.functional.linear(
            head.net.bert.pooler(head.net.bert(ids).last_hidden_state),
            head.net.classifier.weight,
            head.net.classifier.bias,
        )
    assert scores.dtype == torch.float32 and len(set(scores.view(-1).tolist())) > 16
    assert len(set(plain.float().view(-1).tolist())) <= 2  # what the layer gave under autocast before
    with torch.no_grad():  # outside autocast the layer is untouched
        assert torch.allclose(head(batch).logits, scores, atol=1e-2)


# ---- 4 + 11. a run logs what it runs on, prints its Metric Logs once, and is never replaced silently --------
def test_train_logs_and_refuses_to_replace_a_run(tiny_korean_bert, tmp_path):
    log_dir = tmp_path / "run"
    code, out, err = run("train.py", *nsmc_args(tiny_korean_bert, log_dir))
    assert code == 0, err
    for fact in (
        f"log_dir {log_dir}",
        "device cpu",
        "thread(s)",
        "precision ",
        "parameters",
        f"checkpoint {tiny_korean_bert}",
    ):
        assert fact in err, fact
    assert out.count('"best_score"') == 1 and "Metric Logs" not in err  # printed once, on stdout
    metrics = (log_dir / "metrics.json").read_bytes()

    for argv in (nsmc_args(tiny_korean_bert, log_dir), ["--base_config", log_dir]):  # the README's own re-run
        code, out, err = run("train.py", *argv)
        assert code == 2 and "already holds a run" in one_error_line(err) and "--trainer.overwrite true" in err
    assert (log_dir / "metrics.json").read_bytes() == metrics

    code, _, err = run("train.py", "--base_config", log_dir, "--trainer.overwrite", "true")
    assert code == 0, err
    assert json.loads((log_dir / "config.json").read_text())["trainer"]["overwrite"] is False  # a re-run refuses again


def test_a_run_that_failed_before_its_first_evaluation_does_not_block_a_rerun(tmp_path):
    from claf.learn.run_folder import RunFolderError, check_run_folder

    (tmp_path / "config.json").write_text("{}")  # what a run that stopped on a bad corpus entry leaves
    (tmp_path / "checkpoints").mkdir()
    check_run_folder(tmp_path)
    (tmp_path / "checkpoints" / "best").mkdir()
    with pytest.raises(RunFolderError):
        check_run_folder(tmp_path)
    check_run_folder(tmp_path, overwrite=True)
    (tmp_path / "checkpoints" / "best").rmdir()
    (tmp_path / "metrics.json").write_text("{}")
    with pytest.raises(RunFolderError):
        check_run_folder(tmp_path)


# ---- 3. sequence length vs the checkpoint's positions --------------------------------------------------
def test_max_seq_length_beyond_positions_fails_before_training(tiny_korean_bert, tmp_path):
    short = tmp_path / "bert128"
    shutil.copytree(tiny_korean_bert, short)
    config = json.loads((short / "config.json").read_text())
    (short / "config.json").write_text(json.dumps(dict(config, max_position_embeddings=128)))
    code, _, err = run(
        "train.py",
        "--base_config",
        "klue/korquad_bert",
        "--bert_for_qa.pretrained_model_name",
        short,
        "--trainer.log_dir",
        tmp_path / "qa",
    )
    line = one_error_line(err)
    assert code == 2 and "--data_reader.squad_bert.max_seq_length 512" in line and "max_position_embeddings 128" in line
    code, _, err = run(
        "train.py",
        "--base_config",
        "klue/korquad_bert",
        "--squad_bert.context_stride",
        512,
        "--trainer.log_dir",
        tmp_path / "qa",
    )
    line = one_error_line(err)
    assert code == 2 and "--squad_bert.context_stride 512" in line and "--squad_bert.max_seq_length" in line
    assert not (tmp_path / "qa").exists()


# ---- 9. tokenizers --------------------------------------------------------------------------------------
def test_uncased_bert_basic_keeps_hangul(tmp_path, mirror):
    from claf.config import resolve_config
    from claf.tokens.pipeline import build_tokenizer

    bare = tmp_path / "no_tokenizer_files"
    bare.mkdir()
    cfg = resolve_config(
        "klue/nsmc_bert",
        {"bert_basic.do_lower_case": True, "wordpiece.vocab_path": str(mirror / "vocab" / "koelectra" / "vocab.txt")},
    )
    tokenizer = build_tokenizer(cfg.token, bare)
    tokens = tokenizer.tokenize("정말 재밌는 영화 Café")
    assert (
        "[UNK]" not in tokens
        and tokens[:3] == ["정말", "재밌", "##는"]
        and "é" not in "".join(tokens)
        and tokens[4] == "c"
    )


def test_bert_basic_config_on_a_mecab_checkpoint_is_a_contradiction(tiny_korean_bert, tmp_path, mirror):
    from claf.tokens.pipeline import component, compose

    checkpoint = tmp_path / "mecab_ckpt"
    shutil.copytree(tiny_korean_bert, checkpoint)
    for name in ("tokenizer.json", "tokenizer_config.json", "vocab.txt", "special_tokens_map.json"):
        (checkpoint / name).unlink(missing_ok=True)
    vocab = str(mirror / "vocab" / "koelectra" / "vocab.txt")
    compose(
        component({"name": "mecab_ko"}), component({"name": "wordpiece", "wordpiece": {"vocab_path": vocab}})
    ).save_pretrained(checkpoint)
    code, _, err = run("train.py", *nsmc_args(checkpoint, tmp_path / "run"))
    line = one_error_line(err)
    assert code == 2 and "token.tokenizer.word.name is bert_basic" in line and "mecab_ko" in line
