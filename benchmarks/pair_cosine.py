"""How much of a pair task a checkpoint's sentence vectors carry before any fine-tuning.

    python benchmarks/pair_cosine.py [--checkpoints larva-kor-tiny-s48-8k ...] [--random-init 6 7 8]

For each pair task of the recipe (`factory/larva_kor_tiny_wide` by default) it encodes every dev pair
together, as the suite's jobs do (64 tokens), takes the cosine of the two sentences' token means (the mean of
``pooling: pair``'s features, ``claf.models.heads.pooling.pair_features``) and scores it against the label
with nothing trained: Spearman for STS, for a two-label task the AUC of its first label (sorted). It does
this for the named checkpoints and for random inits of their architecture (weight seeds as the factory draws
them). The pre-registration `benchmarks/preregistered/pair_pooling_epyc.md` quotes its first run.

Writes ``benchmarks/pair_cosine.json``.
"""

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

HERE = Path(__file__).resolve().parent
OUT = HERE / "pair_cosine.json"
MAX_LENGTH = 64  # the wide suite's max_seq_length


def dev_examples(task: dict) -> list[dict]:
    from claf.config import resolve_config
    from claf.experiment import build_reader

    cfg = resolve_config(task["base_config"], dict(task.get("overrides", {})), kind="finetune")
    reader = build_reader(cfg)
    _train, dev = reader.read_splits(cfg.data_reader)
    return dev


def encoder(name: str, architecture: str):
    """(tokenizer, eval-mode encoder): a published checkpoint by name, or ``random-init-<seed>`` of
    ``architecture``, drawn by the factory's own ``claf.factory.job.random_init`` (the same weights its jobs
    fine-tune)."""
    import tempfile

    from transformers import AutoModel, AutoTokenizer

    from claf.factory.job import random_init
    from claf.hub.resolve import resolve_pretrained

    base = resolve_pretrained(architecture)
    if not name.startswith("random-init-"):
        return AutoTokenizer.from_pretrained(base), AutoModel.from_pretrained(resolve_pretrained(name)).eval()
    with tempfile.TemporaryDirectory() as tmp:
        folder = random_init(architecture, Path(tmp) / "init", int(name.rsplit("-", 1)[1]))
        return AutoTokenizer.from_pretrained(base), AutoModel.from_pretrained(folder).eval()


def cosines(tokenizer, model, examples: list[dict], batch: int = 128) -> list[float]:
    import torch

    from claf.models.heads.pooling import pair_features

    out: list[float] = []
    for i in range(0, len(examples), batch):
        rows = examples[i : i + batch]
        enc = tokenizer(
            [e["text"] for e in rows],
            [e["text_pair"] for e in rows],
            padding=True,
            truncation=True,
            max_length=MAX_LENGTH,
            return_tensors="pt",
        )
        with torch.no_grad():
            hidden = model(**enc).last_hidden_state
        features = pair_features(hidden, enc["attention_mask"], enc["token_type_ids"])
        out += features.float().mean(-1).tolist()
    return out


def score(values: list[float], examples: list[dict]) -> dict:
    from scipy.stats import spearmanr
    from sklearn.metrics import roc_auc_score

    labels = [e["label"] for e in examples]
    try:
        gold = [float(x) for x in labels]
        if len(set(gold)) > 2:
            return {"spearman": round(100 * float(spearmanr(values, gold).correlation), 2)}
    except (TypeError, ValueError):
        pass
    kinds = sorted({str(x) for x in labels})
    if len(kinds) != 2:
        return {}
    first = kinds[0]
    auc = roc_auc_score([str(x) == first for x in labels], values)
    return {f"auc_of_label_{first}": round(float(auc), 4)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipe", default="factory/larva_kor_tiny_wide")
    parser.add_argument(
        "--checkpoints", nargs="+", default=[f"larva-kor-tiny-s{s}-8k" for s in (48, 49, 50)], help="names"
    )
    parser.add_argument("--random-init", nargs="*", type=int, default=[6, 7, 8], help="weight seeds")
    parser.add_argument("--tasks", nargs="+", default=["korsts", "klue_sts_split", "qp", "pawsx_split"])
    parser.add_argument("--out", default=str(OUT))
    args = parser.parse_args()

    from claf.config import resolve_config

    recipe = resolve_config(args.recipe, {}, kind="factory")
    suite = {t.task: t.model_dump() for t in recipe.suite.tasks}
    unknown = [t for t in args.tasks if t not in suite]
    if unknown:
        raise SystemExit(f"--tasks: {', '.join(unknown)} not in {args.recipe}; its tasks: {', '.join(suite)}")
    names = args.checkpoints + [f"random-init-{s}" for s in args.random_init]
    models = {name: encoder(name, args.checkpoints[0]) for name in names}
    results: dict = {}
    for task in args.tasks:
        examples = dev_examples(suite[task])
        results[task] = {"dev": len(examples)}
        for name, (tokenizer, model) in models.items():
            results[task][name] = score(cosines(tokenizer, model, examples), examples)
        print(task, json.dumps(results[task]), flush=True)
    sys.path.insert(0, str(HERE))
    from payoff_compare import cpu_kind

    entry = {
        "cpu": cpu_kind(),
        "date": time.strftime("%Y-%m-%d"),
        "command": " ".join(["python benchmarks/pair_cosine.py", *sys.argv[1:]]),
        "recipe": args.recipe,
        "max_length": MAX_LENGTH,
        "tasks": results,
    }
    Path(args.out).write_text(json.dumps(entry, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
