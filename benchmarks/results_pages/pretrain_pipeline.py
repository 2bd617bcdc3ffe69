"""The pre-training pipeline page: masking throughput, storage, sequence-length schedules, the step against HF."""

from .common import load, num, page, provenance, table

PAGE = "pretrain-pipeline.md"
TITLE = "Pre-training pipeline"
SUMMARY = "masked instances/s against the HF collator, storage of shards, variable sequence length, steps vs HF"
SOURCES = ["pretrain_results.json"]
SOURCE = SOURCES[0]


def throughput(s: dict) -> list[str]:
    lines = ["## (a) Masked instances per second from shards", ""]
    lines += provenance(s, SOURCE, "'a_pipeline_throughput'")
    lines += [f"Batches of {s['batch_shape'][0]} x {s['batch_shape'][1]} tokens, {s['batches']} batches.", ""]
    rows = [
        ["LaRva, subword masking", num(s["larva_subword_instances_per_s"])],
        ["LaRva, whole-word (space) masking", num(s["larva_space_instances_per_s"])],
        ["LaRva, n-gram masking", num(s["larva_ngram_instances_per_s"])],
        ["HF DataCollatorForLanguageModeling", num(s["hf_collator_instances_per_s"])],
        ["HF DataCollatorForWholeWordMask", num(s["hf_collator_wwm_instances_per_s"])],
    ]
    lines += table(["pipeline", "instances/s"], rows)
    return lines + [
        f"Subword against the HF collator: {s['speedup_subword_vs_hf']:.2f}x; whole-word: {s['speedup_space_vs_hf_wwm']:.2f}x.",
        "",
    ]


def storage(s: dict) -> list[str]:
    lines = ["## (b) Storage: shards against the raw corpus and a static dataset", ""]
    lines += provenance(s, SOURCE, "'b_storage'")
    rows = [
        ["raw corpus", f"{s['raw_corpus_bytes']:,}", "1.00x"],
        ["shards", f"{s['shard_bytes']:,}", f"{s['shards_vs_raw']:.3f}x"],
        ["static dataset, one masked copy", f"{s['static_one_copy_bytes']:,}", ""],
        [
            "static dataset, 10 masked copies",
            f"{s['static_10_duplicates_bytes']:,}",
            f"{s['static10_vs_shards']:.1f}x the shards",
        ],
    ]
    lines += table(["what", "bytes", "ratio"], rows)
    return lines + [f"{s['instances_per_copy']:,} instances per copy; static format: {s['static_format']}.", ""]


def seqlen(s: dict) -> list[str]:
    lines = ["## (c) A variable sequence-length schedule against all-512", ""]
    lines += provenance(s, SOURCE, "'c_variable_sequence_length'")
    lines += [f"{s['steps']} steps of {s['tokens_per_step']:,} tokens; {s['note']}.", ""]
    rows = [
        [f"variable {s['variable_schedule']}", num(s["variable_seconds"])],
        [f"fixed {s['fixed_schedule']}", num(s["all_512_seconds"])],
    ]
    lines += table(["schedule [until step, length, batch]", "seconds"], rows)
    return lines + [f"Saving: {s['saving']}.", ""]


def against_hf(s: dict) -> list[str]:
    lines = ["## (d) Pre-training steps against `BertForMaskedLM` + the HF collator", ""]
    lines += provenance(s, SOURCE, "'d_pretraining_vs_hf'")
    lines += [
        f"Batches of {s['batch_shape'][0]} x {s['batch_shape'][1]}, {s['steps']} steps, {s['precision']}, "
        "the same instances and initial weights.",
        "",
    ]
    lines += table(
        ["model", "instances/s"],
        [
            ["larva_kor_tiny", num(s["larva_instances_per_s"])],
            ["BertForMaskedLM", num(s["hf_bert_mlm_instances_per_s"])],
        ],
    )
    lines += [
        f"Speed-up {s['speedup']:.2f}x; largest loss gap after warm-up {s['max_abs_loss_gap_after_warmup']:.3f}.",
        "",
    ]
    lines += table(
        ["step", "LaRva loss", "HF loss"],
        [[i + 1, f"{a:.3f}", f"{b:.3f}"] for i, (a, b) in enumerate(zip(s["loss_larva"], s["loss_hf"]))],
    )
    return lines


def nsmc(s: dict) -> list[str]:
    lines = ["## NSMC from a pre-trained checkpoint against random init", ""]
    lines += provenance(s, SOURCE, "'nsmc_pretrained_vs_random'")
    lines += [
        f"`{s['checkpoint']}`, {s['train_examples']:,} training / {s['valid_examples']:,} dev examples, "
        f"{s['epochs']} epoch, {s['precision']}; one run each, so no interval and no verdict.",
        "",
    ]
    rows = [
        ["pre-trained", num(s["accuracy_pretrained"], 2), s["finetune_seconds"]["pretrained"]],
        ["random init", num(s["accuracy_random_init"], 2), s["finetune_seconds"]["random_init"]],
    ]
    return lines + table(["start", "accuracy", "fine-tuning s"], rows)


def render() -> str:
    data = load(SOURCE)
    body = (
        throughput(data["a_pipeline_throughput"])
        + storage(data["b_storage"])
        + seqlen(data["c_variable_sequence_length"])
        + against_hf(data["d_pretraining_vs_hf"])
        + nsmc(data["nsmc_pretrained_vs_random"])
    )
    return page(TITLE, SOURCES, body, notes=(data.get("provenance_note", ""),))
