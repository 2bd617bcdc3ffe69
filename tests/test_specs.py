"""Typed run specs: every shipped recipe resolves as before, validates against its JSON Schema, and every
mistake is one line naming the key, before any data or model is touched."""

import json
import os
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from claf.config import ConfigError, list_base_configs, resolve_config
from claf.config.defaults import DEFAULTS
from claf.config.kinds import RECIPE_KINDS, names_of_kind
from claf.config.loader import find_base_config
from claf.config.schema import schema_reference, schema_text, stale_schemas
from claf.config.specs import spec_class
from claf.config.specs.run import TrainerSpec
from claf.data.locate import file_problem
from claf.hardware import resolve_precision
from claf.learn.run_folder import run_config_json

ROOT = Path(__file__).resolve().parents[1]
BEFORE = json.loads((Path(__file__).with_name("fixtures") / "resolved_base_configs.json").read_text(encoding="utf-8"))
ADDED_SINCE = {  # keys added after the record, with their defaults
    # issue 24; issue 25 (--model.electra '{...}', --model.embedding_init '{...}')
    # issue 25 (--instances.copy_noise, --instances.copy_splice, --evaluation.holdout_from, --model.contrastive)
    "pretrain": {
        "seeds": None,
        "model": {"electra": None, "embedding_init": None, "contrastive": None},
        "instances": {"copy_noise": 0.0, "copy_splice": False},
        "evaluation": {"holdout_from": "spread"},
    },
    "factory": {"executor": {"ray": {"node_ip": None}}, "suite": {"head_options": {}}},  # issue 26; issue 25
}


def pair_pooled_sts(name: str, tasks: tuple) -> list:
    """The recorded suite of ``name`` with its STS tasks' heads reading the pair's agreement."""
    suite = json.loads(json.dumps(BEFORE[name]["resolved"]["suite"]["tasks"]))
    for entry in suite:
        if entry["task"] in tasks:
            entry["overrides"]["bert_for_reg.pooling"] = "pair"
    return suite


CHANGED_SINCE = {  # values a recipe changed on purpose after the record
    # issue 25: the wide suite draws three random inits (a baseline with one replica has no spread); both
    # tiny suites read their STS tasks with pooling pair (benchmarks/preregistered/pair_pooling_epyc.md, H3)
    "factory/larva_kor_tiny_wide": {
        "checkpoints": {"random_init": 3},
        "suite": {"tasks": pair_pooled_sts("factory/larva_kor_tiny_wide", ("korsts", "klue_sts_split"))},
    },
    "factory/larva_kor_tiny_klue": {"suite": {"tasks": pair_pooled_sts("factory/larva_kor_tiny_klue", ("korsts",))}},
}


def with_added(recorded: dict, added: dict, replace: bool = False) -> dict:
    """``recorded`` with the keys added since (where it does not have them, or always with ``replace``),
    merged into nested sections."""
    out = dict(recorded)
    for key, value in added.items():
        if isinstance(value, dict):
            out[key] = with_added(out.get(key) or {}, value, replace)
        elif replace:
            out[key] = value
        else:
            out.setdefault(key, value)
    return out


SHIPPED = [(kind, name) for kind in RECIPE_KINDS for name in names_of_kind(kind, list_base_configs())]


def test_the_recorded_configs_are_every_shipped_one():
    assert sorted(name for _kind, name in SHIPPED) == sorted(BEFORE)


@pytest.mark.parametrize("kind, name", SHIPPED)
def test_every_shipped_config_resolves_as_before_the_specs(kind, name):
    # tests/fixtures/resolved_base_configs.json was written by the code before typed specs (FrozenConfig)
    spec = resolve_config(name, kind=kind)
    assert isinstance(spec, spec_class(kind))
    expected = with_added(BEFORE[name]["resolved"], ADDED_SINCE.get(kind, {}))
    assert spec.to_dict() == with_added(expected, CHANGED_SINCE.get(name, {}), replace=True)


@pytest.mark.parametrize("kind, name", [s for s in SHIPPED if s[0] in ("finetune", "pretrain")])
def test_a_run_folder_reloads_to_the_same_config(tmp_path, kind, name):
    spec = resolve_config(name, kind=kind)
    (tmp_path / "config.json").write_text(run_config_json(spec), encoding="utf-8")
    again = resolve_config(str(tmp_path), kind=kind)
    expected = dict(spec.to_dict(), trainer=dict(spec.to_dict()["trainer"], overwrite=False))
    assert again.to_dict() == expected
    assert again.trainer == spec.trainer.model_copy(update={"overwrite": False})


