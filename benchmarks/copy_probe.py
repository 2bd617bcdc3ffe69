"""What a pre-trained next-sentence head reads: copies on its own training instances, and KorSTS zero-shot.

    python benchmarks/copy_probe.py --corpus data/pretrain/<fingerprint> \\
        larva-kor-tiny-s42-8k larva-kor-tiny-graded-s42-8k

For each checkpoint (a hub name or a folder), P(other) is the head's probability that B comes from another
document. Written to ``benchmarks/copy_probe.json``:
- ``instances``: mean P(other) over 1,024 training instances of the tiny recipe's sentence pairs (64 tokens,
  copy_share 0.3, graded as the checkpoint's own recipe grades them), by kind: true next, random next, and
  copies by the share of B replaced;
- ``korsts``: on the first 400 KorSTS dev pairs, sentence 1 against itself in place, rotated, with a share
  of its tokens replaced by random vocabulary entries, against its gold partner and against another pair's
  sentence; and over all 1,500 dev pairs, the rank correlation (x 100) of -P(other) with the gold score.
"""

import argparse
import csv
import json
import random
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

OUT = Path(__file__).resolve().parent / "copy_probe.json"


def p_other(net, inputs: dict) -> np.ndarray:
    import torch

    with torch.no_grad():
        out = net(**{k: torch.as_tensor(v) for k, v in inputs.items()})
    return torch.softmax(out.seq_relationship_logits.float(), -1)[:, 1].numpy()


def pair_batch(tok, pairs: list) -> dict:
    """[CLS] A [SEP] B [SEP] from (A ids, B ids), each cut to 30 tokens, padded."""
    rows = [
        ([tok.cls_token_id, *a[:30], tok.sep_token_id, *b[:30], tok.sep_token_id], len(a[:30]) + 2) for a, b in pairs
    ]
    width = max(len(ids) for ids, _ in rows)
    ids = np.array([r + [tok.pad_token_id] * (width - len(r)) for r, _ in rows])
    types = np.array([[0] * a + [1] * (len(r) - a) + [0] * (width - len(r)) for r, a in rows])
    mask = np.array([[1] * len(r) + [0] * (width - len(r)) for r, _ in rows])
    return {"input_ids": ids, "token_type_ids": types, "attention_mask": mask}


def korsts(net, tok, mirror: Path) -> dict:
    from scipy.stats import spearmanr

    with open(mirror / "kor-nlu" / "KorSTS" / "sts-dev.tsv", encoding="utf-8") as f:
        rows = list(csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE))[1:]
    enc = [
        (tok(r[5], add_special_tokens=False)["input_ids"], tok(r[6], add_special_tokens=False)["input_ids"])
        for r in rows
    ]
    draw = random.Random(0)

    def rotated(a):
        k = draw.randrange(max(len(a), 1))
        return a[k:] + a[:k]

    def replaced(a, share):
        return [t if draw.random() >= share else draw.randrange(5, len(tok)) for t in a]

    head = enc[:400]
    out = {
        "copy in place": p_other(net, pair_batch(tok, [(a, a) for a, _ in head])).mean(),
        "copy rotated": p_other(net, pair_batch(tok, [(a, rotated(a)) for a, _ in head])).mean(),
    }
    for share in (0.25, 0.5, 0.75):
        out[f"in place, {share} replaced"] = p_other(
            net, pair_batch(tok, [(a, replaced(a, share)) for a, _ in head])
        ).mean()
    out["gold partner"] = p_other(net, pair_batch(tok, head)).mean()
    out["another pair's sentence"] = p_other(
        net, pair_batch(tok, [(a, head[(i + 7) % len(head)][1]) for i, (a, _) in enumerate(head)])
    ).mean()
    scores = np.concatenate([p_other(net, pair_batch(tok, enc[i : i + 250])) for i in range(0, len(enc), 250)])
    out = {k: round(float(v), 3) for k, v in out.items()}
    out["spearman(-P(other), gold) x 100"] = round(
        100 * float(spearmanr(-scores, [float(r[4]) for r in rows]).correlation), 1
    )
    return out


def instances(net, tok, corpus, recipe: dict) -> dict:
    from claf.pretrain import rng
    from claf.pretrain.instances import Specials, build_instances
    from claf.pretrain.plans import Plan

    noise, splice = recipe.get("copy_noise", 0.0), recipe.get("copy_splice", False)
    plan = Plan(corpus, "sentence_pair", 64, copy_share=0.3, copy_noise=noise or 1.0, copy_splice=splice)
    plain = Plan(corpus, "sentence_pair", 64)
    idx = np.random.default_rng(0).choice(len(plan), 1024, replace=False)
    keys = rng.instance_keys(999, 5, idx)
    batch, before = build_instances(plan, idx, keys, Specials(tok)), build_instances(plain, idx, keys, Specials(tok))
    p = p_other(net, {k: batch[k] for k in ("input_ids", "token_type_ids", "attention_mask")})
    share, label = batch["next_sentence_target"], batch["next_sentence_label"]
    copy = (batch["input_ids"] != before["input_ids"]).any(axis=1) | ((share > 0) & (share < 1))
    out = {"copies": round(float(copy.mean()), 3), "true next": round(float(p[(label == 0) & ~copy].mean()), 3)}
    out["random next"] = round(float(p[label == 1].mean()), 3)
    for lo, hi, name in (
        (0, 0.01, "copy, none replaced"),
        (0.01, 0.5, "copy, under half replaced"),
        (0.5, 1.01, "copy, half or more replaced"),
    ):
        m = copy & (share >= lo) & (share < hi)
        out[name] = round(float(p[m].mean()), 3) if m.any() else None
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("checkpoints", nargs="+", help="hub names or folders of mlm_nsp checkpoints")
    ap.add_argument("--corpus", required=True, help="the prepared corpus folder of pretrain/larva_kor_tiny")
    args = ap.parse_args()
    import torch
    from transformers import AutoTokenizer, BertForPreTraining

    from claf.data.sources import mirror_root
    from claf.hub.resolve import resolve_pretrained
    from claf.pretrain.prepare import PreparedCorpus

    torch.set_num_threads(1)
    corpus = PreparedCorpus(args.corpus)
    from payoff_compare import cpu_kind

    data = json.loads(OUT.read_text(encoding="utf-8")) if OUT.is_file() else {}
    data.update(cpu=cpu_kind(), date=time.strftime("%Y-%m-%d"))
    data["command"] = "python benchmarks/copy_probe.py --corpus PREPARED " + " ".join(args.checkpoints)
    data.setdefault("checkpoints", {})
    for name in args.checkpoints:
        folder = Path(resolve_pretrained(name))
        recipe = json.loads((folder / "claf_pretrain.json").read_text(encoding="utf-8")).get("config", {})
        tok, net = AutoTokenizer.from_pretrained(folder), BertForPreTraining.from_pretrained(folder).eval()
        data["checkpoints"][name] = {
            "instances": instances(net, tok, corpus, recipe.get("instances", {})),
            "korsts": korsts(net, tok, Path(mirror_root())),
        }
        print(name, json.dumps(data["checkpoints"][name]))
    OUT.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
