"""``python -m claf eval <run dir or checkpoint> [--backend B[,B...]] [--key value ...]``: validation scores.

With several backends (``--backend torch,onnx,onnx-int8``) each is scored and compared with the
first: the score's delta and the share of predictions that agree.
"""

import json

from claf.commands.args import Arg, Flag, Spec, parse
from claf.commands.common import guarded, setup_logging

SPECS = {
    "": Spec(
        "python -m claf eval",
        "Score a trained run on its validation data (the rest of the command line: --key value overrides).",
        (
            Arg("checkpoint", "a run folder (its checkpoints/best is used) or a checkpoint directory"),
            Flag(
                "backend", "torch, torch-bf16, torch-fp16, onnx, onnx-int8; a comma list compares them with the first"
            ),
            Flag("output", "with several backends: write the comparison as JSON here"),
        ),
    )
}


def main(argv: list[str] | None = None) -> int:
    args, overrides = parse(SPECS[""], argv, rest=True)
    setup_logging()

    def run() -> int:
        from claf.config.overrides import split_argv
        from claf.experiment import Experiment

        parsed = split_argv(overrides) if overrides else None
        backends = [b.strip() for b in (args.backend or "").split(",") if b.strip()]
        if len(backends) > 1:
            from claf.runtime.backends import check_backend
            from claf.serve.accuracy import compare_backends, format_rows

            for backend in backends:
                check_backend(backend)
            rows = compare_backends(args.checkpoint, backends, parsed)
            print(format_rows(rows))
            if args.output:
                from claf.atomic import atomic_write_text

                atomic_write_text(args.output, json.dumps(rows, indent=2) + "\n")
            return 0
        scores = Experiment("eval", args.checkpoint, overrides=parsed, backend=backends[0] if backends else None)()
        print(json.dumps(scores, indent=2, ensure_ascii=False))
        return 0

    return guarded(run)
