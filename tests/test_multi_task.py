"""Multi-task fine-tuning: task sampling, one shared encoder, per-task + average evaluation, save/load."""

import json
from collections import Counter

import pytest
import torch

from claf.config.loader import find_base_config, load_json
from claf.data.multi_task_batches import MultiTaskBatches
from claf.experiment import Experiment


def fake_features(sizes):
    """Features of len(sizes) tasks; task t has sizes[t] features (only lengths and ids matter here)."""
    return [
        {"input_ids": [1] * (3 + i % 5), "attention_mask": [1] * (3 + i % 5), "labels": t, "task_id": t}
        for t, n in enumerate(sizes)
        for i in range(n)
    ]


def epoch_tasks(source, epoch, start=0):
    tasks = []
    for batch in source.epoch(epoch, start):
        ids = set(batch["task_id"].tolist())
        assert len(ids) == 1  # a batch never mixes tasks
        tasks.append(ids.pop())
    return tasks


def test_proportional_sampling_gives_each_task_its_own_steps():
    source = MultiTaskBatches(fake_features([160, 32, 8]), 16, 0, sampling="proportional")
    tasks = epoch_tasks(source, 1)
    assert len(tasks) == len(source) == 10 + 2 + 1 and Counter(tasks) == {0: 10, 1: 2, 2: 1}
    assert tasks != sorted(tasks)  # shuffled, not task after task
    assert epoch_tasks(source, 1) == tasks and epoch_tasks(source, 2) != tasks  # seeded by epoch


def test_temperature_lifts_small_tasks_and_small_tasks_cycle():
    sizes = [1600, 16]  # 100 steps vs 1 step per pass
    counts = {}
    for sampling, temperature in (("temperature", 1.0), ("temperature", 5.0), ("uniform", 1.0)):
        source = MultiTaskBatches(fake_features(sizes), 16, 0, sampling=sampling, temperature=temperature)
        counts[(sampling, temperature)] = Counter(epoch_tasks(source, 1))[1]
    # p(small) = 1/101 at T=1, 1/(1 + 100^0.2) = 0.28 at T=5, 1/2 uniform; 101 draws
    assert counts[("temperature", 1.0)] < 6 < counts[("temperature", 5.0)] < counts[("uniform", 1.0)]
    source = MultiTaskBatches(fake_features(sizes), 16, 0, sampling="uniform")
    small = [b for b in source.epoch(1) if int(b["task_id"][0]) == 1]
    assert len(small) > 10  # the one-batch task was revisited: new passes over its data


def test_resume_inside_an_epoch_continues_the_same_order():
    source = MultiTaskBatches(
        fake_features([96, 40, 24]), 8, 0, accumulation=2, sampling="temperature", temperature=2.0
    )
    full = [(int(b["task_id"][0]), b["index"].tolist()) for b in source.epoch(3)]
    resumed = [(int(b["task_id"][0]), b["index"].tolist()) for b in source.epoch(3, start=7)]
    assert resumed == full[7:] and len(full) == len(source)
    windows = [full[i : i + 2] for i in range(0, len(full), 2)]
    assert all(w[0][0] == w[1][0] for w in windows)  # both micro-batches of an optimizer step: one task


@pytest.fixture(scope="module")
def two_task_run(tmp_path_factory, tiny_korean_bert, mirror):
    """multi_task/klue_bert cut to two tasks (question pairs + KLUE-STS), trained briefly."""
    config = load_json(find_base_config("multi_task/klue_bert"))
    tasks = config["data_reader"]["multi_task"]["tasks"]
    config["data_reader"]["multi_task"]["tasks"] = {"qp": tasks["qp"], "sts": tasks["sts"]}
    config["data_reader"]["multi_task"]["tasks"]["sts"]["train_file_path"] = tasks["sts"]["valid_file_path"]
    heads = config["model"]["multi_task"]["heads"]
    config["model"]["multi_task"]["heads"] = {"qp": heads["qp"], "sts": heads["sts"]}
    log_dir = tmp_path_factory.mktemp("multi_task")
    overrides = {
        "multi_task.pretrained_model_name": str(tiny_korean_bert),
        "data_reader.train_limit": 160,
        "data_reader.valid_limit": 64,
        "trainer.log_dir": str(log_dir),
        "trainer.num_epochs": 2,
        "trainer.progress": False,
        "trainer.save_last": False,
        "trainer.num_threads": 1,
        "optimizer.learning_rate": 1e-3,
        "iterator.batch_size": 16,
    }
    summary = Experiment("train", config, overrides=overrides)()
    return log_dir, summary


