"""``python -m claf vocab``: build a vocab from a recipe, benchmark tokenizers.

python -m claf vocab build --base_config vocab/kor_32k_cased [--vocab.vocab_size 16000 ...]
python -m claf vocab bench minilm koelectra vocab/kor_32k_cased [--output DIR]
"""

import argparse
import os
import sys

from claf.commands.common import guarded, resolve_from_argv, split_base_config

USAGE = (
    "usage: python -m claf vocab {build --base_config vocab/<recipe> [--key value ...] | bench NAME... [--output DIR]}"
)


def main(argv: list[str] | None = None) -> int:
    argv = list(argv or [])
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "true")
    if not argv or argv[0] not in ("build", "bench"):
        print(USAGE, file=sys.stderr)
        return 2
    return guarded(lambda: (build if argv[0] == "build" else bench)(argv[1:]))


def build(argv: list[str]) -> int:
    config, status = resolve_from_argv(argv, "python -m claf vocab build", kind="vocab")
    if status is not None:
        return status
    from claf.tokens.vocab_build import build_vocab

    out = build_vocab(config.to_dict(), split_base_config(argv)[0], log=lambda m: print(m, file=sys.stderr))
    print(out)
    return 0


def bench(argv: list[str]) -> int:
    from claf.tokens.vocab_bench import bench as run_bench
    from claf.tokens.vocab_bench import table, write

    parser = argparse.ArgumentParser(
        prog="python -m claf vocab bench", description="Vocab benchmark on KorQuAD dev paragraphs."
    )
    parser.add_argument("names", nargs="+", help="tokenizer dirs, vocab/<recipe>, minilm, koelectra or hub names")
    parser.add_argument("--output", default="benchmarks/vocab_bench", help="folder for vocab_bench.json/.csv")
    args = parser.parse_args(argv)
    rows = run_bench(args.names)
    print(table(rows))
    out = write(rows, args.output)
    print(f"wrote {out}/vocab_bench.json and vocab_bench.csv", file=sys.stderr)
    return 0
