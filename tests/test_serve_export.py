"""ONNX export and inference backends on a real (tiny) SST-2 run: checks, agreement with torch, errors."""

import json

import onnx
import pytest
import torch
from serve_kinds import keep_threads

from claf.runtime.backends import BackendError, check_backend, native_bf16_cpu
from claf.runtime.fusion import FusionError, check_fusion, fused_counts
from claf.runtime.onnx_export import export_dir, export_onnx, export_raw, find_export, load_encoder, sample_inputs


@pytest.fixture(autouse=True, scope="module")
def _threads():
    yield from keep_threads()


@pytest.fixture(scope="module")
def exported(tiny_sst2_run):
    checkpoint = tiny_sst2_run / "checkpoints" / "best"
    return checkpoint, export_onnx(checkpoint, quantize="int8")


def test_export_is_fused_and_matches_torch(exported):
    checkpoint, report = exported
    folder = export_dir(checkpoint)
    assert folder == checkpoint.parent / "best-onnx"
    assert {p.name for p in folder.iterdir()} == {"model.onnx", "model.int8.onnx", "export.json"}
    layers = report["num_layers"]
    assert report["fused"]["attention"] == layers and report["fused"]["gelu"] == layers
    assert report["fused"]["layer_norm"] >= 2 * layers
    assert report["fp32"]["max_abs_diff"] <= 1e-4
    assert report["int8"]["argmax_agreement"] == 1.0
    ops = {n.op_type for n in onnx.load(str(folder / "model.int8.onnx")).graph.node}
    assert ops & {"DynamicQuantizeMatMul", "MatMulInteger", "QAttention", "DynamicQuantizeLinear"}
    assert json.loads((folder / "export.json").read_text())["source"]
    assert find_export(checkpoint, "onnx-int8") == folder / "model.int8.onnx"


def test_fusion_check_fails_on_an_unfused_graph(exported, tmp_path):
    checkpoint, _ = exported
    _meta, net, tokenizer, inputs, outputs = load_encoder(checkpoint)
    raw = export_raw(
        net, sample_inputs(net.config, inputs, tokenizer.pad_token_id), inputs, outputs, tmp_path / "raw.onnx"
    )
    graph = onnx.load(str(raw))
    assert fused_counts(graph)["attention"] == 0
    with pytest.raises(FusionError, match=r"attention 0/2.*gelu 0/2"):
        check_fusion(graph, num_layers=2, where="raw")


def test_every_backend_agrees_with_torch_on_dev_rows(exported, tiny_sst2_run):
    from claf.serve.accuracy import compare_backends

    backends = ["torch", "onnx", "onnx-int8"] + (["torch-bf16"] if native_bf16_cpu() else [])
    rows = {r["backend"]: r for r in compare_backends(tiny_sst2_run, backends)}
    assert rows["torch"]["score"] > 55  # the run learned something from SST-2
    assert rows["onnx"]["agreement"] == 1.0 and rows["onnx"]["delta"] == 0.0
    tolerance = {"onnx-int8": 0.97, "torch-bf16": 0.95}
    for backend, least in tolerance.items():
        if backend in rows:
            assert rows[backend]["agreement"] >= least, rows[backend]
            assert abs(rows[backend]["delta"]) <= 100 * (1 - least)


def test_predictor_backends_give_the_same_labels(exported, tiny_sst2_run, mirror):
    from claf.predictor import Predictor

    lines = (mirror / "glue" / "SST-2" / "dev.tsv").read_text().splitlines()[1:41]
    records = [{"text": line.split("\t", 1)[1]} for line in lines]
    checkpoint, _ = exported
    reference = Predictor(checkpoint).predict(records)
    onnx_labels = Predictor(checkpoint, backend="onnx").predict(records)
    assert onnx_labels == reference


def test_onnx_logits_match_torch_on_dev_rows(exported, mirror):
    from claf.data.padding import collate
    from claf.predictor import Predictor

    checkpoint, _ = exported
    lines = (mirror / "glue" / "SST-2" / "dev.tsv").read_text().splitlines()[1:33]
    torch_p, onnx_p, int8_p = (Predictor(checkpoint, backend=b, threads=1) for b in ("torch", "onnx", "onnx-int8"))
    examples = [torch_p.reader.example_from_input({"text": line.split("\t", 1)[1]}, i) for i, line in enumerate(lines)]
    features = torch_p.reader.featurize(examples, torch_p.tokenizer)
    batch = collate(features, list(range(len(features))), torch_p.tokenizer.pad_token_id)
    inputs = {k: v for k, v in batch.items() if k in ("input_ids", "token_type_ids", "attention_mask")}
    assert inputs["attention_mask"].float().mean() < 1  # rows of different lengths: padding is exercised
    with torch.no_grad():
        reference = torch_p.model.net(**inputs).logits
    assert (onnx_p.model.net(**inputs).logits - reference).abs().max() <= 1e-4
    int8 = int8_p.model.net(**inputs).logits
    assert (int8.argmax(-1) == reference.argmax(-1)).float().mean() >= 0.9


@pytest.mark.parametrize("kind", ["pair", "regression", "ner", "qa"])
def test_every_task_kind_exports_and_agrees(kind, tmp_path_factory, minilm_path):
    from serve_kinds import KINDS, kind_checkpoint

    from claf.predictor import Predictor

    checkpoint = kind_checkpoint(kind, tmp_path_factory, minilm_path)
    report = export_onnx(checkpoint)
    assert report["fp32"]["max_abs_diff"] <= 1e-4 and report["fused"]["attention"] == 2
    request = KINDS[kind][4]
    reference = Predictor(checkpoint, threads=1).predict([request])[0]
    got = Predictor(checkpoint, backend="onnx", threads=1).predict([request])[0]
    if kind == "regression":
        assert abs(got["score"] - reference["score"]) <= 1e-4
    else:
        assert got == reference


def test_backend_errors_say_why():
    with pytest.raises(BackendError, match="not one of"):
        check_backend("tensorrt")
    if not torch.cuda.is_available():
        with pytest.raises(BackendError, match="needs a CUDA GPU"):
            check_backend("torch-fp16")
    if not torch.cuda.is_available() and not native_bf16_cpu():
        with pytest.raises(BackendError, match="no native bf16"):
            check_backend("torch-bf16")
    assert native_bf16_cpu({"avx512_bf16"}) and native_bf16_cpu({"amx_bf16"}) and not native_bf16_cpu({"avx2"})


def test_multi_task_models_are_not_exported(tmp_path, tiny_sst2_run):
    from claf.runtime.onnx_export import ExportError

    checkpoint = tmp_path / "mt"
    checkpoint.mkdir()
    (checkpoint / "claf_task.json").write_text(
        json.dumps(
            {"model": {"name": "multi_task", "options": {}}, "data_reader": {"dataset": "multi_task", "options": {}}}
        )
    )
    with pytest.raises(ExportError, match="single-task heads only"):
        export_onnx(checkpoint)
