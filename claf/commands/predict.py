"""``python predict.py <run dir or checkpoint> --text "..."``: predictions as JSON lines.

python predict.py logs/klue/nsmc_bert --text "정말 재밌어요"
python predict.py logs/klue/korquad_bert --question "..." --context "..."
python predict.py logs/klue/nsmc_bert --input in.jsonl --output out.jsonl
python predict.py logs/klue/nsmc_bert -i
"""

import json
import sys

from claf.commands.args import Arg, Flag, Spec, UsageError, parse
from claf.commands.common import guarded, setup_logging
from claf.errors import UserError

SPECS = {
    "": Spec(
        "predict.py",
        "Predict with a trained run or checkpoint.",
        (
            Arg("checkpoint", "a run folder (its checkpoints/best is used) or a checkpoint directory"),
            Flag("text", "classification input"),
            Flag("text_pair", "second text for sentence-pair tasks"),
            Flag("task", "the task of a multi-task model to predict with"),
            Flag("question", "QA question (with --context)"),
            Flag("context", "QA context (with --question)"),
            Flag("input", "JSON lines file of inputs"),
            Flag("output", "JSON lines file for the predictions (default: stdout)"),
            Flag("interactive", "read inputs at a prompt", switch=True, short="-i"),
            Flag(
                "backend",
                "torch (fp32), torch-bf16, torch-fp16 (GPU), onnx, onnx-int8 (exported on first use)",
                default="torch",
            ),
        ),
    )
}


def main(argv: list[str] | None = None) -> int:
    args = parse(SPECS[""], argv)
    setup_logging()

    def run() -> int:
        from claf.experiment import find_checkpoint
        from claf.predictor import Predictor

        predictor = Predictor(find_checkpoint(args.checkpoint), backend=args.backend)  # a missing one: one line, exit 1
        if args.interactive:
            return interactive(predictor, args.task)
        records = read_records(args, predictor)
        results = predictor.predict(records)
        lines = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in results)
        if args.output:
            from claf.atomic import atomic_write_text

            atomic_write_text(args.output, lines)
        else:
            sys.stdout.write(lines)
        return 0

    return guarded(run)


def read_records(args, predictor) -> list[dict]:
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
        raise UsageError("give the input fields (e.g. --text, or --question with --context), --input, or -i")
    record = dict(given, **({"task": args.task} if args.task else {}))
    fields = predictor.input_fields(args.task)
    missing = [f for f in fields if f not in record]
    if missing:
        raise UsageError(
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
