"""Trainer at scale, on real NSMC rows and a tiny BERT through the real train.py / Experiment path.

- gradient accumulation: 4 micro-batches of 8 == one batch of 32 (uneven leftover included)
- DDP: `torchrun --nproc_per_node 2` (gloo, CPU) == one process with the same global batch
- exact resume: a run SIGKILLed after a checkpoint and resumed == an uninterrupted run
"""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from claf.data.batch_source import FeatureBatches
from claf.experiment import Experiment
from claf.learn.checkpoint import STATE_FILE, find_last

pytestmark = pytest.mark.slow  # end-to-end: real training runs, subprocesses or servers

ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "PYTHONPATH": str(ROOT), "TOKENIZERS_PARALLELISM": "false"}
TIMING = ("time", "samples_per_second")


@pytest.fixture(autouse=True)
def keep_thread_count():
    threads = torch.get_num_threads()
    yield
    torch.set_num_threads(threads)


def overrides(model, log_dir, **extra):
    base = {
        "bert_for_seq_cls.pretrained_model_name": str(model),
        "data_reader.train_limit": 212,
        "data_reader.valid_limit": 64,
        "trainer.log_dir": str(log_dir),
        "trainer.num_epochs": 1,
        "trainer.progress": False,
        "trainer.verbose_step_count": 3,
        "optimizer.learning_rate": 1e-3,
        "iterator.batch_size": 32,
        "iterator.eval_batch_size": 32,
        "bert_for_seq_cls.dropout": 0.0,
        "trainer.num_threads": 1,  # one thread: a shared, busy machine stalls OpenMP thread teams
        "trainer.precision": "fp32",
    }  # exact equality: not the bf16 that "auto" picks on some CPUs
    return {**base, **extra}


def as_argv(options):
    return [
        part
        for key, value in options.items()
        for part in (
            f"--{key}",
            "null" if value is None else str(value).lower() if isinstance(value, bool) else str(value),
        )
    ]


def last_params(log_dir):
    return torch.load(Path(log_dir) / "checkpoints" / "last" / "model.pt", weights_only=True)


def assert_same_params(a, b, atol):
    assert a.keys() == b.keys()
    worst = max((x.float() - b[k].float()).abs().max().item() for k, x in a.items())
    assert worst <= atol, f"parameters differ by up to {worst}"


def scores(history):
    return [{k: v for k, v in h.items() if not any(t in k for t in TIMING)} for h in history]


def test_feature_batches_shard_every_epoch():
    features = [{"input_ids": [1] * (5 + i % 17)} for i in range(97)]
    seen = {}
    for rank in range(2):
        source = FeatureBatches(
            features,
            4,
            0,
            accumulation=3,
            rank=rank,
            world_size=2,
            seed=7,
            collate_fn=lambda idx: {"index": torch.tensor(idx)},
        )
        assert len(source) == 13  # 4 global batches of 3 micro-steps of 2 x 4, then 1 example left
        for epoch in (1, 2):
            batches = list(source.epoch(epoch))
            # the leftover example goes to rank 0; rank 1 runs a weightless stand-in in step
            assert ("loss_units" in batches[-1]) == (rank == 1) and len(batches[-1]["index"]) == 1
            seen[rank, epoch] = [i for b in batches if "loss_units" not in b for i in b["index"].tolist()]
    for epoch in (1, 2):
        assert sorted(seen[0, epoch] + seen[1, epoch]) == list(range(97))  # each example once, split in two
        assert not set(seen[0, epoch]) & set(seen[1, epoch])
    assert seen[0, 1] != seen[0, 2]  # a new order each epoch
    single = FeatureBatches(features, 8, 0, accumulation=3, seed=7, collate_fn=lambda idx: {"index": idx})
    first_step = [i for b in list(single.epoch(1))[:3] for i in b["index"]]
    sharded = [
        i
        for r in range(2)
        for b in list(
            FeatureBatches(
                features, 4, 0, accumulation=3, rank=r, world_size=2, seed=7, collate_fn=lambda idx: {"index": idx}
            ).epoch(1)
        )[:3]
        for i in b["index"]
    ]
    assert sorted(first_step) == sorted(sharded)  # the order depends only on the global batch


