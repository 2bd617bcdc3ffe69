"""The floors of a factory suite: what each task scores with no model at all.

    python benchmarks/trivial_baselines.py [--recipe factory/larva_kor_tiny_wide]

For every task of the recipe it reads the same train and dev examples the factory's jobs read (the task's
BaseConfig plus its overrides, seeded splits included) and scores, with the task's own metrics:
- a classification task: the majority label of the training examples, predicted for every dev example;
- a regression (STS) task: the share of word pieces the two sentences have in common (Jaccard of their
  WordPiece sets, the mirror's KoELECTRA vocab), a similarity with nothing learned, put on the label scale
  by a straight line fitted on the training examples (which changes no Pearson or Spearman, only the
  thresholded F1).

Writes ``benchmarks/trivial_baselines.json``; ``tests/test_trivial_baselines.py`` recomputes it from the
mirror, and the results page shows it beside the models.
"""

import argparse
import collections
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

HERE = Path(__file__).resolve().parent
OUT = HERE / "trivial_baselines.json"
VOCAB = "vocab/koelectra/vocab.txt"  # in the data mirror


def word_pieces(mirror: Path):
    from transformers import BertTokenizer

    from claf.tokens.vocab import read_wordpiece_vocab

    tokenizer = BertTokenizer(vocab=read_wordpiece_vocab(mirror / VOCAB), do_lower_case=False)
    return lambda text: set(tokenizer.tokenize(text or ""))


def overlap(pieces, example: dict) -> float:
    a, b = pieces(example["text"]), pieces(example["text_pair"])
    return len(a & b) / len(a | b) if a | b else 0.0


def task_floor(task: dict, pieces) -> dict:
    """{method, metrics: {name: score}, train, dev} for one suite task."""
    from claf.config import resolve_config
    from claf.experiment import build_reader
    from claf.metrics.spec import metric_function

    cfg = resolve_config(task["base_config"], dict(task.get("overrides", {})), kind="finetune")
    reader = build_reader(cfg)
    train, dev = reader.read_splits(cfg.data_reader)
    regression = cfg.model.name == "bert_for_reg"
    if regression:  # the overlap mapped to the label scale by a line fitted on the training examples
        import numpy as np

        x = np.array([overlap(pieces, e) for e in train])
        slope, intercept = np.polyfit(x, np.array([float(e["label"]) for e in train]), 1)
        method = f"word-piece overlap (Jaccard) x {slope:.2f} + {intercept:.2f}"
        predictions = [float(slope * overlap(pieces, e) + intercept) for e in dev]
        references = [float(e["label"]) for e in dev]
    else:
        majority, _ = collections.Counter(e["label"] for e in train).most_common(1)[0]
        method = f"majority label ({majority})"
        predictions = [majority] * len(dev)
        references = [e["label"] for e in dev]
    metrics = {}
    for spec in reader.metrics:
        metrics.update(metric_function(spec)(predictions, references))
    return {
        "method": method,
        "metrics": {k: round(float(v), 4) for k, v in metrics.items()},
        "train": len(train),
        "dev": len(dev),
    }


def floors(recipe_name: str, mirror: Path) -> dict:
    from claf.config import resolve_config

    recipe = resolve_config(recipe_name, {}, kind="factory")
    pieces = word_pieces(mirror)
    return {t.task: task_floor(t.model_dump(), pieces) for t in recipe.suite.tasks}


def main() -> None:
    import os

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipe", default="factory/larva_kor_tiny_wide")
    args = parser.parse_args()
    mirror = Path(os.environ.get("CLAF_DATA_MIRROR", "../shared/data"))
    entry = {
        "date": time.strftime("%Y-%m-%d"),
        "command": f"python benchmarks/trivial_baselines.py --recipe {args.recipe}",
        "recipe": args.recipe,
        "tasks": floors(args.recipe, mirror),
    }
    OUT.write_text(json.dumps(entry, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(json.dumps(entry["tasks"], indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
