"""Elastic training: a fine-tuning run under torchrun loses a node (SIGKILL), restarts on fewer processes
and resumes from checkpoints/last; the reverse resumes a 1-process run on 2.

The global batch (trainer.global_batch_size) and the data order are functions of (seed, step): each rank
takes its slice of the same global batch and the accumulation makes up the difference. Checked per step
from the trainer's step log (the example ids of every global batch) and on the final parameters, against
an uninterrupted 1-process run. Real NSMC rows, a tiny Korean BERT built here, gloo on CPU, 127.0.0.1.
"""

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from claf.data.batch_source import FeatureBatches, elastic_layout
from claf.experiment import Experiment
from claf.learn import step_log

pytestmark = pytest.mark.slow  # end-to-end: real training runs in torchrun subprocesses

ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "PYTHONPATH": str(ROOT), "TOKENIZERS_PARALLELISM": "false", "OMP_NUM_THREADS": "1"}
STEPS, SAVE_EVERY = 56, 4  # 212 rows in global batches of 16: 14 steps an epoch, 4 epochs
TIMEOUT = 300


@pytest.fixture(autouse=True)
def keep_thread_count():
    threads = torch.get_num_threads()
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def model(tiny_bert_no_dropout):
    return tiny_bert_no_dropout


@pytest.fixture(scope="module")
def straight(tmp_path_factory, model):
    """The uninterrupted 1-process run: (step log by step, final parameters)."""
    log_dir = tmp_path_factory.mktemp("straight")
    Experiment("train", "klue/nsmc_bert", options(model, log_dir))()
    lines = step_log.read(log_dir)
    assert [line["step"] for line in lines] == list(range(1, STEPS + 1))
    assert all(line["world_size"] == 1 for line in lines)
    return {line["step"]: line["ids"] for line in lines}, last_params(log_dir)


def options(model, log_dir):
    return {
        "bert_for_seq_cls.pretrained_model_name": str(model),
        "bert_for_seq_cls.dropout": 0.0,
        "data_reader.train_limit": 212,
        "data_reader.valid_limit": 32,
        "iterator.batch_size": 8,  # per-rank micro-batch cap: 1 rank accumulates 2, 2 ranks 1
        "iterator.eval_batch_size": 32,
        "trainer.global_batch_size": 16,
        "trainer.num_epochs": 4,
        "trainer.eval_and_save_step_count": SAVE_EVERY,
        "trainer.log_dir": str(log_dir),
        "trainer.resume": True,  # a restarted worker runs the same command: it resumes from checkpoints/last
        "trainer.step_log": True,
        "trainer.progress": False,
        "trainer.verbose_step_count": 0,
        "trainer.num_threads": 1,
        "trainer.precision": "fp32",
        "optimizer.learning_rate": 1e-3,
    }


def train_argv(model, log_dir):
    argv = [str(ROOT / "train.py"), "--base_config", "klue/nsmc_bert"]
    for key, value in options(model, log_dir).items():
        argv += [f"--{key}", str(value).lower() if isinstance(value, bool) else str(value)]
    return argv


def torchrun(port, *args):
    rdzv = ["--rdzv_backend", "c10d", "--rdzv_endpoint", f"127.0.0.1:{port}", "--rdzv_id", "elastic"]
    agent = ["--monitor_interval", "0.2"]
    return [sys.executable, "-m", "torch.distributed.run", *rdzv, *agent, *args]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def kill_node(agent):
    """SIGKILL a torchrun agent and its workers (each worker runs in a session of its own)."""
    workers = [
        int(pid)
        for task in Path(f"/proc/{agent.pid}/task").iterdir()
        for pid in (task / "children").read_text().split()
    ]
    assert workers, "the agent has no worker to kill"
    os.kill(agent.pid, signal.SIGKILL)  # first the agent, so that it restarts nothing
    for pid in workers:
        os.kill(pid, signal.SIGKILL)
    return workers


def last_params(log_dir):
    return torch.load(Path(log_dir) / "checkpoints" / "last" / "model.pt", weights_only=True)


def relative_difference(a, b):
    """max|a - b| / max|b| over all parameters (the model's inf-norm), and whether they are bit-identical.

    Not per tensor: the attention key biases get no gradient in exact arithmetic (softmax ignores a shift),
    so they hold rounding noise (~1e-8) and any two reduction orders differ there by a large part of it."""
    assert a.keys() == b.keys()
    worst = max((a[k] - b[k]).abs().max().item() for k in a) / max(b[k].abs().max().item() for k in b)
    return worst, all(torch.equal(a[k], b[k]) for k in a)


def wait_for_checkpoint(log_dir, processes):
    info = Path(log_dir) / "checkpoints" / "last" / "trainer_state.json"
    deadline = time.monotonic() + TIMEOUT
    while not info.exists() and all(p.poll() is None for p in processes) and time.monotonic() < deadline:
        time.sleep(0.005)
    assert info.exists(), "no checkpoint was written:\n" + "\n".join(tail(p) for p in processes)


