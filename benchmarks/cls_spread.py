"""What a checkpoint's frozen top layer tells a classifier: its [CLS] vector against the mean of its tokens.

    python benchmarks/cls_spread.py --models larva-kor-tiny-s42-8k larva-kor-tiny-electra-g25-6.5k \\
        --random larva-kor-tiny-s42-8k

Issue 25 asks why the ELECTRA checkpoint fine-tunes far worse than random init. A sequence head reads the
top layer's [CLS] vector. ELECTRA's discriminator is never asked anything about [CLS] (it is never
replaced), so it may learn to make that vector the same for every sentence. For each model, on NSMC rows
as the factory's NSMC job reads them, this measures:
- ``cls_attention_entropy``: how evenly the top layer's [CLS] spreads its attention over the sentence
  (entropy over log length, averaged over heads and sentences: 1 uniform, 0 one token);
- ``cls_spread``: how much the top-layer [CLS] vector varies across sentences, as the share of the
  variance that the top layer's token vectors have (0: the same vector for every sentence);
- ``probe_cls`` / ``probe_mean``: NSMC dev accuracy of a logistic regression trained on frozen [CLS]
  vectors, or on the mean of the token vectors, of the training rows (``majority``: the floor).

Writes ``benchmarks/cls_spread.json`` (one entry per machine kind and date).
"""

import argparse
import json
import shlex
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

HERE = Path(__file__).resolve().parent
OUT = HERE / "cls_spread.json"
NSMC = "klue/nsmc_larva_tiny"


def nsmc_rows(train: int, dev: int) -> tuple[list, list]:
    from claf.config import resolve_config
    from claf.experiment import build_reader

    cfg = resolve_config(NSMC, {"data_reader.train_limit": train, "data_reader.valid_limit": dev}, kind="finetune")
    return build_reader(cfg).read_splits(cfg.data_reader)


def features(model_dir: str, rows: list, max_length: int) -> tuple:
    """(top-layer [CLS] vectors, mean token vectors, every real token's vector, per-sentence entropy of the
    top layer's [CLS] attention over the sentence's length, 1 = uniform) of ``rows``."""
    import torch
    from transformers import AutoModel, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModel.from_pretrained(model_dir, attn_implementation="eager").eval()
    cls, mean, tokens, entropy = [], [], [], []
    with torch.inference_mode():
        for start in range(0, len(rows), 128):
            texts = [r["text"] or "" for r in rows[start : start + 128]]
            batch = tokenizer(texts, truncation=True, max_length=max_length, padding=True, return_tensors="pt")
            out = model(**batch, output_attentions=True)
            top = out.last_hidden_state.float()
            mask = batch["attention_mask"].unsqueeze(-1).float()
            attention = out.attentions[-1][:, :, 0].float()  # [batch, heads, keys]: what [CLS] reads
            nats = -(attention * attention.clamp_min(1e-12).log()).sum(-1).mean(1)
            entropy.append(nats / mask.sum((1, 2)).clamp_min(2).log())
            cls.append(top[:, 0])
            mean.append((top * mask).sum(1) / mask.sum(1))
            tokens.append(top[batch["attention_mask"].bool()])
    return tuple(torch.cat(x).numpy() for x in (cls, mean, tokens, entropy))


def probe(train_x, train_y, dev_x, dev_y) -> float:
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    clf = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
    clf.fit(train_x, train_y)
    return round(100.0 * float((clf.predict(dev_x) == dev_y).mean()), 2)


def measure(model_dir: str, train: list, dev: list, max_length: int) -> dict:
    import numpy as np

    train_y = np.array([r["label"] for r in train])
    dev_y = np.array([r["label"] for r in dev])
    tr_cls, tr_mean, tokens, entropy = features(model_dir, train, max_length)
    dv_cls, dv_mean, _, _ = features(model_dir, dev, max_length)
    spread = float(tr_cls.var(0).sum() / tokens.var(0).sum())
    return {
        "cls_spread": round(spread, 4),
        "cls_attention_entropy": round(float(entropy.mean()), 3),
        "probe_cls": probe(tr_cls, train_y, dv_cls, dev_y),
        "probe_mean": probe(tr_mean, train_y, dv_mean, dev_y),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", nargs="+", required=True, help="checkpoint names, URLs or folders")
    parser.add_argument("--random", nargs="*", default=[], help="checkpoints whose architecture to add at random init")
    parser.add_argument("--train", type=int, default=3000)
    parser.add_argument("--dev", type=int, default=2000)
    parser.add_argument("--max_length", type=int, default=64)
    parser.add_argument("--kind", required=True, help="the machine kind this entry is for, e.g. 'AMX'")
    parser.add_argument("--out", default=str(OUT))
    args = parser.parse_args()

    import collections
    import tempfile

    from claf.factory.job import random_init
    from claf.hub.resolve import resolve_pretrained

    train, dev = nsmc_rows(args.train, args.dev)
    majority = collections.Counter(r["label"] for r in train).most_common(1)[0][0]
    results = {"majority": round(100.0 * sum(r["label"] == majority for r in dev) / len(dev), 2)}
    with tempfile.TemporaryDirectory() as tmp:
        sources = {name: resolve_pretrained(name) for name in args.models}
        for name in args.random:
            sources[f"{name} (random init)"] = random_init(name, Path(tmp) / "random" / name, 0)
        for name, folder in sources.items():
            started = time.perf_counter()
            results[name] = measure(folder, train, dev, args.max_length)
            print(name, results[name], f"{time.perf_counter() - started:.1f}s", flush=True)
    out = Path(args.out)
    runs = json.loads(out.read_text(encoding="utf-8")) if out.is_file() else {}
    runs[args.kind] = {
        "date": time.strftime("%Y-%m-%d"),
        "command": shlex.join(["python", "benchmarks/cls_spread.py", *sys.argv[1:]]),
        "rows": {"train": len(train), "dev": len(dev), "max_length": args.max_length},
        "models": results,
    }
    tmp_out = out.with_suffix(".json.tmp")
    tmp_out.write_text(json.dumps(runs, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    tmp_out.replace(out)


if __name__ == "__main__":
    main()
