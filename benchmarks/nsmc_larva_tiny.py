"""NSMC accuracy: klue/nsmc_larva_tiny fine-tuned from the pre-trained larva-kor-tiny checkpoint vs
the same architecture from random initialisation, with the same fine-tuning budget.

    python benchmarks/nsmc_larva_tiny.py [--checkpoint larva-kor-tiny-4k] [--train_limit 10000]
"""

import argparse
import tempfile
import time

from pretrain_common import recipe, save


def finetune(model, log_dir, args):
    from claf.experiment import Experiment

    overrides = {
        "bert_for_seq_cls.pretrained_model_name": str(model),
        "data_reader.train_limit": args.train_limit,
        "data_reader.valid_limit": args.valid_limit,
        "trainer.num_epochs": args.epochs,
        "trainer.precision": "bf16",
        "trainer.log_dir": str(log_dir),
        "trainer.progress": False,
    }
    start = time.perf_counter()
    summary = Experiment("train", "klue/nsmc_larva_tiny", overrides=overrides)()
    return summary["best"]["valid/accuracy"], time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--checkpoint", default="larva-kor-tiny-4k")
    parser.add_argument("--train_limit", type=int, default=10000)
    parser.add_argument("--valid_limit", type=int, default=5000)
    parser.add_argument("--epochs", type=int, default=1)
    args = parser.parse_args()
    import torch

    from claf.hub.resolve import resolve_pretrained
    from claf.pretrain.model import build_net
    from claf.pretrain.tokenizer import load_tokenizer

    pretrained = resolve_pretrained(args.checkpoint)
    cfg = recipe()
    with tempfile.TemporaryDirectory() as tmp:
        tokenizer, _ = load_tokenizer(pretrained)
        torch.manual_seed(0)
        random_dir = f"{tmp}/random-init"
        net = build_net(
            dict(cfg.model.transformers_config),
            tokenizer,
            "mlm",
            None,
            max(length for _u, length, _b in cfg.schedule.sequence_length),
        )
        net.save_pretrained(random_dir)
        tokenizer.save_pretrained(random_dir)
        acc_pre, t_pre = finetune(args.checkpoint, f"{tmp}/pre", args)
        acc_rand, t_rand = finetune(random_dir, f"{tmp}/rand", args)
    save(
        "nsmc_pretrained_vs_random",
        {
            "checkpoint": args.checkpoint,
            "train_examples": args.train_limit,
            "valid_examples": args.valid_limit,
            "epochs": args.epochs,
            "precision": "bf16",
            "accuracy_pretrained": round(acc_pre, 2),
            "accuracy_random_init": round(acc_rand, 2),
            "gain": round(acc_pre - acc_rand, 2),
            "finetune_seconds": {"pretrained": round(t_pre), "random_init": round(t_rand)},
        },
    )


if __name__ == "__main__":
    main()
