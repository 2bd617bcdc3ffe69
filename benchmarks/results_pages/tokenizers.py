"""The tokenizers page: claf's tokenizer against BertTokenizerFast, and the vocab benchmark."""

from .common import load, num, page, provenance, table

PAGE = "tokenizers.md"
TITLE = "Tokenizer speed and vocabularies"
SUMMARY = "tokens/s of claf's tokenizer against BertTokenizerFast; vocabularies on KorQuAD paragraphs"
SOURCES = ["tokenize_speed.json", "vocab_bench/vocab_bench.json", "vocab_bench/provenance.json"]


def speed(data: dict) -> list[str]:
    lines = ["## Tokens per second", ""]
    lines += provenance(data, "tokenize_speed.json", "the file")
    lines += [
        f"The first {data['lines']:,} NSMC reviews ({data['tokens']:,} tokens), batches of {data['batch_size']:,}, "
        f"best of {data['rounds']} alternating rounds, {data['cpus']} CPUs.",
        "",
    ]
    load_s = data.get("load_s", {})
    rows = [
        ["claf (bert_basic + wordpiece)", f"{data['claf_tokens_per_s']:,}", num(load_s.get("claf"), 3)],
        [
            "transformers BertTokenizerFast",
            f"{data['bert_fast_tokens_per_s']:,}",
            num(load_s.get("BertTokenizerFast"), 3),
        ],
    ]
    lines += table(["tokenizer", "tokens/s", "load s"], rows)
    return lines + [f"claf / BertTokenizerFast: {data['ratio']:.3f}.", ""]


def vocab(rows: list[dict], meta: dict) -> list[str]:
    lines = ["## Vocabularies on KorQuAD dev paragraphs", ""]
    lines += provenance(meta, "vocab_bench/provenance.json", "the file")
    return lines + table(
        [
            "tokenizer",
            "vocab size",
            "Hangul share",
            "tokens per paragraph",
            "[UNK] share",
            "chars per token",
            "paragraphs",
        ],
        [
            [
                r["tokenizer"],
                f"{r['vocab_size']:,}",
                f"{100 * r['hangul_share']:.1f}%",
                num(r["avg_tokens"]),
                f"{100 * r['unk_ratio']:.2f}%",
                num(r["chars_per_token"], 2),
                r["paragraphs"],
            ]
            for r in rows
        ],
    )


def render() -> str:
    data, meta = load("tokenize_speed.json"), load("vocab_bench/provenance.json")
    body = speed(data) + vocab(load("vocab_bench/vocab_bench.json"), meta)
    notes = (data.get("provenance_note", ""), meta.get("provenance_note", ""))
    return page(TITLE, SOURCES[:2], body, notes=notes)
