"""The user's own commands with bad values, extended overrides, plugins and the original CLaF config shape."""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from claf.config import ConfigError, resolve_config

ROOT = Path(__file__).resolve().parents[1]


def run(script, *args, cwd=None, env=None):
    return subprocess.run(
        [sys.executable, str(ROOT / script), *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})},
    )


def one_error_line(result, *needles):
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


@pytest.mark.parametrize(
    "args, needles",
    [
        (["--trainer.metric_key", "f1x"], ["--trainer.metric_key", "'f1x'", "accuracy"]),
        (["--trainer.precision", "fp8"], ["--trainer.precision", "fp8"]),
        (["--trainer.eval_and_save_step_count", "0"], ["--trainer.eval_and_save_step_count"]),
        (["--data_reader.train_limit", "0"], ["--data_reader.train_limit", "positive"]),
        (["--data_reader.valid_limit", "-3"], ["--data_reader.valid_limit"]),
        (["--trainer.num_epochs", "1", "--trainer.num_epochs", "2"], ["--trainer.num_epochs", "twice"]),
        (["--trainer.num_epochs", "1", "--num_epochs", "2"], ["--num_epochs"]),
    ],
)
def test_bad_values_exit_2_with_one_line_before_any_data_loads(tmp_path, args, needles):
    # the data root points at an empty folder: a run that got as far as reading data would fail differently
    result = run(
        "train.py",
        "--base_config",
        "klue/nsmc_bert",
        "--trainer.log_dir",
        str(tmp_path / "run"),
        *args,
        cwd=tmp_path,
        env={"CLAF_DATA_MIRROR": str(tmp_path), "CLAF_DATA_ROOT": str(tmp_path)},
    )
    assert result.returncode == 2, result.stderr
    one_error_line(result, *needles)
    assert not (tmp_path / "run").exists()


def test_null_valued_keys_are_typed_by_the_component():
    config = resolve_config("klue/nsmc_bert", ["--seq_cls.labels", "0,1"])
    assert config.data_reader.seq_cls.labels == ("0", "1")
    config = resolve_config("klue/nsmc_bert", ["--seq_cls.labels", '["neg", "pos"]'])
    assert config.data_reader.seq_cls.labels == ("neg", "pos")


def test_dict_branches_can_be_replaced_or_removed():
    cola = resolve_config("glue/cola_bert")
    assert dict(cola.data_reader.extra_valid_file_paths)  # CoLA scores out-of-domain by default
    assert (
        dict(
            resolve_config(
                "glue/cola_bert", ["--data_reader.extra_valid_file_paths", "null"]
            ).data_reader.extra_valid_file_paths
        )
        == {}
    )
    replaced = resolve_config("glue/cola_bert", ["--data_reader.extra_valid_file_paths", '{"ood": "glue/CoLA/x.tsv"}'])
    assert dict(replaced.data_reader.extra_valid_file_paths) == {"ood": "glue/CoLA/x.tsv"}
    with pytest.raises(ConfigError, match="names a block"):
        resolve_config("glue/cola_bert", ["--data_reader.extra_valid_file_paths", "ood"])


def test_strings_can_be_set_to_null_and_to_the_word_null():
    config = resolve_config("klue/nsmc_bert", ["--seq_cls.lang_code", "null"])
    assert config.data_reader.seq_cls.lang_code is None
    config = resolve_config("klue/nsmc_bert", ["--bert_for_seq_cls.pretrained_model_name", '"null"'])
    assert config.model.bert_for_seq_cls.pretrained_model_name == "null"
    with pytest.raises(ConfigError, match="--model.bert_for_seq_cls.pretrained_model_name: required"):
        resolve_config("klue/nsmc_bert", ["--bert_for_seq_cls.pretrained_model_name", "null"])


def test_constructor_options_the_base_config_omits():
    config = resolve_config(
        "klue/nsmc_bert", ["--bert_basic.strip_accents", "false", "--trainer.find_unused_parameters", "true"]
    )
    assert config.token.tokenizer.word.bert_basic.strip_accents is False
    assert config.trainer.find_unused_parameters is True
    assert config.trainer.name == "default"  # a default every config now shows (--trainer.name works)
    with pytest.raises(ConfigError, match="did you mean strip_accents"):
        resolve_config("klue/nsmc_bert", ["--bert_basic.strip_acents", "false"])
    with pytest.raises(ConfigError, match="adamw has no option 'warmup'"):
        resolve_config("klue/nsmc_bert", ["--optimizer.adamw.warmup", "3"])


def test_train_without_arguments_lists_only_fine_tuning_configs(tmp_path):
    result = run("train.py", cwd=tmp_path)
    assert result.returncode == 2
    line = one_error_line(result, "klue/nsmc_bert")
    assert "pretrain/" not in line and "vocab/" not in line
    listing = run("train.py", "--help", cwd=tmp_path).stdout
    assert "glue/sst2_bert" in listing and "pretrain/larva_kor_tiny" not in listing


