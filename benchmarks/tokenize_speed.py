"""Tokens/s of claf's bert_basic + wordpiece against transformers' BertTokenizerFast, same text, one run.

    CLAF_DATA_MIRROR=../shared/data python benchmarks/tokenize_speed.py [--lines 200000] [--rounds 3]

Both tokenize the first --lines reviews of corpus/ko/nsmc_raw_reviews.txt with the KoELECTRA
vocab (cased), in batches as the readers call them; rounds alternate and the best of each
counts. Prints a JSON line and writes benchmarks/tokenize_speed.json.
"""

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from provenance import stamp  # noqa: E402  (benchmarks/, this script's folder)


def tokens_per_second(tokenizer, texts, batch_size):
    start, tokens = time.perf_counter(), 0
    for i in range(0, len(texts), batch_size):
        tokens += sum(
            map(
                len,
                tokenizer(texts[i : i + batch_size], add_special_tokens=False, return_offsets_mapping=True)[
                    "input_ids"
                ],
            )
        )
    return tokens / (time.perf_counter() - start), tokens


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=200000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--batch_size", type=int, default=1000)
    parser.add_argument("--output", default=str(Path(__file__).with_name("tokenize_speed.json")))
    args = parser.parse_args(argv)
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "true")
    from transformers import BertTokenizerFast

    from claf.data.sources import open_text, resolve_data_file
    from claf.tokens.pipeline import component, compose
    from claf.tokens.vocab import read_wordpiece_vocab

    with open_text("corpus/ko/nsmc_raw_reviews.txt") as f:
        texts = [line.rstrip("\n") for _, line in zip(range(args.lines), f)]
    vocab = str(resolve_data_file("vocab/koelectra/vocab.txt"))
    start = time.perf_counter()
    ours = compose(
        component({"name": "bert_basic", "bert_basic": {"do_lower_case": False}}),
        component({"name": "wordpiece", "wordpiece": {"vocab_path": vocab}}),
    )
    load_ours = time.perf_counter() - start
    start = time.perf_counter()
    reference = BertTokenizerFast(vocab=read_wordpiece_vocab(vocab), do_lower_case=False)
    load_reference = time.perf_counter() - start
    best = {"claf": 0.0, "BertTokenizerFast": 0.0}
    counts = {}
    for _ in range(args.rounds):
        for name, tokenizer in (("claf", ours), ("BertTokenizerFast", reference)):
            speed, counts[name] = tokens_per_second(tokenizer, texts, args.batch_size)
            best[name] = max(best[name], speed)
    assert counts["claf"] == counts["BertTokenizerFast"], counts
    result = {
        "lines": len(texts),
        "tokens": counts["claf"],
        "claf_tokens_per_s": round(best["claf"]),
        "bert_fast_tokens_per_s": round(best["BertTokenizerFast"]),
        "ratio": round(best["claf"] / best["BertTokenizerFast"], 3),
        "load_s": {"claf": round(load_ours, 3), "BertTokenizerFast": round(load_reference, 3)},
        "cpus": os.cpu_count(),
        "rounds": args.rounds,
        "batch_size": args.batch_size,
        **stamp(),
    }
    print(json.dumps(result))
    Path(args.output).write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
