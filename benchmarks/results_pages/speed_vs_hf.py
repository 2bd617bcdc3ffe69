"""The "against Hugging Face" page: fine-tuning vs HF ``Trainer`` and pre-training vs ``BertForMaskedLM``."""

from .common import load, num, page, provenance, table

PAGE = "speed-vs-hf.md"
TITLE = "Speed against Hugging Face"
SUMMARY = "fine-tuning against HF Trainer and pre-training against BertForMaskedLM, before and after issue 23"
SOURCES = ["house2_results.json"]
SOURCE = SOURCES[0]


def finetune(section: dict, top: dict) -> list[str]:
    lines = ["## Fine-tuning: this trainer against HF `Trainer` (MiniLM, SST-2)", ""]
    lines += provenance({**top, **section}, SOURCE, "'finetune_vs_hf'")
    lines += [f"Runs in the order {section['order']}.", ""]
    rows = [
        [
            tree,
            i + 1,
            num(r["claf_train_sps"]),
            num(r["hf_train_sps"]),
            f"{r['train_x_hf']:.2f}x",
            f"{r['eval_x_hf']:.2f}x",
            num(r["claf_dev_accuracy"], 2),
        ]
        for tree in ("before", "after")
        for i, r in enumerate(section[tree])
    ]
    header = [
        "tree",
        "round",
        "claf train samples/s",
        "HF train samples/s",
        "train vs HF",
        "eval vs HF",
        "dev accuracy",
    ]
    lines += table(header, rows)
    if section.get("summary"):
        lines += [f"Summary: {section['summary']}.", ""]
    return lines


def pretrain(section: dict, top: dict) -> list[str]:
    lines = ["## Pre-training: larva_kor_tiny against `BertForMaskedLM` + the HF collator", ""]
    lines += provenance({**top, **section}, SOURCE, "'pretrain_vs_hf'")
    lines += [f"Runs in the order {section['order']}.", ""]
    rows = [
        [
            tree,
            num(section[tree]["larva_instances_per_s"]),
            num(section[tree]["hf_instances_per_s"]),
            f"{section[tree]['x_hf']:.2f}x",
            num(section[tree]["max_abs_loss_gap_after_warmup"], 3),
        ]
        for tree in ("before", "after")
    ]
    return lines + table(["tree", "LaRva instances/s", "HF instances/s", "vs HF", "max loss gap after warm-up"], rows)


def render() -> str:
    data = load(SOURCE)
    top = {k: v for k, v in data.items() if not isinstance(v, dict)}
    body = finetune(data["finetune_vs_hf"], top) + pretrain(data["pretrain_vs_hf"], top)
    intro = f"What: {data['what']}." if data.get("what") else ""
    return page(TITLE, SOURCES, body, intro)
