"""(c) Wall time of a variable-sequence-length schedule vs all-512 for the same number of steps
(same tokens per step), through the real pre-training run (larva_kor_tiny, bf16).

    python benchmarks/pretrain_seqlen.py [--steps 20]
"""

import argparse
import tempfile
import time

from pretrain_common import ROOT, save


def run(schedule, steps, log_dir):
    from claf.experiment import Experiment

    overrides = {
        "schedule.sequence_length": schedule,
        "trainer.max_steps": steps,
        "checkpoint.save_every_steps": steps,
        "evaluation.holdout_documents": 0,
        "trainer.log_dir": str(log_dir),
        "trainer.progress": False,
        "trainer.verbose_step_count": 0,
        "corpus.prepared_dir": str(ROOT / "data" / "pretrain"),
    }
    start = time.perf_counter()
    Experiment("pretrain", "pretrain/larva_kor_tiny", overrides=overrides)()
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=20)
    args = parser.parse_args()
    cut = int(args.steps * 0.9)
    variable = [[cut, 128, 32], [None, 512, 8]]  # 90% of the steps at 128 tokens, then 512 (4,096 tokens/step)
    fixed = [[None, 512, 8]]
    with tempfile.TemporaryDirectory() as tmp:
        import os

        os.environ["CLAF_HUB_DIR"] = os.path.join(tmp, "hub")  # keep benchmark checkpoints out of the real store
        times = {"variable": [], "all_512": []}
        for round_ in range(2):  # interleaved, so background load hits both alike
            times["variable"].append(run(variable, args.steps, f"{tmp}/v{round_}"))
            times["all_512"].append(run(fixed, args.steps, f"{tmp}/f{round_}"))
    best = {k: min(v) for k, v in times.items()}
    save(
        "c_variable_sequence_length",
        {
            "steps": args.steps,
            "variable_schedule": variable,
            "fixed_schedule": fixed,
            "tokens_per_step": 4096,
            "variable_seconds": round(best["variable"], 1),
            "all_512_seconds": round(best["all_512"], 1),
            "saving": f"{100 * (1 - best['variable'] / best['all_512']):.0f}%",
            "note": "wall time of the whole run incl. start-up (corpus reuse, model build, one checkpoint); best of 2",
        },
    )


if __name__ == "__main__":
    main()