@pytest.mark.parametrize("kind, name", SHIPPED)
def test_every_shipped_config_validates_against_its_schema(kind, name):
    path = find_base_config(name)
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["$schema"] == schema_reference(path, kind)
    schema = json.loads((path.parent / data["$schema"]).read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator(schema).validate(data)


def test_the_schemas_match_the_specs():
    assert stale_schemas() == [], "run: python -m claf schema"


def test_a_schema_refuses_what_the_spec_refuses():
    data = json.loads(find_base_config("klue/nsmc_bert").read_text(encoding="utf-8"))
    validator = jsonschema.Draft202012Validator(json.loads(schema_text("finetune")))
    data["trainer"]["num_epoch"] = 3  # a typo
    assert any("num_epoch" in e.message for e in validator.iter_errors(data))
    data = json.loads(find_base_config("pretrain/larva_kor_tiny").read_text(encoding="utf-8"))
    validator = jsonschema.Draft202012Validator(json.loads(schema_text("pretrain")))
    data["instances"]["copy_share"] = 1.7
    assert list(validator.iter_errors(data))
    data["instances"]["copy_share"] = 0.3
    data["schedule"]["sequence_length"] = [[None, 4, 40]]  # shorter than any instance
    assert list(validator.iter_errors(data))


def _leaves(node, prefix=()):
    for key, value in node.items():
        if isinstance(value, dict) and value:
            yield from _leaves(value, (*prefix, key))
        else:
            yield (*prefix, key), value


@pytest.mark.parametrize("kind", list(DEFAULTS))
def test_the_filled_defaults_are_the_specs_defaults(kind):
    cls = spec_class(kind)
    for path, value in _leaves(DEFAULTS[kind]):
        model = cls
        for part in path[:-1]:
            model = _block(model, part)
        if model is None or path[-1] not in model.model_fields:
            continue  # an options block of a registered component: its defaults are the constructor's
        field = model.model_fields[path[-1]]
        if not field.is_required():
            default = field.default
            if hasattr(default, "model_dump"):  # a block: its fields' defaults, unset ones left out
                default = default.model_dump(exclude_none=True)
            assert default == value, (kind, path)


def _block(model, name):
    from claf.config.specs.base import _model_of

    field = model.model_fields.get(name) if model is not None else None
    return _model_of(field.annotation) if field is not None else None


@pytest.mark.parametrize(
    "kind, name, overrides, needles",
    [
        ("pretrain", "pretrain/larva_kor_tiny", {"instances.copy_share": 1.7}, ["--instances.copy_share 1.7", "< 1"]),
        (
            "pretrain",
            "pretrain/larva_kor_tiny",
            {"instances.format": "full_sentence"},
            ["--instances.copy_share", "sentence_pair", "--instances.copy_share 0"],
        ),
        (
            "pretrain",
            "pretrain/larva_kor_tiny",
            {"schedule.sequence_length": "[[null, 1024, 40]]"},
            ["--schedule.sequence_length", "1024", "max_position_embeddings"],
        ),
        ("pretrain", "pretrain/larva_kor_tiny", {"masking.strategy": "word"}, ["--masking.strategy", "subword"]),
        ("finetune", "klue/nsmc_bert", {"trainer.precision": "fp8"}, ["--trainer.precision", "fp8", "bf16"]),
        ("finetune", "klue/nsmc_bert", {"optimizer.learning_rate": -1}, ["--optimizer.learning_rate", "> 0"]),
        ("finetune", "klue/nsmc_bert", {"trainer.metric_mode": "up"}, ["--trainer.metric_mode", "max"]),
        ("factory", "factory/larva_kor_tiny_klue", {"executor.name": "slurm"}, ["--executor.name", "ray"]),
        ("vocab", "vocab/kor_8k_cased", {"normalization.unicode": "NFX"}, ["--normalization.unicode", "NFC"]),
    ],
)
def test_a_bad_value_is_one_line_naming_the_key(kind, name, overrides, needles):
    with pytest.raises(ConfigError) as info:
        resolve_config(name, overrides, kind=kind)
    message = str(info.value)
    assert "\n" not in message
    for needle in needles:
        assert needle in message, message


def test_an_unknown_key_in_the_file_names_the_closest(tmp_path):
    data = json.loads(find_base_config("pretrain/larva_kor_tiny").read_text(encoding="utf-8"))
    data["masking"]["mlm_probabilty"] = 0.2
    path = tmp_path / "recipe.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(
        ConfigError, match=r"--masking.mlm_probabilty: unknown key; did you mean --masking.mlm_probability\?"
    ):
        resolve_config(str(path), kind="pretrain")


