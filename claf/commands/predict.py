"""``python predict.py <run dir or checkpoint> --text "..."``: predictions as JSON lines.

python predict.py logs/klue/nsmc_bert --text "정말 재밌어요"
python predict.py logs/klue/korquad_bert --question "..." --context "..."
python predict.py logs/klue/nsmc_bert --input in.jsonl --output out.jsonl
python predict.py logs/klue/nsmc_bert -i
"""

import argparse
import json
import sys

from claf.commands.common import guarded, setup_logging
from claf.errors import UserError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="predict.py", description="Predict with a trained run or checkpoint.")
    parser.add_argument("checkpoint", help="a run folder (its checkpoints/best is used) or a checkpoint directory")
    parser.add_argument("--text", help="classification input")
    parser.add_argument("--text_pair", help="second text for sentence-pair tasks")
    parser.add_argument("--task", help="the task of a multi-task model to predict with")
    parser.add_argument("--question", help="QA question (with --context)")
    parser.add_argument("--context", help="QA context (with --question)")
    parser.add_argument("--input", help="JSON lines file of inputs")
    parser.add_argument("--output", help="JSON lines file for the predictions (default: stdout)")
    parser.add_argument("-i", "--interactive", action="store_true", help="read inputs at a prompt")
    parser.add_argument(
        "--backend",
        default="torch",
        help="torch (fp32), torch-bf16, torch-fp16 (GPU), onnx, onnx-int8 (exported on first use)",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    setup_logging()

    def run() -> int:
        from claf.experiment import find_checkpoint
        from claf.predictor import Predictor

        predictor = Predictor(find_checkpoint(args.checkpoint), backend=args.backend)  # a missing one: one line, exit 1
        if args.interactive:
            return interactive(predictor, args.task)
        records = read_records(args, parser, predictor)
        results = predictor.predict(records)
        lines = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in results)
        if args.output:
            from claf.atomic import atomic_write_text

            atomic_write_text(args.output, lines)
        else:
            sys.stdout.write(lines)
        return 0

    return guarded(run)


def read_records(args, parser, predictor) -> list[dict]:
    if args.input:
        records = []
        with open(args.input, encoding="utf-8-sig") as f:  # a BOM (Windows editors) is not JSON
            for line_no, line in enumerate(f, 1):
                if line.strip():
                    try:
                        records.append(json.loads(line))
                    except json.JSONDecodeError as e:
                        raise UserError(f"{args.input}:{line_no}: invalid JSON ({e.msg})") from None
        return records
    given = {f: getattr(args, f) for f in ("text", "text_pair", "question", "context") if getattr(args, f) is not None}
    if not given:
        parser.error("give the input fields (e.g. --text, or --question with --context), --input, or -i")
    record = dict(given, **({"task": args.task} if args.task else {}))
    fields = predictor.input_fields(args.task)
    missing = [f for f in fields if f not in record]
    if missing:
        parser.error(
            f"this model predicts from {', '.join('--' + f for f in fields)}; missing "
            f"{', '.join('--' + f for f in missing)}"
        )
    return [record]


def _ask(prompt: str) -> str | None:
    """Prompt on stderr so stdout carries only JSON; None at end of input."""
    sys.stderr.write(prompt)
    sys.stderr.flush()
    line = sys.stdin.readline()
    return line.strip() if line else None


def interactive(predictor, task: str | None = None) -> int:
    fields = predictor.input_fields(task)
    print("Enter inputs (empty line or Ctrl-D to quit).", file=sys.stderr)
    while True:
        record = {"task": task} if task else {}
        for field in fields:
            value = _ask(f"{field}> ")
            if not value:
                return 0
            record[field] = value
        print(json.dumps(predictor.predict([record])[0], ensure_ascii=False), flush=True)
