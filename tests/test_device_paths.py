"""The GPU paths' logic, checked on a CPU: a GPU per factory worker, fp16's gradient scaler with gradient
accumulation, resuming a checkpoint on another precision or device kind, and the pre-training model's
sync-free gather of the masked tokens (issue 27)."""

import json
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch

from claf.config.specs.run import TrainerSpec
from claf.factory.executors import visible_devices, worker_env
from claf.factory.worker import job_env, run_job_process
from claf.learn.checkpoint import INFO_FILE, STATE_FILE
from claf.learn.distributed import Distributed
from claf.learn.trainers.default import Trainer


# ---- factory: one GPU per local worker --------------------------------------------------------------------
def test_workers_take_the_visible_gpus_round_robin():
    devices = visible_devices({"CUDA_VISIBLE_DEVICES": "2, 3"})
    assert devices == ["2", "3"]
    assert [worker_env(i, devices) for i in range(3)] == [
        {"CUDA_VISIBLE_DEVICES": "2"},
        {"CUDA_VISIBLE_DEVICES": "3"},
        {"CUDA_VISIBLE_DEVICES": "2"},
    ]
    # CUDA stops reading the list at an invalid entry; an empty list hides every GPU
    assert visible_devices({"CUDA_VISIBLE_DEVICES": "1,-1,2"}) == ["1"]
    assert visible_devices({"CUDA_VISIBLE_DEVICES": "GPU-8f2a,GPU-11bc"}) == ["GPU-8f2a", "GPU-11bc"]
    assert visible_devices({"CUDA_VISIBLE_DEVICES": ""}) == []
    assert worker_env(0, []) == {}  # a CPU machine: the job's environment is left alone
    seen = [str(i) for i in range(torch.cuda.device_count())] if torch.cuda.is_available() else []
    assert visible_devices({}) == seen


def test_job_environment_carries_the_workers_gpu():
    env = job_env(2, {"CUDA_VISIBLE_DEVICES": "1"}, environ={"CLAF_SERVER_URL": "http://x", "PATH": "/bin"})
    assert env == {"PATH": "/bin", "OMP_NUM_THREADS": "2", "MKL_NUM_THREADS": "2", "CUDA_VISIBLE_DEVICES": "1"}


def test_job_process_runs_with_the_workers_gpu(tmp_path):
    """A real job process (failing fast on a config that does not exist) logs the GPU it was given."""
    job = {
        "id": 1,
        "key": "k" * 64,
        "recipe": "r",
        "checkpoint": "c",
        "task": "nsmc",
        "seed": 1,
        "attempts": 1,
        "spec": {"base_config": "no/such_config", "overrides": {}, "pretrained_key": "x", "source": "x"},
    }
    outcome = run_job_process(job, tmp_path, threads=1, env={"CUDA_VISIBLE_DEVICES": "3"})
    assert not outcome["ok"]
    assert "CUDA_VISIBLE_DEVICES=3" in outcome["log_tail"]


# ---- the trainer's step: gradient scaler with accumulation ---------------------------------------------------
class Regression(torch.nn.Module):
    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.linear = torch.nn.Linear(4, 1)

    def forward(self, batch):
        out = self.linear(batch["x"] * batch["factor"])
        return SimpleNamespace(loss=torch.nn.functional.mse_loss(out.squeeze(-1), batch["labels"]))


def window(sizes=(3, 5, 2), poison=None):
    g = torch.Generator().manual_seed(1)
    out = []
    for i, n in enumerate(sizes):
        factor = torch.tensor(float("inf") if i == poison else 1.0)
        out.append({"x": torch.randn(n, 4, generator=g), "labels": torch.randn(n, generator=g), "factor": factor})
    return out


