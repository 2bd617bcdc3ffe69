"""MLM (pretrain/larva_kor_tiny) vs ELECTRA (pretrain/electra_kor_tiny) at equal pre-training wall time.

Each objective is first timed over a few steps; its step budget is then the number of steps that
fits in ``--seconds`` (the sequence-length and n-gram schedules scaled to it: 90% of steps at 64
tokens, the rest at 128). The final checkpoints and random initialisations of both architectures
are fine-tuned on NSMC (klue/nsmc_larva_tiny) with each seed. Run it under the timing lock:

    flock /tmp/claf-timing.lock python benchmarks/electra_vs_mlm.py [--seconds 300] [--seeds 42 43 44]
"""

import argparse
import json
import os
import statistics
import tempfile
import time

from pretrain_common import ROOT
from provenance import stamp

RESULTS = ROOT / "benchmarks" / "electra_results.json"
RECIPES = {"mlm": "pretrain/larva_kor_tiny", "electra": "pretrain/electra_kor_tiny"}


def pretrain(recipe, tmp, steps, holdout_instances, tag):
    from claf.experiment import Experiment

    overrides = {
        "trainer.max_steps": steps,
        "checkpoint.save_every_steps": steps,
        "trainer.progress": False,
        "trainer.log_dir": f"{tmp}/{tag}",
        "corpus.prepared_dir": str(ROOT / "data" / "pretrain"),
        "schedule.sequence_length": [[max(1, int(0.9 * steps)), 64, 48], [None, 128, 24]],
        "schedule.ngram_share.end_step": steps,
        "evaluation.num_instances": holdout_instances,
        "trainer.verbose_step_count": 0,
    }
    started = time.perf_counter()
    summary = Experiment("pretrain", recipe, overrides=overrides)()
    last = summary["history"][-1]
    folder = f"{tmp}/{tag}/checkpoints/{summary['published'][-1]['name']}"
    return folder, last, time.perf_counter() - started


def random_init(recipe, folder):
    import torch

    from claf.config import resolve_config
    from claf.pretrain.build import build_model
    from claf.pretrain.tokenizer import load_tokenizer

    cfg = resolve_config(recipe, kind="pretrain")
    tokenizer, _ = load_tokenizer(cfg.tokenizer.name_or_path)
    torch.manual_seed(0)
    build_model(cfg.model, tokenizer, 128).net.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def finetune(model, log_dir, seed, args):
    from claf.experiment import Experiment

    overrides = {
        "bert_for_seq_cls.pretrained_model_name": str(model),
        "data_reader.train_limit": args.train_limit,
        "data_reader.valid_limit": args.valid_limit,
        "trainer.num_epochs": 1,
        "seed_num": seed,
        "trainer.precision": "bf16",
        "trainer.log_dir": str(log_dir),
        "trainer.progress": False,
    }
    return Experiment("train", "klue/nsmc_larva_tiny", overrides=overrides)()["best"]["valid/accuracy"]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=300)
    parser.add_argument("--calibration_steps", type=int, default=40)
    parser.add_argument("--seeds", type=int, nargs="+", default=[42, 43, 44])
    parser.add_argument("--train_limit", type=int, default=10000)
    parser.add_argument("--valid_limit", type=int, default=5000)
    args = parser.parse_args()
    result = {"seconds_budget": args.seconds, "load_before": os.getloadavg(), "objectives": {}}
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["CLAF_HUB_DIR"], os.environ["CLAF_CACHE"] = f"{tmp}/hub", f"{tmp}/cache"  # keep the index clean
        models = {}
        for objective, recipe in RECIPES.items():
            _, first, _ = pretrain(recipe, tmp, args.calibration_steps, 8, f"{objective}-calibration")
            rate = args.calibration_steps / first["train_time"]
            steps = int(args.seconds * rate)
            folder, last, wall = pretrain(recipe, tmp, steps, 256, objective)
            result["objectives"][objective] = {
                "recipe": recipe,
                "calibration_steps_per_second": round(rate, 2),
                "steps": steps,
                "train_seconds": round(last["train_time"], 1),
                "wall_seconds": round(wall, 1),
                "held_out": {
                    k.removeprefix("valid/"): round(v, 4)
                    for k, v in last.items()
                    if k.startswith("valid/") and "samples" not in k
                },
            }
            models[objective] = folder
            models[f"random_{objective}"] = random_init(recipe, f"{tmp}/random-{objective}")
        result["load_after_pretraining"] = os.getloadavg()
        scores = {
            name: [finetune(path, f"{tmp}/ft-{name}-{seed}", seed, args) for seed in args.seeds]
            for name, path in models.items()
        }
    result["nsmc"] = {
        "train_rows": args.train_limit,
        "test_rows": args.valid_limit,
        "epochs": 1,
        "learning_rate": 3e-4,
        "seeds": args.seeds,
        "accuracy": {k: [round(v, 2) for v in vs] for k, vs in scores.items()},
        "median": {k: round(statistics.median(vs), 2) for k, vs in scores.items()},
        "spread": {k: round(max(vs) - min(vs), 2) for k, vs in scores.items()},
    }
    result["load_after"] = os.getloadavg()
    result["measured"], result["cpu_count"] = time.strftime("%Y-%m-%d %H:%M"), os.cpu_count()
    with open("/proc/cpuinfo", encoding="utf-8") as f:
        result["cpu"] = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), "?")
    result.update(stamp())
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