def finish(process, what):
    try:
        process.wait(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    assert process.returncode == 0, f"{what} exited {process.returncode}: {tail(process)}"


def tail(process):
    return Path(process.args[-1]).name + ": " + process.err_path.read_text(errors="replace")[-3000:]


def start(argv, log_dir, name):
    """A process in its own session (so its whole group can be killed), its output in a file."""
    path = Path(log_dir).parent / f"{Path(log_dir).name}.{name}.log"
    with open(path, "wb") as out:
        process = subprocess.Popen(argv, env=ENV, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    process.err_path = path
    return process


def check_resumed(log_dir, reference, before, after):
    """Every logged step (those a killed run did again included) took the reference's global batch, in order;
    the run moved from ``before`` to ``after`` processes and resumed at a checkpoint past step 0."""
    lines = step_log.read(log_dir)
    for line in lines:
        assert line["ids"] == reference[line["step"]], f"step {line['step']} took another global batch"
    sizes = [line["world_size"] for line in lines]
    first_after = sizes.index(after)
    assert set(sizes[:first_after]) == {before} and set(sizes[first_after:]) == {after}
    resumed_at = lines[first_after]["step"] - 1
    assert resumed_at > 0 and resumed_at % SAVE_EVERY == 0, f"resumed after step {resumed_at}"
    assert resumed_at <= lines[first_after - 1]["step"]  # no step skipped
    assert [line["step"] for line in lines[first_after:]] == list(range(resumed_at + 1, STEPS + 1))
    state = json.loads((Path(log_dir) / "checkpoints" / "last" / "trainer_state.json").read_text())
    assert state["global_step"] == STEPS and state["world_size"] == after and state["global_batch"] == 16
    return resumed_at


def report(name, log_dir, reference, resumed_at):
    worst, identical = relative_difference(last_params(log_dir), reference)
    print(
        f"\n{name}: resumed after step {resumed_at}; max relative parameter difference {worst:.3g}, "
        f"bit-identical: {identical}"
    )
    assert worst <= 1e-5, f"parameters differ by up to {worst} (relative)"


def test_global_batch_is_the_same_on_any_world_size():
    features = [{"input_ids": [1] * (5 + i % 13)} for i in range(101)]

    def global_batches(world_size):
        micro, accumulation = elastic_layout(16, 6, world_size)
        ranks = [
            FeatureBatches(
                features, micro, 0, accumulation, r, world_size, 3, collate_fn=lambda i: {"index": i}, global_batch=16
            )
            for r in range(world_size)
        ]
        plans = [[b["index"] if b.get("loss_units", 1) else [] for b in source.epoch(2)] for source in ranks]
        assert len({len(plan) for plan in plans}) == 1  # every rank runs as many micro-batches
        assert ranks[0].steps_per_epoch == 7 and len(plans[0]) <= 7 * accumulation
        steps = []
        for s in range(ranks[0].steps_per_epoch):
            window = range(s * accumulation, min((s + 1) * accumulation, len(plans[0])))
            steps.append([i for m in window for plan in plans for i in plan[m]])
        return steps, ranks[0]

    one, _ = global_batches(1)
    assert [len(step) for step in one] == [16] * 6 + [5]  # 101 rows: 6 full global batches and 5 left over
    for world_size in (2, 3, 4, 8):  # 8 ranks: 5 left over, so 3 ranks run a weightless stand-in
        steps, sharded = global_batches(world_size)
        assert steps == one
        for step in range(20):
            assert sharded.position_at(step) == (step // 7 + 1, step % 7 * sharded.accumulation)


def test_lose_a_node_and_resume_on_one(tmp_path, model, straight):
    reference, params = straight
    log_dir, port = tmp_path / "elastic", free_port()
    nodes = [
        start(
            torchrun(
                port,
                "--nnodes",
                "1:2",
                "--nproc_per_node",
                "1",
                "--max_restarts",
                "3",
                "--rdzv_conf",
                f"is_host={int(host)},last_call_timeout=5,keep_alive_interval=1,keep_alive_max_attempt=2",
            )
            + train_argv(model, log_dir),
            log_dir,
            f"node{i}",
        )
        for i, host in enumerate((True, False))
    ]
    try:
        wait_for_checkpoint(log_dir, nodes)
        kill_node(nodes[1])  # the node that does not host the rendezvous store
        nodes[1].wait(timeout=TIMEOUT)
        finish(nodes[0], "the surviving node")
    finally:
        for node in nodes:
            if node.poll() is None:
                os.killpg(node.pid, signal.SIGKILL)
    resumed_at = check_resumed(log_dir, reference, before=2, after=1)
    report("2 -> 1", log_dir, params, resumed_at)


def test_resume_one_process_on_two(tmp_path, model, straight):
    reference, params = straight
    log_dir = tmp_path / "grown"
    single = start([sys.executable, *train_argv(model, log_dir)], log_dir, "single")
    try:
        wait_for_checkpoint(log_dir, [single])
        os.killpg(single.pid, signal.SIGKILL)
        single.wait(timeout=TIMEOUT)
    finally:
        if single.poll() is None:
            os.killpg(single.pid, signal.SIGKILL)
    assert not json.loads((log_dir / "checkpoints" / "last" / "trainer_state.json").read_text())["finished"]
    two = start(
        torchrun(free_port(), "--nnodes", "1", "--nproc_per_node", "2") + train_argv(model, log_dir), log_dir, "two"
    )
    finish(two, "the 2-process resume")
    resumed_at = check_resumed(log_dir, reference, before=1, after=2)
    report("1 -> 2", log_dir, params, resumed_at)
