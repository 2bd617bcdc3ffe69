"""(a) Masked instances/s from shards vs transformers' DataCollatorForLanguageModeling (+ whole-word),
on the same tokenized instances and batch shapes; (b) storage: shards vs raw corpus vs a static
10-duplicate dataset.

    python benchmarks/pretrain_pipeline.py [--batches 40] [--batch_size 256] [--length 128]
"""

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
from pretrain_common import prepared, save


def ours(corpus, tokenizer, strategy, batch_size, length, batches):
    from claf.config.specs.pretrain import InstancesSpec
    from claf.pretrain.instances import Specials
    from claf.pretrain.masking import Masker
    from claf.pretrain.schedules import LengthSchedule, MaskSchedule
    from claf.pretrain.stream import PretrainBatches, StepLayout

    specials = Specials(tokenizer)
    stream = PretrainBatches(
        corpus,
        specials,
        LengthSchedule([[None, length, batch_size]]),
        Masker(specials, strategy),
        MaskSchedule(),
        StepLayout(steps_per_epoch=batches),
        InstancesSpec(format="full_sentence"),
    )
    stream.plan(length)  # plan building is a once-per-length cost, not per batch
    start = time.perf_counter()
    out = [b for b in stream.epoch(1)]
    seconds = time.perf_counter() - start
    return batches * batch_size / seconds, out


def theirs(tokenizer, instances, whole_word, batch_size):
    import torch
    from transformers import DataCollatorForLanguageModeling

    collator = DataCollatorForLanguageModeling(tokenizer, mlm_probability=0.15, whole_word_mask=whole_word)
    torch.manual_seed(0)
    start = time.perf_counter()
    for i in range(0, len(instances), batch_size):
        collator(instances[i : i + batch_size])
    return len(instances) / (time.perf_counter() - start)


def features(batches, whole_word):
    """The same instances as transformers features (lists; offsets encode the eojeol starts for WWM)."""
    rows = []
    for batch in batches:
        ids, mask = batch["input_ids"].numpy(), batch["attention_mask"].numpy()
        labels = batch["labels"].numpy()
        original = np.where(labels != -100, labels, ids)
        for r in range(len(ids)):
            n = int(mask[r].sum())
            row = {"input_ids": original[r, :n].tolist()}
            if whole_word:  # the collator cannot pad offsets: pad the row to the batch width ourselves
                width = ids.shape[1]
                starts = batch["word_starts"][r, :n] if "word_starts" in batch else np.ones(n, bool)
                row = {
                    "input_ids": row["input_ids"] + [0] * (width - n),
                    "attention_mask": [1] * n + [0] * (width - n),
                    "offset_mapping": _offsets(starts) + [(0, 0)] * (width - n),
                }
            rows.append(row)
    return rows


def _offsets(starts):
    out, pos = [], 0
    for s in starts:
        pos += 1 if s else 0  # a gap before every new word
        out.append((pos, pos + 1))
        pos += 1
    return out


def storage(corpus, tokenizer, length):
    """Bytes of one static masked copy of the corpus (int32 ids/labels, int8 masks), x10."""
    from claf.pretrain import rng
    from claf.pretrain.instances import Specials, build_instances
    from claf.pretrain.masking import Masker
    from claf.pretrain.plans import Plan

    specials = Specials(tokenizer)
    plan = Plan(corpus, "full_sentence", length)
    masker = Masker(specials, "subword")
    with tempfile.TemporaryDirectory() as tmp:
        total = 0
        for start in range(0, len(plan), 4096):
            idx = np.arange(start, min(start + 4096, len(plan)))
            keys = rng.instance_keys(0, 0, idx, length)
            b = masker(build_instances(plan, idx, keys, specials), keys)
            path = Path(tmp) / f"{start}.npz"
            np.savez(
                path,
                input_ids=b["input_ids"].astype(np.int32),
                labels=b["labels"].astype(np.int32),
                attention_mask=b["attention_mask"].astype(np.int8),
                token_type_ids=b["token_type_ids"].astype(np.int8),
            )
            total += path.stat().st_size
            path.unlink()
    return total, len(plan)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--batches", type=int, default=40)
    parser.add_argument("--batch_size", type=int, default=256)
    parser.add_argument("--length", type=int, default=128)
    args = parser.parse_args()
    tokenizer, corpus = prepared()
    results = {"batch_shape": [args.batch_size, args.length], "batches": args.batches}
    kept = None
    for strategy in ("subword", "space", "ngram"):
        rates = []
        for _ in range(3):
            rate, out = ours(corpus, tokenizer, strategy, args.batch_size, args.length, args.batches)
            rates.append(rate)
        results[f"larva_{strategy}_instances_per_s"] = round(max(rates), 1)
        kept = kept or out
    plain = features(kept, whole_word=False)
    results["hf_collator_instances_per_s"] = round(
        max(theirs(tokenizer, plain, False, args.batch_size) for _ in range(3)), 1
    )
    try:
        wwm = features(_with_word_starts(kept, corpus, tokenizer, args), whole_word=True)
        results["hf_collator_wwm_instances_per_s"] = round(
            max(theirs(tokenizer, wwm, True, args.batch_size) for _ in range(3)), 1
        )
    except Exception as e:  # pragma: no cover - older transformers
        results["hf_collator_wwm_error"] = str(e)
    results["speedup_subword_vs_hf"] = round(
        results["larva_subword_instances_per_s"] / results["hf_collator_instances_per_s"], 2
    )
    if "hf_collator_wwm_instances_per_s" in results:
        results["speedup_space_vs_hf_wwm"] = round(
            results["larva_space_instances_per_s"] / results["hf_collator_wwm_instances_per_s"], 2
        )
    save("a_pipeline_throughput", results)
    static, instances = storage(corpus, tokenizer, args.length)
    report = corpus.report()
    save(
        "b_storage",
        {
            "raw_corpus_bytes": report["raw_bytes"],
            "shard_bytes": report["shard_bytes"],
            "shards_vs_raw": report["shards_vs_raw"],
            "static_one_copy_bytes": static,
            "static_10_duplicates_bytes": 10 * static,
            "instances_per_copy": instances,
            "static10_vs_shards": round(10 * static / report["shard_bytes"], 1),
            "static_format": "npz: int32 input_ids + labels, int8 attention_mask + token_type_ids, "
            f"{args.length} tokens per instance (zip, uncompressed)",
        },
    )


def _with_word_starts(batches, corpus, tokenizer, args):
    """The benchmark batches again, keeping each token's word-start flag for the WWM offsets."""
    from claf.pretrain import rng
    from claf.pretrain.instances import Specials, build_instances
    from claf.pretrain.plans import Plan

    specials = Specials(tokenizer)
    plan = Plan(corpus, "full_sentence", args.length)
    order = plan.epoch_order(42, 0)
    out = []
    for b in range(args.batches):
        idx = order[b * args.batch_size : (b + 1) * args.batch_size]
        built = build_instances(plan, idx, rng.instance_keys(42, 0, idx, args.length), specials)
        import torch

        out.append(
            {
                "input_ids": torch.from_numpy(built["input_ids"]),
                "attention_mask": torch.from_numpy(built["attention_mask"]),
                "labels": torch.full_like(torch.from_numpy(built["input_ids"]), -100),
                "word_starts": built["word_starts"],
            }
        )
    return out


if __name__ == "__main__":
    main()