def test_scores_per_task_and_their_average(two_task_run):
    log_dir, summary = two_task_run
    best = summary["best"]
    assert {
        "valid/qp/accuracy",
        "valid/qp/f1",
        "valid/sts/pearson",
        "valid/sts/f1",
        "valid/qp/loss",
        "valid/sts/loss",
    } <= set(best)
    assert best["valid/average"] == pytest.approx((best["valid/qp/accuracy"] + best["valid/sts/pearson"]) / 2)
    assert summary["best_score"] == best["valid/average"]
    rows = [json.loads(line) for line in (log_dir / "predictions" / "valid.json").read_text().splitlines()]
    assert Counter(r["task"] for r in rows) == {"qp": 64, "sts": 64}
    assert {"label"} <= set(rows[0]) and {"score"} <= set(rows[-1])


def test_one_encoder_shared_by_every_head_and_saved_once(two_task_run):
    from transformers import AutoModel

    from claf.predictor import Predictor

    log_dir, summary = two_task_run
    best = log_dir / "checkpoints" / "best"
    predictor = Predictor(best)
    model = predictor.model
    qp, sts = model.task_model("qp").net, model.task_model("sts").net
    assert qp.bert is sts.bert is model.encoder
    encoder = AutoModel.from_pretrained(best)  # the shared encoder alone, in save_pretrained form
    for key, value in encoder.state_dict().items():
        assert torch.equal(value, model.encoder.state_dict()[key]), key
    assert not any(k.startswith("bert.") for k in model.head_state())
    # the reloaded heads reproduce the best validation scores
    scores = Experiment("eval", str(log_dir))()
    for key in ("valid/qp/accuracy", "valid/sts/pearson", "valid/average"):
        assert scores[key] == pytest.approx(summary["best"][key], abs=1e-6)


def test_predict_routes_each_input_to_its_task(two_task_run):
    log_dir, _ = two_task_run
    inputs = [
        {"task": "sts", "text": "숙소가 깨끗해요.", "text_pair": "방이 청결합니다."},
        {"task": "qp", "text": "배고파", "text_pair": "밥 먹고 싶어"},
        {"task": "sts", "text": "위치가 좋아요.", "text_pair": "역에서 가까워요."},
    ]
    mixed = Experiment("predict", str(log_dir), inputs=inputs)()
    alone = [Experiment("predict", str(log_dir), inputs=[record])()[0] for record in inputs]
    assert [p["task"] for p in mixed] == ["sts", "qp", "sts"]
    assert mixed[1]["label"] == alone[1]["label"] in ("0", "1")
    for i in (0, 2):
        assert mixed[i]["score"] == pytest.approx(alone[i]["score"], abs=1e-4)
    with pytest.raises(ValueError, match="'task' must name one of the tasks"):
        Experiment("predict", str(log_dir), inputs=[{"text": "x", "text_pair": "y"}])()


def test_interactive_predict_with_task(two_task_run):
    """`predict.py <run> -i --task qp` prompts for that task's fields and answers as the API does."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    log_dir, _ = two_task_run
    root = Path(__file__).resolve().parents[1]
    result = subprocess.run(
        [sys.executable, str(root / "predict.py"), str(log_dir), "-i", "--task", "qp"],
        input="배고파\n밥 먹고 싶어\n\n",
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(root)},
    )
    assert result.returncode == 0, result.stderr
    assert "text> " in result.stderr and "text_pair> " in result.stderr
    answers = [json.loads(line) for line in result.stdout.splitlines()]
    expected = Experiment(
        "predict", str(log_dir), inputs=[{"task": "qp", "text": "배고파", "text_pair": "밥 먹고 싶어"}]
    )()
    assert [a["label"] for a in answers] == [expected[0]["label"]]
    missing = subprocess.run(
        [sys.executable, str(root / "predict.py"), str(log_dir), "-i"],
        input="",
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(root)},
    )
    assert missing.returncode == 1 and "--task" in missing.stderr
