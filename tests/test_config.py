"""BaseConfig resolution, overrides derived from the config, freezing, and the CLI's error paths."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from claf.config import ConfigError, FrozenConfig, apply_overrides, list_base_configs, resolve_config
from claf.config.overrides import key_index, split_argv
from claf.config.specs.run import TrainerSpec

ROOT = Path(__file__).resolve().parents[1]


def run_cli(*args, cwd=None, script="train.py"):
    return subprocess.run(
        [sys.executable, str(ROOT / script), *args],
        capture_output=True,
        text=True,
        cwd=cwd or ROOT,
        env={**__import__("os").environ, "PYTHONPATH": str(ROOT)},
    )


def test_named_base_config_resolves_from_any_working_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    config = resolve_config("klue/nsmc_bert")
    assert config.model.name == "bert_for_seq_cls"
    assert config["data_reader"]["train_file_path"] == "nsmc/ratings_train.txt"
    assert {"klue/nsmc_bert", "klue/korquad_bert", "squad/bert", "glue/sst2_bert"} <= set(list_base_configs())


def test_base_config_by_path_by_dict_and_by_run_folder(tmp_path):
    data = json.loads((ROOT / "base_config/klue/korquad_bert.json").read_text())
    data["seed_num"] = 7
    path = tmp_path / "mine.json"
    path.write_text(json.dumps(data))
    assert resolve_config(str(path)).seed_num == 7
    assert resolve_config(data).seed_num == 7
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "config.json").write_text(json.dumps(data))
    assert resolve_config(str(tmp_path / "run")).to_dict() == resolve_config(data).to_dict()


FINE_TUNING_FAMILIES = ("klue/", "glue/", "squad/", "jglue/", "korquad/")


def test_shipped_configs_keep_the_claf_shape():
    for name in [n for n in list_base_configs() if n.startswith(FINE_TUNING_FAMILIES)]:
        config = resolve_config(name)
        for block in ("data_reader", "iterator", "token", "model", "trainer", "optimizer", "seed_num"):
            assert block in config, (name, block)
        assert config.model.name in config.model, name
        assert config.data_reader.dataset in config.data_reader, name


def test_korquad_config_has_the_papers_values():
    config = resolve_config("klue/korquad_bert")
    reader = config.data_reader.squad_bert
    assert (reader.max_seq_length, reader.context_stride, reader.max_question_length) == (512, 128, 64)
    assert config.model.bert_for_qa.answer_maxlen == 30
    assert config.optimizer.learning_rate == 3e-5 and config.optimizer.adamw.weight_decay == 0.01
    assert config.trainer.metric_key == "f1" and config.seed_num == 42


def test_unknown_base_config_suggests_close_names():
    with pytest.raises(ConfigError, match="did you mean klue/nsmc_bert"):
        resolve_config("klue/nsmc_bret")


def test_invalid_json_names_file_and_line(tmp_path):
    path = tmp_path / "broken.json"
    path.write_text('{\n  "model": {\n    "name": ,\n  }\n}\n')
    with pytest.raises(ConfigError, match=r"broken\.json:3:"):
        resolve_config(str(path))


def test_full_path_and_suffix_overrides_are_typed_by_the_base_config():
    config = resolve_config(
        "klue/korquad_bert",
        [
            "--optimizer.learning_rate",
            "5e-5",
            "--bert_for_qa.pretrained_model_name",
            "larva-kor-base-100k",
            "--trainer.num_epochs=1",
            "--squad_bert.max_seq_length",
            "384",
            "--trainer.progress",
            "false",
            "--data_reader.train_limit",
            "100",
            "--data_reader.extra_valid_file_paths",
            '{"dev2": "korquad/dev2.json"}',
            "--adamw.betas",
            "[0.9, 0.98]",
        ],
    )
    assert config.optimizer.learning_rate == 5e-5 and isinstance(config.optimizer.learning_rate, float)
    assert config.model.bert_for_qa.pretrained_model_name == "larva-kor-base-100k"
    assert config.trainer.num_epochs == 1 and config.data_reader.squad_bert.max_seq_length == 384
    assert config.trainer.progress is False
    assert config.data_reader.train_limit == 100  # base value null: parsed as JSON
    assert config.data_reader.extra_valid_file_paths == {"dev2": "korquad/dev2.json"}
    assert config.optimizer.adamw.betas == (0.9, 0.98)


def test_bare_flag_means_true_and_null_clears():
    pairs = split_argv(["--trainer.progress", "--trainer.max_steps", "null"])
    assert pairs == [("trainer.progress", "true"), ("trainer.max_steps", "null")]
    config = resolve_config("klue/nsmc_bert", {"trainer.progress": "true", "trainer.early_stopping_threshold": "null"})
    assert config.trainer.progress is True and config.trainer.early_stopping_threshold is None


@pytest.mark.parametrize(
    "override, message",
    [
        (("optimizer.learnin_rate", "1"), "closest: --optimizer.learning_rate"),
        (("learning_rate", "1"), "closest: --optimizer.learning_rate"),  # one part is not enough
        (("trainer.num_epochs", "1.5"), "expected int"),
        (("optimizer.learning_rate", "fast"), "expected float"),
        (("trainer.progress", "maybe"), "expected true/false"),
        (("trainer.progress", "2"), "expected true/false"),  # a count only where the spec takes one
        (("adamw.betas", '{"a": 1}'), "expected a JSON list"),
        (("data_reader.extra_valid_file_paths", "[1]"), "expected a JSON dict"),
    ],
)
def test_override_errors(override, message):
    with pytest.raises(ConfigError, match=message):
        resolve_config("klue/nsmc_bert", [override])


def test_ambiguous_suffix_lists_every_match():
    config = {"data_reader": {"a": {"x": {"k": 1}}, "b": {"x": {"k": 2}}}, "model": {}, "trainer": {}}
    assert key_index(config)["x.k"] == {"data_reader.a.x.k", "data_reader.b.x.k"}
    with pytest.raises(ConfigError, match=r"ambiguous .*--data_reader\.a\.x\.k, --data_reader\.b\.x\.k"):
        apply_overrides(config, {"x.k": "3"})
    assert apply_overrides(config, {"a.x.k": "3"})["data_reader"]["a"]["x"]["k"] == 3


def test_an_error_applies_nothing():
    config = json.loads((ROOT / "base_config/klue/nsmc_bert.json").read_text())
    before = json.dumps(config)
    with pytest.raises(ConfigError):
        apply_overrides(config, {"seed_num": "1", "nope.nope": "2"})
    assert json.dumps(config) == before


def test_frozen_config_is_read_only():
    config = resolve_config("klue/nsmc_bert")
    with pytest.raises(TypeError, match="frozen"):
        config.trainer.num_epochs = 1
    with pytest.raises(TypeError):
        config["seed_num"] = 1
    with pytest.raises(AttributeError, match="'nope'"):
        _ = config.trainer.nope
    assert isinstance(config.trainer, TrainerSpec) and isinstance(config.model.bert_for_seq_cls, FrozenConfig)
    with pytest.raises(TypeError):
        config.model.bert_for_seq_cls.pretrained_model_name = "other"
    assert json.loads(config.to_json()) == config.to_dict()


def test_cli_unknown_key_exits_2_with_one_line_before_loading_anything(tmp_path):
    code = (
        "import sys; from claf.commands.train import main; "
        "rc = main(['--base_config', 'klue/nsmc_bert', '--optimizer.learnin_rate', '1']); "
        "print(rc, 'torch' in sys.modules, 'transformers' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**__import__("os").environ, "PYTHONPATH": str(ROOT)},
    )
    assert result.stdout.split() == ["2", "False", "False"]
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "--optimizer.learning_rate" in lines[0]


def test_cli_error_paths_exit_2(tmp_path):
    for args in (
        ["--base_config", "klue/nsmc_bert", "--trainer.num_epochs", "x"],
        ["--base_config", "klue/nope"],
        ["--base_config", "klue/nsmc_bert", "--model.name", "bert_for_everything"],
        [],
    ):
        result = run_cli(*args, cwd=tmp_path)
        assert result.returncode == 2, args
        assert len(result.stderr.strip().splitlines()) == 1, (args, result.stderr)
    message = run_cli("--base_config", "klue/nsmc_bert", "--model.name", "bert_for_everything").stderr
    available = message.split("available: ")[1].split(", ")
    assert {"bert_for_qa", "bert_for_seq_cls"} <= {name.strip() for name in available}


def test_cli_help_lists_every_key_with_its_value(tmp_path):
    result = run_cli("--base_config", "klue/korquad_bert", "--help", cwd=tmp_path)
    assert result.returncode == 0
    config = json.loads((ROOT / "base_config/klue/korquad_bert.json").read_text())
    from claf.config.overrides import leaves

    config.pop("$schema")  # the editor's schema reference, not a config key
    for path, value in leaves(config):
        line = next(line for line in result.stdout.splitlines() if line.split()[:1] == [f"--{path}"])
        assert line.split(None, 1)[1] == json.dumps(value, ensure_ascii=False)