def test_accumulation_equals_one_big_batch(tmp_path, tiny_bert_no_dropout):
    # 212 rows: 6 full steps of 32, then a leftover of 20 = micro-batches of 8, 8 and 4.
    big = Experiment("train", "klue/nsmc_bert", overrides(tiny_bert_no_dropout, tmp_path / "big"))()
    accumulated = Experiment(
        "train",
        "klue/nsmc_bert",
        overrides(
            tiny_bert_no_dropout,
            tmp_path / "acc",
            **{"iterator.batch_size": 8, "trainer.gradient_accumulation_steps": 4},
        ),
    )()
    assert big["history"][-1]["global_step"] == accumulated["history"][-1]["global_step"] == 7
    assert_same_params(last_params(tmp_path / "big"), last_params(tmp_path / "acc"), atol=2e-5)
    state = torch.load(tmp_path / "acc" / "checkpoints" / "last" / STATE_FILE, weights_only=False)
    assert state["scheduler"]["last_epoch"] == 7  # the scheduler counted optimizer steps, not micro-batches
    big_scores, acc_scores = scores(big["history"])[0], scores(accumulated["history"])[0]
    assert big_scores == pytest.approx(acc_scores, rel=1e-4)


def test_ddp_two_processes_equal_one(tmp_path, tiny_bert_no_dropout):
    single = Experiment("train", "klue/nsmc_bert", overrides(tiny_bert_no_dropout, tmp_path / "one"))()
    options = overrides(tiny_bert_no_dropout, tmp_path / "ddp", **{"iterator.batch_size": 16})
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "torch.distributed.run",
            "--standalone",
            "--nproc_per_node",
            "2",
            str(ROOT / "train.py"),
            "--base_config",
            "klue/nsmc_bert",
            *as_argv(options),
        ],
        capture_output=True,
        text=True,
        env=ENV,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert_same_params(last_params(tmp_path / "one"), last_params(tmp_path / "ddp"), atol=2e-5)
    ddp = json.loads((tmp_path / "ddp" / "metrics.json").read_text())
    assert [h["global_step"] for h in ddp["history"]] == [7]
    assert ddp["history"][0]["valid/loss"] == pytest.approx(single["history"][0]["valid/loss"], rel=1e-4)
    assert ddp["history"][0]["valid/accuracy"] == single["history"][0]["valid/accuracy"]  # sharded eval, gathered
    assert len(list((tmp_path / "ddp" / "tensorboard").glob("events.*"))) == 1  # only rank 0 writes
    assert (
        len(json.loads((tmp_path / "ddp" / "checkpoints" / "last" / "trainer_state.json").read_text()))
        and json.loads((tmp_path / "ddp" / "checkpoints" / "last" / "trainer_state.json").read_text())["world_size"]
        == 2
    )


def test_resume_after_sigkill_equals_uninterrupted(tmp_path, tiny_korean_bert):
    # Dropout stays on: the resumed run restores the RNG states, so its masks match too.
    options = overrides(
        tiny_korean_bert,
        tmp_path / "killed",
        **{
            "data_reader.train_limit": 1200,
            "iterator.batch_size": 16,
            "trainer.num_epochs": 2,
            "trainer.max_steps": 100,
            "trainer.eval_and_save_step_count": 10,
            "bert_for_seq_cls.dropout": None,
        },
    )
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "train.py"), "--base_config", "klue/nsmc_bert", *as_argv(options)],
        env=ENV,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    info = tmp_path / "killed" / "checkpoints" / "last" / "trainer_state.json"
    deadline = time.monotonic() + 240
    while not info.exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    process.send_signal(signal.SIGKILL)
    _, stderr = process.communicate()
    assert info.exists(), stderr.decode()[-3000:]
    killed_at = json.loads(info.read_text())
    assert killed_at["global_step"] < 100 and not killed_at["finished"], "the run ended before it was killed"

    resumed = Experiment("train", "klue/nsmc_bert", {**options, "trainer.resume": True})()
    straight = Experiment("train", "klue/nsmc_bert", {**options, "trainer.log_dir": str(tmp_path / "straight")})()
    assert [h["global_step"] for h in straight["history"]] == list(range(10, 101, 10))
    assert scores(resumed["history"]) == scores(straight["history"])
    assert resumed["best_score"] == straight["best_score"]
    assert_same_params(last_params(tmp_path / "killed"), last_params(tmp_path / "straight"), atol=0)


def test_half_written_checkpoint_is_never_picked(tmp_path):
    last = tmp_path / "checkpoints" / "last"
    (tmp_path / "checkpoints" / ".last.tmp-abc").mkdir(parents=True)  # a save killed before its rename
    (tmp_path / "checkpoints" / ".last.tmp-abc" / STATE_FILE).write_bytes(b"partial")
    assert find_last(True, tmp_path) is None
    last.mkdir()
    assert find_last(True, tmp_path) is None  # no state file: not a checkpoint
    (last / STATE_FILE).write_bytes(b"x")
    assert find_last(True, tmp_path) == last and find_last(str(tmp_path), "elsewhere") == last
    with pytest.raises(FileNotFoundError, match="trainer.resume"):
        find_last(str(tmp_path / "nowhere"), tmp_path)
