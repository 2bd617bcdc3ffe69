"""``python -m claf vocab``: build a vocab from a recipe, benchmark tokenizers.

    python -m claf vocab build --base_config vocab/kor_32k_cased [--vocab.vocab_size 16000 ...]
    python -m claf vocab bench minilm koelectra vocab/kor_32k_cased [--output DIR]
"""

import argparse
import os
import sys

from claf.config.errors import ConfigError

USAGE = "usage: python -m claf vocab {build --base_config vocab/<recipe> [--key value ...] | bench NAME... [--output DIR]}"


def main(argv):
    argv = list(argv)
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "true")
    if not argv or argv[0] not in ("build", "bench"):
        print(USAGE, file=sys.stderr)
        return 2
    try:
        return (_build if argv[0] == "build" else _bench)(argv[1:])
    except (ConfigError, FileNotFoundError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2


def _build(argv):
    from claf.cli import split_base_config
    from claf.config import resolve_config
    from claf.tokens.vocab_build import RECIPE_BLOCKS, build_vocab

    base, overrides, want_help = split_base_config(argv)
    if want_help or base is None:
        print(USAGE, file=sys.stderr)
        return 0 if want_help else 2
    config = resolve_config(base, overrides, required=RECIPE_BLOCKS)
    out = build_vocab(config.to_dict(), base, log=lambda m: print(m, file=sys.stderr))
    print(out)
    return 0


def _bench(argv):
    from claf.tokens.vocab_bench import bench, table, write

    parser = argparse.ArgumentParser(prog="python -m claf vocab bench",
                                     description="Vocab benchmark on KorQuAD dev paragraphs.")
    parser.add_argument("names", nargs="+", help="tokenizer dirs, vocab/<recipe>, minilm, koelectra or hub names")
    parser.add_argument("--output", default="benchmarks/vocab_bench", help="folder for vocab_bench.json/.csv")
    args = parser.parse_args(argv)
    rows = bench(args.names)
    print(table(rows))
    out = write(rows, args.output)
    print(f"wrote {out}/vocab_bench.json and vocab_bench.csv", file=sys.stderr)
    return 0