def one_step(tmp_path, scaler, batches):
    model = Regression()
    trainer = Trainer(TrainerSpec(log_dir=str(tmp_path), precision="fp32", max_grad_norm=0.05, progress=False))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
    trainer._update(model, model, batches, optimizer, None, scaler, Distributed(device="cpu"))
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def test_scaler_unscales_once_clips_unscaled_and_steps_once_per_window(tmp_path):
    start = {k: v.clone() for k, v in Regression().state_dict().items()}
    plain = one_step(tmp_path, None, window())
    scaler = torch.amp.GradScaler("cpu", init_scale=2.0**12, growth_interval=1)
    scaled = one_step(tmp_path, scaler, window())
    # clipping is active (the step is max_grad_norm x lr long) and sees the unscaled gradients: the same update
    moved = torch.cat([(plain[k] - start[k]).flatten() for k in start]).norm()
    assert moved == pytest.approx(0.05 * 0.5, rel=1e-4)
    for key in plain:
        torch.testing.assert_close(scaled[key], plain[key], rtol=1e-6, atol=1e-7)
    assert scaler.get_scale() == 2.0**13  # updated once for the window of three micro-batches, not three times

    poisoned = torch.amp.GradScaler("cpu", init_scale=2.0**12, growth_interval=1)
    skipped = one_step(tmp_path, poisoned, window(poison=1))
    for key in start:  # an inf gradient in one micro-batch skips the whole optimizer step
        torch.testing.assert_close(skipped[key], start[key])
    assert poisoned.get_scale() == 2.0**11  # and halves the scale once


# ---- resume on another precision or device kind ---------------------------------------------------------------
def batches(n=6):
    return window(sizes=(4,) * n)


def train(log_dir, precision, epochs, resume=None):
    model = Regression()
    options = TrainerSpec(
        log_dir=str(log_dir),
        precision=precision,
        num_epochs=epochs,
        progress=False,
        verbose_step_count=0,
        eval_and_save_step_count=3,
        resume=resume,
    )
    optimizer = torch.optim.AdamW(model.parameters(), lr=0.01)
    Trainer(options).train(model, batches(), optimizer)
    return model, optimizer


@pytest.mark.parametrize("first,then", [("bf16", "fp32"), ("fp32", "bf16")])
def test_resume_on_another_precision(tmp_path, first, then):
    train(tmp_path, first, epochs=1)
    saved = torch.load(tmp_path / "checkpoints" / "last" / "model.pt", weights_only=True)
    assert all(v.dtype == torch.float32 for v in saved.values())  # autocast never reaches the saved weights
    model, optimizer = train(tmp_path, then, epochs=2, resume=True)
    info = json.loads((tmp_path / "checkpoints" / "last" / INFO_FILE).read_text())
    assert (info["epoch"], info["global_step"]) == (3, 12)  # the second run went on from step 6
    state = optimizer.state[model.linear.weight]
    assert int(state["step"]) == 12 and state["exp_avg"].dtype == torch.float32
    assert not torch.equal(model.linear.weight, saved["linear.weight"])


def test_a_gpu_fp16_checkpoint_resumes_on_a_cpu(tmp_path):
    """What a CUDA fp16 run writes beyond a CPU run's: CUDA RNG states (of 8 devices) and the scaler's state."""
    train(tmp_path, "fp32", epochs=1)
    path = Path(tmp_path) / "checkpoints" / "last" / STATE_FILE
    state = torch.load(path, weights_only=False)
    state["rng"][0]["cuda"] = [torch.zeros(16, dtype=torch.uint8)] * 8
    state["scaler"] = torch.amp.GradScaler("cpu", init_scale=2.0**10).state_dict()
    torch.save(state, path)
    model, optimizer = train(tmp_path, "fp32", epochs=2, resume=True)
    assert int(optimizer.state[model.linear.weight]["step"]) == 12


# ---- pre-training: the masked tokens gathered without a device sync -------------------------------------------
def test_masked_positions_give_the_boolean_masks_loss():
    from transformers import BertConfig, BertForMaskedLM

    from claf.pretrain.model import PretrainModel

    torch.manual_seed(0)
    config = BertConfig(vocab_size=50, hidden_size=16, num_hidden_layers=1, num_attention_heads=2, intermediate_size=32)
    model = PretrainModel(BertForMaskedLM(config)).eval()
    ids = torch.randint(5, 50, (3, 7))
    labels = torch.full_like(ids, -100)
    labels[0, 1], labels[1, 4], labels[1, 6], labels[2, 0] = 7, 9, 11, 13
    batch = {"input_ids": ids, "attention_mask": torch.ones_like(ids), "labels": labels}
    positions = torch.nonzero(labels.reshape(-1) != -100).squeeze(-1)
    with torch.no_grad():
        by_mask = model(batch)
        by_positions = model(dict(batch, masked_positions=positions))
    assert by_positions.loss == by_mask.loss
    assert by_positions.mlm_count == by_mask.mlm_count == 4
