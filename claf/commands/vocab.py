"""``python -m claf vocab``: build a vocab from a recipe, benchmark tokenizers.

python -m claf vocab build --base_config vocab/kor_32k_cased [--vocab.vocab_size 16000 ...]
python -m claf vocab bench minilm koelectra vocab/kor_32k_cased [--output DIR]
"""

import os
import sys

from claf.commands.args import Arg, Flag, Spec, config_spec, dispatch, parse
from claf.commands.common import guarded, resolve_from_argv, split_base_config

PROG = "python -m claf vocab"
SPECS = {
    "build": config_spec(f"{PROG} build", "Build a vocab from a vocab/<recipe> BaseConfig."),
    "bench": Spec(
        f"{PROG} bench",
        "Vocab benchmark on KorQuAD dev paragraphs.",
        (
            Arg("names", "tokenizer dirs, vocab/<recipe>, minilm, koelectra or hub names", nargs="+"),
            Flag("output", "folder for vocab_bench.json/.csv", default="benchmarks/vocab_bench", metavar="DIR"),
        ),
    ),
}


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "true")
    verbs = {
        "build": ("build a vocab from a recipe", lambda rest: guarded(lambda: build(rest))),
        "bench": ("benchmark tokenizers", lambda rest: guarded(lambda: bench(rest))),
    }
    return dispatch(PROG, verbs, argv)


def build(argv: list[str]) -> int:
    config, status = resolve_from_argv(argv, f"{PROG} build", kind="vocab")
    if status is not None:
        return status
    from claf.tokens.vocab_build import build_vocab

    out = build_vocab(config.to_dict(), split_base_config(argv)[0], log=lambda m: print(m, file=sys.stderr))
    print(out)
    return 0


def bench(argv: list[str]) -> int:
    args = parse(SPECS["bench"], argv)
    from claf.tokens.vocab_bench import bench as run_bench
    from claf.tokens.vocab_bench import table, write

    rows = run_bench(args.names)
    print(table(rows))
    out = write(rows, args.output)
    print(f"wrote {out}/vocab_bench.json and vocab_bench.csv", file=sys.stderr)
    return 0