def test_vocab_build_help_lists_recipes_and_keys(tmp_path):
    names = subprocess.run(
        [sys.executable, "-m", "claf", "vocab", "build", "--help"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert names.returncode == 0 and "vocab/kor_32k_cased" in names.stdout
    keys = subprocess.run(
        [sys.executable, "-m", "claf", "vocab", "build", "--base_config", "vocab/kor_32k_cased", "--help"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert keys.returncode == 0
    assert "--vocab.vocab_size" in keys.stdout and "--normalization.morphemes" in keys.stdout


PLUGIN = '''
from claf.data.readers.seq_cls import SeqClsReader
from claf.registry import METRICS, READERS


@READERS.register("shouting_cls")
class ShoutingReader(SeqClsReader):
    """NSMC rows with the text upper-cased: a user's own reader."""

    def example_from_input(self, record, index=0):
        return super().example_from_input({**record, "text": record["text"].upper()}, index)


@METRICS.register("error_rate", keys=("error_rate",))
def error_rate(predictions, labels):
    wrong = sum(str(p) != str(l) for p, l in zip(predictions, labels))
    return {"error_rate": 100.0 * wrong / len(labels)}
'''


@pytest.mark.slow
def test_a_users_plugin_trains_and_predicts_from_the_command_line(tmp_path, tiny_korean_bert):
    (tmp_path / "plugins").mkdir()
    (tmp_path / "plugins" / "my_claf_plugin.py").write_text(textwrap.dedent(PLUGIN))
    env = {"PYTHONPATH": f"{ROOT}{os.pathsep}{tmp_path / 'plugins'}", "OMP_NUM_THREADS": "1"}
    log_dir = tmp_path / "run"
    config = json.loads((ROOT / "base_config" / "klue" / "nsmc_bert.json").read_text())  # the user's own copy
    options = config["data_reader"].pop("seq_cls")
    config["data_reader"].update(
        dataset="shouting_cls", shouting_cls={**options, "metrics": ["accuracy", "error_rate"], "max_seq_length": 32}
    )
    (tmp_path / "mine.json").write_text(json.dumps(config))
    args = [
        "--base_config",
        str(tmp_path / "mine.json"),
        "--include_package",
        "my_claf_plugin",
        "--bert_for_seq_cls.pretrained_model_name",
        str(tiny_korean_bert),
        "--trainer.log_dir",
        str(log_dir),
        "--data_reader.train_limit",
        "64",
        "--data_reader.valid_limit",
        "32",
        "--trainer.num_epochs",
        "1",
        "--trainer.metric_key",
        "accuracy",
        "--trainer.progress",
        "false",
    ]
    result = subprocess.run(
        [sys.executable, str(ROOT / "train.py"), *args],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**os.environ, **env},
    )
    assert result.returncode == 0, result.stderr[-2000:]
    metrics = json.loads((log_dir / "metrics.json").read_text())
    assert metrics["best"]["valid/error_rate"] == pytest.approx(100.0 - metrics["best"]["valid/accuracy"])
    assert json.loads((log_dir / "config.json").read_text())["plugins"] == ["my_claf_plugin"]
    predicted = subprocess.run(
        [sys.executable, str(ROOT / "predict.py"), str(log_dir), "--text", "재밌어요"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**os.environ, **env},
    )
    assert predicted.returncode == 0, predicted.stderr[-2000:]
    assert json.loads(predicted.stdout)["label"] in ("0", "1")
    missing = run(
        "train.py", "--base_config", "klue/nsmc_bert", "--include_package", "no_such_plugin_xyz", cwd=tmp_path
    )
    assert missing.returncode != 0
    one_error_line(missing, "no_such_plugin_xyz", "PYTHONPATH")


ORIGINAL_SHAPE = {
    "data_reader": {
        "dataset": "seq_cls",
        "train_file_path": "nsmc/ratings_train.txt",
        "valid_file_path": "nsmc/ratings_test.txt",
        "seq_cls": {
            "lang_code": "ko",
            "header": True,
            "text_column": "document",
            "label_column": "label",
            "max_seq_length": 64,
        },
    },
    "iterator": {"batch_size": 16},
    "token": {
        "names": ["feature"],
        "types": ["feature"],
        "tokenizer": {
            "subword": {"name": "wordpiece", "wordpiece": {"vocab_path": None}},
            "word": {"name": "bert_basic", "bert_basic": {"do_lower_case": False}},
        },
        "feature": {
            "vocab": {"pretrained_path": "/nowhere/vocab.txt", "pretrained_token": "all"},
            "indexer": {"do_tokenize": False},
        },
    },
    "model": {"name": "bert_for_seq_cls", "bert_for_seq_cls": {"pretrained_model_name": None}},
    "trainer": {
        "log_dir": None,
        "num_epochs": 1,
        "early_stopping_threshold": 10,
        "metric_key": "accuracy",
        "verbose_step_count": 100,
        "eval_and_save_step_count": "epoch",
    },
    "optimizer": {
        "learning_rate": 3e-5,
        "op_type": "adamw",
        "adamw": {"weight_decay": 0.01},
        "lr_scheduler_type": "warmup_linear",
        "warmup_linear": {"warmup_proportion": 0.1},
    },
    "seed_num": 42,
}


@pytest.mark.slow
def test_the_original_claf_config_shape_runs(tmp_path, tiny_korean_bert):
    path = tmp_path / "original.json"
    path.write_text(json.dumps(ORIGINAL_SHAPE))
    result = run(
        "train.py",
        "--base_config",
        str(path),
        "--bert_for_seq_cls.pretrained_model_name",
        str(tiny_korean_bert),
        "--trainer.log_dir",
        str(tmp_path / "run"),
        "--data_reader.train_limit",
        "48",
        "--data_reader.valid_limit",
        "16",
        "--trainer.progress",
        "false",
        cwd=tmp_path,
        env={"OMP_NUM_THREADS": "1"},
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "ignored token.feature.vocab" in result.stderr and "ignored token.names" in result.stderr
    frozen = json.loads((tmp_path / "run" / "config.json").read_text())
    assert frozen["token"] == {"tokenizer": ORIGINAL_SHAPE["token"]["tokenizer"], "indexer": {"name": "bert"}}
    assert "valid/accuracy" in json.loads((tmp_path / "run" / "metrics.json").read_text())["best"]
