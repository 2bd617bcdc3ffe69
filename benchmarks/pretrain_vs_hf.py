"""(d) Pre-training instances/s of larva_kor_tiny (masked-only LM head, our pipeline) vs transformers'
BertForMaskedLM fed by DataCollatorForLanguageModeling, on the same instances, precision and
initial weights, in one run (steps interleaved), plus both loss curves.

    python benchmarks/pretrain_vs_hf.py [--steps 12] [--batch_size 64] [--length 128]
"""

import argparse
import copy
import time

import numpy as np
from pretrain_common import prepared, recipe, save


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=12)
    parser.add_argument("--batch_size", type=int, default=64)
    parser.add_argument("--length", type=int, default=128)
    args = parser.parse_args()
    import torch
    from transformers import DataCollatorForLanguageModeling

    from claf.config.specs.pretrain import InstancesSpec
    from claf.learn.optimizers import adamw
    from claf.learn.precision import autocast
    from claf.pretrain.instances import Specials
    from claf.pretrain.masking import Masker
    from claf.pretrain.model import PretrainModel, build_net
    from claf.pretrain.schedules import LengthSchedule, MaskSchedule
    from claf.pretrain.stream import PretrainBatches, StepLayout

    cfg = recipe()
    tokenizer, corpus = prepared()
    specials = Specials(tokenizer)
    stream = PretrainBatches(
        corpus,
        specials,
        LengthSchedule([[None, args.length, args.batch_size]]),
        Masker(specials, "subword"),
        MaskSchedule(),
        StepLayout(steps_per_epoch=args.steps),
        InstancesSpec(format="full_sentence"),
    )
    torch.manual_seed(0)
    net = build_net(dict(cfg.model.transformers_config), tokenizer, "mlm", None, args.length)
    ours, theirs = PretrainModel(net), copy.deepcopy(net)
    opt_ours, opt_theirs = adamw(ours, 1e-3), adamw(theirs, 1e-3)
    collator = DataCollatorForLanguageModeling(tokenizer, mlm_probability=0.15)
    precision = cfg.trainer.run_precision
    seconds = {"larva": 0.0, "hf": 0.0}
    losses = {"larva": [], "hf": []}
    batches = stream.epoch(1)
    for step in range(args.steps):
        start = time.perf_counter()
        batch = next(batches)  # our pipeline: instances + masks from the shards
        with autocast(precision):
            loss = ours(batch).loss
        loss.backward()
        opt_ours.step()
        opt_ours.zero_grad(set_to_none=True)
        seconds["larva"] += time.perf_counter() - start
        losses["larva"].append(float(loss))

        ids = np.where(batch["labels"].numpy() != -100, batch["labels"].numpy(), batch["input_ids"].numpy())
        rows = [{"input_ids": r[: int(m.sum())].tolist()} for r, m in zip(ids, batch["attention_mask"].numpy())]
        start = time.perf_counter()
        hf_batch = collator(rows)  # the same instances, masked by the collator
        with autocast(precision):
            loss = theirs(**hf_batch).loss
        loss.backward()
        opt_theirs.step()
        opt_theirs.zero_grad(set_to_none=True)
        seconds["hf"] += time.perf_counter() - start
        losses["hf"].append(float(loss))
        print(step, {k: round(v[-1], 3) for k, v in losses.items()}, {k: round(v, 1) for k, v in seconds.items()})
    warm = 2  # the loss gap is compared after the first steps (both start from the same ~ln(vocab) loss)
    n = args.steps * args.batch_size
    rate = {k: n / v for k, v in seconds.items()}
    save(
        "d_pretraining_vs_hf",
        {
            "batch_shape": [args.batch_size, args.length],
            "steps": args.steps,
            "precision": precision,
            "larva_instances_per_s": round(rate["larva"], 1),
            "hf_bert_mlm_instances_per_s": round(rate["hf"], 1),
            "speedup": round(rate["larva"] / rate["hf"], 2),
            "loss_larva": [round(x, 3) for x in losses["larva"]],
            "loss_hf": [round(x, 3) for x in losses["hf"]],
            "max_abs_loss_gap_after_warmup": round(
                float(np.max(np.abs(np.array(losses["larva"][warm:]) - np.array(losses["hf"][warm:])))), 3
            ),
        },
    )


if __name__ == "__main__":
    main()