def test_missing_paths_are_named_with_where_they_were_looked_for(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError) as info:
        resolve_config("klue/korquad_bert", {"wordpiece.vocab_path": "kor_32k_v1_vocab.txt"}, files=file_problem)
    assert "--token.tokenizer.subword.wordpiece.vocab_path: 'kor_32k_v1_vocab.txt' not found" in str(info.value)
    assert str(tmp_path) in str(info.value)
    with pytest.raises(ConfigError, match="--data_reader.train_file_path: data file 'nsmc/nope.txt' not found"):
        resolve_config("klue/nsmc_bert", {"data_reader.train_file_path": "nsmc/nope.txt"}, files=file_problem)
    with pytest.raises(ConfigError, match=r"--corpus.files\[0\]: data file 'corpus/none.txt' not found"):
        resolve_config("pretrain/larva_kor_tiny", {"corpus.files": '["corpus/none.txt"]'}, "pretrain", file_problem)
    # a file the manifest can download is fine (fetched on first use), as is one that exists
    assert file_problem("data", "k", "nsmc/ratings_train.txt") is None
    assert file_problem("local", "k", str(tmp_path)) is None


def test_precision_is_resolved_once_for_this_machine(tmp_path):
    from claf.learn.precision import autocast
    from claf.learn.trainers.default import Trainer

    spec = TrainerSpec(log_dir=str(tmp_path))
    assert spec.precision == "auto" and spec.run_precision == resolve_precision("auto") in ("bf16", "fp32")
    assert Trainer(spec).precision == spec.run_precision  # the trainer reads the resolved value
    assert TrainerSpec(log_dir=str(tmp_path), precision="fp32").run_precision == "fp32"
    with pytest.raises(ValueError, match="resolved precision"):
        autocast("auto")  # nothing below the spec resolves it again


def _run(script, *args, cwd):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "CLAF_DATA_ROOT": str(cwd / "data")}
    return subprocess.run([sys.executable, str(ROOT / script), *args], capture_output=True, text=True, cwd=cwd, env=env)


@pytest.mark.slow
def test_pretrain_refuses_a_bad_copy_share_before_the_corpus_or_the_model(tmp_path):
    prepared = tmp_path / "prepared"
    args = ["--base_config", "pretrain/larva_kor_tiny", "--corpus.prepared_dir", str(prepared)]
    args += ["--trainer.log_dir", str(tmp_path / "run"), "--instances.copy_share", "1.7"]
    result = _run("pretrain.py", *args, cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: --instances.copy_share 1.7"), result.stderr
    assert not prepared.exists() and not (tmp_path / "run").exists()  # nothing prepared, no run folder


@pytest.mark.slow
def test_the_original_claf_korquad_config_names_its_missing_vocab_in_one_line(tmp_path):
    original = json.loads(find_base_config("klue/korquad_bert").read_text(encoding="utf-8"))
    original.pop("$schema")
    original["token"] = {
        "names": ["feature"],
        "types": ["feature"],
        "tokenizer": {
            "subword": {"name": "wordpiece", "wordpiece": {"vocab_path": "kor_32k_v1_vocab.txt"}},
            "word": {"name": "bert_basic", "bert_basic": {"do_lower_case": False}},
        },
        "feature": {"vocab": {"pad_token": "[PAD]"}, "indexer": {"do_tokenize": False}},
    }
    original["trainer"]["log_dir"] = str(tmp_path / "run")
    path = tmp_path / "korquad_bert.json"
    path.write_text(json.dumps(original), encoding="utf-8")
    result = _run("train.py", "--base_config", str(path), cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "Traceback" not in result.stderr, result.stderr  # (and log notes on the old shape)
    assert "--token.tokenizer.subword.wordpiece.vocab_path: 'kor_32k_v1_vocab.txt' not found" in errors[0]
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize(
    "argv, needle", [(["--port", "70000"], "--port 70000: must be <= 65535"), (["--log_level", "loud"], "--log_level")]
)
def test_server_settings_are_checked_before_it_starts(capsys, argv, needle):
    from claf.commands import main

    assert main(["server", *argv]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and needle in err[0], err
