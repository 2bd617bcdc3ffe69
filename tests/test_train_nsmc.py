"""NSMC end to end: a tiny BERT built here from a config and the Korean vocab learns real reviews.

One training run (module fixture) is inspected by several tests: the Metric Logs, the run
folder, re-running its config, eval mode, and predict.py round trips.
"""

import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from claf.config import resolve_config
from claf.experiment import Experiment

pytestmark = pytest.mark.slow  # end-to-end: real training runs, subprocesses or servers

ROOT = Path(__file__).resolve().parents[1]
TRAIN_ROWS, VALID_ROWS = 4000, 1000


@pytest.fixture(scope="module")
def nsmc_run(tmp_path_factory, tiny_korean_bert):
    log_dir = tmp_path_factory.mktemp("nsmc_run")
    overrides = {
        "bert_for_seq_cls.pretrained_model_name": str(tiny_korean_bert),
        "data_reader.train_limit": TRAIN_ROWS,
        "data_reader.valid_limit": VALID_ROWS,  # held-out: the first rows of ratings_test.txt
        "trainer.log_dir": str(log_dir),
        "trainer.num_epochs": 2,
        "trainer.progress": False,
        "optimizer.learning_rate": 1e-3,
        "iterator.batch_size": 32,
    }
    summary = Experiment("train", "klue/nsmc_bert", overrides=overrides)()
    return log_dir, summary


def held_out_majority(mirror):
    lines = (mirror / "nsmc" / "ratings_test.txt").read_text(encoding="utf-8").splitlines()[1 : VALID_ROWS + 1]
    counts = Counter(line.split("\t")[2] for line in lines)
    return 100.0 * max(counts.values()) / VALID_ROWS


def test_tiny_bert_beats_the_majority_class(nsmc_run, mirror):
    _, summary = nsmc_run
    majority = held_out_majority(mirror)
    accuracy = summary["best"]["valid/accuracy"]
    print(f"NSMC tiny BERT accuracy {accuracy:.2f} vs majority {majority:.2f}")
    assert accuracy > majority + 10


def test_metric_logs_shape(nsmc_run):
    log_dir, summary = nsmc_run
    on_disk = json.loads((log_dir / "metrics.json").read_text())
    assert on_disk["best_score"] == summary["best_score"] == summary["best"]["valid/accuracy"]
    assert {"best_epoch", "best_global_step", "best", "best_score", "history"} <= set(on_disk)
    assert {"valid/loss", "valid/accuracy", "valid/epoch_time"} <= set(on_disk["best"])
    assert [h["epoch"] for h in on_disk["history"]] == [1, 2]
    steps_per_epoch = -(-TRAIN_ROWS // 32)
    assert [h["global_step"] for h in on_disk["history"]] == [steps_per_epoch, 2 * steps_per_epoch]
    best = max(on_disk["history"], key=lambda h: h["valid/accuracy"])
    assert (on_disk["best_epoch"], on_disk["best_global_step"]) == (best["epoch"], best["global_step"])


def test_run_folder_is_self_contained(nsmc_run):
    from transformers import AutoModel, AutoModelForSequenceClassification, AutoTokenizer

    log_dir, _ = nsmc_run
    best = log_dir / "checkpoints" / "best"
    AutoModel.from_pretrained(best)  # the encoder alone loads
    classifier = AutoModelForSequenceClassification.from_pretrained(best)
    assert classifier.config.id2label == {0: "0", 1: "1"}
    assert AutoTokenizer.from_pretrained(best).tokenize("영화") == ["영화"]  # cased Korean vocab travels along
    predictions = (log_dir / "predictions" / "valid.json").read_text().splitlines()
    assert len(predictions) == VALID_ROWS and json.loads(predictions[0])["label"] in ("0", "1")
    # per-example predictions and golds for the bootstrap (claf.stats): they re-score to the best accuracy
    from claf.metrics.spec import metric_function
    from claf.results.run_payloads import result_payload

    examples = json.loads((log_dir / "predictions" / "examples.json").read_text())
    assert len(examples["ids"]) == len(examples["predictions"]) == len(examples["references"]) == VALID_ROWS
    rescored = metric_function(examples["metrics"][0])(examples["predictions"], examples["references"])["accuracy"]
    best = json.loads((log_dir / "metrics.json").read_text())["best"]["valid/accuracy"]
    assert rescored == pytest.approx(best)
    payload = result_payload(log_dir)
    assert payload["examples"]["ids"] == examples["ids"]
    assert payload["provenance"]["cpu_seconds"] > 0 and payload["provenance"]["device_kind"].startswith("cpu ")
    assert list((log_dir / "tensorboard").glob("events.out.tfevents.*"))
    assert not list(log_dir.rglob(".*tmp*")), "temporary checkpoint folders left behind"


def test_config_json_reruns_the_same_experiment(nsmc_run):
    log_dir, _ = nsmc_run
    frozen = json.loads((log_dir / "config.json").read_text())
    assert frozen["trainer"]["log_dir"] == str(log_dir) and frozen["data_reader"]["train_limit"] == TRAIN_ROWS
    assert resolve_config(str(log_dir / "config.json")).to_dict() == frozen
    assert resolve_config(str(log_dir)).to_dict() == frozen


def test_eval_mode_reproduces_the_best_score(nsmc_run):
    log_dir, summary = nsmc_run
    scores = Experiment("eval", str(log_dir))()
    assert scores["valid/accuracy"] == pytest.approx(summary["best"]["valid/accuracy"])


def predict_cli(*args, stdin=None):
    result = subprocess.run(
        [sys.executable, str(ROOT / "predict.py"), *args],
        capture_output=True,
        text=True,
        input=stdin,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]


def test_predict_round_trip(nsmc_run, tmp_path):
    log_dir, _ = nsmc_run
    saved = [json.loads(line) for line in (log_dir / "predictions" / "valid.json").read_text().splitlines()]
    rows = (Path(os.environ["CLAF_DATA_MIRROR"]) / "nsmc" / "ratings_test.txt").read_text().splitlines()[1:21]
    texts = [row.split("\t")[1] for row in rows]
    (tmp_path / "in.jsonl").write_text("".join(json.dumps({"text": t}, ensure_ascii=False) + "\n" for t in texts))
    assert (
        predict_cli(str(log_dir), "--input", str(tmp_path / "in.jsonl"), "--output", str(tmp_path / "out.jsonl")) == []
    )
    batch = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert [p["label"] for p in batch] == [p["label"] for p in saved[:20]]  # same as during validation
    single = predict_cli(str(log_dir / "checkpoints" / "best"), "--text", texts[0])
    assert single == [{"id": "0", "label": saved[0]["label"]}]
    interactive = predict_cli(str(log_dir), "-i", stdin=f"{texts[1]}\n{texts[2]}\n\n")
    assert [p["label"] for p in interactive] == [saved[1]["label"], saved[2]["label"]]
    api = Experiment("predict", str(log_dir), inputs=[{"text": texts[3]}])()
    assert api == [{"id": "0", "label": saved[3]["label"]}]


def test_predict_errors_are_one_line(tmp_path):
    result = subprocess.run(
        [sys.executable, str(ROOT / "predict.py"), str(tmp_path), "--text", "x"],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [result.stderr.strip()] and "no trained checkpoint" in result.stderr
