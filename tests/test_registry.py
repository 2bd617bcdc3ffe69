"""The Registry class and the registries of every pluggable kind."""

import subprocess
import sys
from pathlib import Path

import pytest

from claf.registry import ALL, MODELS, Registry, RegistryError

ROOT = Path(__file__).resolve().parents[1]


def test_register_get_and_names():
    registry = Registry("widget")

    @registry.register("round")
    class Round:
        pass

    assert registry.get("round") is Round and registry.names() == ["round"] and "round" in registry


def test_duplicate_name_is_an_error_naming_both():
    registry = Registry("widget")
    registry.register("a")(int)
    with pytest.raises(RegistryError, match="widget 'a' is registered twice .*builtins.int.*builtins.str"):
        registry.register("a")(str)


def test_unknown_name_lists_available_and_suggests():
    with pytest.raises(RegistryError, match=r"unknown model 'bert_for_qq' \(did you mean bert_for_qa") as error:
        MODELS.get("bert_for_qq")
    assert str(error.value).endswith("available: " + ", ".join(MODELS.names()))


def test_every_kind_has_components():
    expected = {
        "data_reader": {"seq_cls", "squad_bert"},
        "tokenizer": {"wordpiece", "bert_basic"},
        "token_indexer": {"bert"},
        "model": {"bert_for_seq_cls", "bert_for_qa"},
        "trainer": {"default"},
        "optimizer": {"adamw"},
        "lr_scheduler": {"warmup_linear"},
        "metric": {"accuracy", "squad_v1", "korquad_v1"},
    }
    assert set(ALL) == set(expected)
    for kind, names in expected.items():
        assert names <= set(ALL[kind].names()), kind


def test_python_m_claf_list_prints_every_kind():
    out = subprocess.run(
        [sys.executable, "-m", "claf", "list"], capture_output=True, text=True, cwd=ROOT, check=True
    ).stdout
    for kind, registry in ALL.items():
        assert f"{kind}: {', '.join(registry.names())}" in out
    assert "klue/nsmc_bert" in out


def test_import_claf_is_light():
    code = "import sys, claf, claf.config, claf.registry; print(sorted(m for m in ('torch', 'transformers', 'numpy') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True).stdout
    assert out.strip() == "[]"
