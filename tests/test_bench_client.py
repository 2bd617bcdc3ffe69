"""Posting from training: run folders -> payloads, the outbox when the server is down or refuses,
``claf results push``, and the train hook of Experiment."""

import json
import subprocess
import sys

import pytest
import requests
from bench_support import REPO, TOKEN, ServerProcess, database_url, free_port

from claf.learn.metric_logs import MetricLogs

pytestmark = pytest.mark.slow  # real server processes


def finetune_folder(folder, checkpoint="larva-kor-tiny-4k", seed=42, accuracy=81.5):
    config = json.loads((REPO / "base_config" / "klue" / "nsmc_larva_tiny.json").read_text())
    config["model"]["bert_for_seq_cls"]["pretrained_model_name"] = checkpoint
    config["trainer"]["log_dir"], config["seed_num"] = str(folder), seed
    folder.mkdir(parents=True)
    (folder / "config.json").write_text(json.dumps(config))
    logs = MetricLogs(folder, "accuracy")
    logs.add(1, 100, {"accuracy": accuracy - 1.0, "loss": 0.5})
    logs.add(2, 200, {"accuracy": accuracy, "loss": 0.4})
    logs.finish()
    return folder


def pretrain_folder(folder):
    recipe = {
        "name": "larva-kor-tiny",
        "model": {"objective": "mlm", "transformers_config": {"num_hidden_layers": 2, "hidden_size": 64}},
        "masking": {"strategy": "space"},
        "tokenizer": {"name_or_path": "vocab/koelectra"},
        "trainer": {"log_dir": str(folder)},
    }
    folder.mkdir(parents=True)
    (folder / "config.json").write_text(json.dumps(recipe))
    logs = MetricLogs(folder, "loss", "min")
    for step, loss in ((2000, 6.5), (4000, 5.9)):
        logs.add(step // 2000, step, {"loss": loss, "mlm_loss": loss, "mlm_accuracy": 20.0})
    logs.finish()
    published = [
        {
            "name": f"larva-kor-tiny-{k}k",
            "step": k * 1000,
            "url": f"file:///hub/larva-kor-tiny-{k}k.tar.gz",
            "sha256": "c" * 64,
        }
        for k in (2, 4)
    ]
    (folder / "published.json").write_text(json.dumps(published))
    ck = folder / "checkpoints" / "larva-kor-tiny-4k"
    ck.mkdir(parents=True)
    (ck / "config.json").write_text(json.dumps({"vocab_size": 32200}))
    return folder


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("CLAF_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("CLAF_SERVER_TOKEN", TOKEN)
    monkeypatch.delenv("CLAF_SERVER_URL", raising=False)
    return tmp_path / "home"


def klue_rows(url):
    table = requests.get(f"{url}/api/v1/benchmarks/klue/table").json()
    return {r["model"]: r for r in table["rows"]}


def test_down_server_queues_to_the_outbox_and_flush_delivers(home, tmp_path):
    from claf.results.client import flush_outbox, outbox_dir, post_run_folder

    run = finetune_folder(tmp_path / "run")
    port = free_port()
    assert post_run_folder(run, f"http://127.0.0.1:{port}") is False  # nobody listens: no exception
    assert len(list(outbox_dir().glob("*.json"))) == 1
    server = ServerProcess(database_url("sqlite", tmp_path), tmp_path, port=port).start()
    try:
        assert flush_outbox() == (1, 0)
        assert list(outbox_dir().glob("*.json")) == []
        cell = klue_rows(server.url)["larva-kor-tiny"]["cells"]["nsmc"]  # task found from nsmc/ data path
        assert cell["value"] == 81.5 and cell["step"] == 4000
        result = requests.get(f"{server.url}/api/v1/results/{cell['result_ids'][0]}").json()
        assert result["seed"] == 42 and len(result["history"]) == 2 and result["provenance"]["wall_time_s"] >= 0
        assert result["config"]["trainer"]["metric_key"] == "accuracy"
    finally:
        server.stop()


def test_a_refusing_server_never_fails_the_run(home, tmp_path, monkeypatch):
    from claf.results.client import flush_outbox, outbox_dir, post_run_folder

    server = ServerProcess(database_url("sqlite", tmp_path), tmp_path).start()
    try:
        monkeypatch.setenv("CLAF_SERVER_TOKEN", "wrong")
        assert post_run_folder(finetune_folder(tmp_path / "run"), server.url) is False
        (item,) = outbox_dir().glob("*.json")
        assert "HTTP 401" in json.loads(item.read_text())["reason"]
        monkeypatch.setenv("CLAF_SERVER_TOKEN", TOKEN)
        assert flush_outbox() == (1, 0)
    finally:
        server.stop()


def test_results_push_cli_posts_finetune_and_pretrain_folders(home, tmp_path):
    server = ServerProcess(database_url("sqlite", tmp_path), tmp_path).start()
    env = dict(server.env(), CLAF_HOME=str(home))
    try:
        pre = pretrain_folder(tmp_path / "pre")
        runs = [finetune_folder(tmp_path / f"ft{k}", f"larva-kor-tiny-{k}k", accuracy=80.0 + k) for k in (2, 4)]
        cmd = [sys.executable, "-m", "claf", "results", "push", str(pre), *map(str, runs), "--server", server.url]
        done = subprocess.run(cmd, env=env, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        again = subprocess.run(cmd, env=env, capture_output=True, text=True)  # idempotent
        assert again.returncode == 0 and "(200)" in again.stdout
        row = klue_rows(server.url)["larva-kor-tiny"]
        assert row["options"] == {
            "objective": "mlm",
            "masking": "space",
            "vocab": "vocab/koelectra",
            "model_size": "L2-H64",
            "vocab_size": 32200,
        }
        series = requests.get(
            f"{server.url}/api/v1/benchmarks/klue/tasks/nsmc/series", params={"group_by": "masking"}
        ).json()
        assert series["traces"][0]["steps"] == [2000, 4000] and series["traces"][0]["values"] == [82.0, 84.0]
        assert series["traces"][0]["group"] == "space"
        assert series["pretraining"][0]["values"] == [6.5, 5.9]
        bad = subprocess.run(
            [sys.executable, "-m", "claf", "results", "push", str(tmp_path / "nowhere"), "--server", server.url],
            env=env,
            capture_output=True,
            text=True,
        )
        assert bad.returncode != 0 and bad.stderr.startswith("error:") and "config.json" in bad.stderr
    finally:
        server.stop()


def test_training_posts_its_result_when_a_server_is_configured(home, tmp_path, monkeypatch, tiny_korean_bert):
    from claf.experiment import Experiment

    server = ServerProcess(database_url("sqlite", tmp_path), tmp_path).start()
    monkeypatch.setenv("CLAF_SERVER_URL", server.url)
    try:
        overrides = {
            "bert_for_seq_cls.pretrained_model_name": str(tiny_korean_bert),
            "data_reader.train_limit": 64,
            "data_reader.valid_limit": 32,
            "trainer.log_dir": str(tmp_path / "run"),
            "trainer.num_epochs": 1,
            "trainer.progress": False,
        }
        summary = Experiment("train", "klue/nsmc_bert", overrides=overrides)()
        cell = klue_rows(server.url)[tiny_korean_bert.name]["cells"]["nsmc"]
        assert cell["value"] == pytest.approx(summary["best"]["valid/accuracy"])
        result = requests.get(f"{server.url}/api/v1/results/{cell['result_ids'][0]}").json()
        assert result["provenance"]["torch"] and result["provenance"]["threads"] >= 1
    finally:
        server.stop()
