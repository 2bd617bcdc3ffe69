"""Every fine-tuning BaseConfig shipped in base_config/ trains a tiny model on real mirror rows and
predicts through predict.py.

The test is parametrised over the folder, so a new config is covered automatically. Configs whose
files are not in the offline mirror are pointed at mirror files that are (see FALLBACKS); the
tiny model matches the config's language (KoELECTRA vocab for Korean, MiniLM's for English, a
WordPiece vocab trained here through the ``mecab_ja`` word tokenizer on JGLUE text for Japanese).
"""

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import MIRROR, build_tiny_bert

from claf.config.kinds import names_of_kind
from claf.config.loader import list_base_configs, load_json
from claf.experiment import Experiment

pytestmark = pytest.mark.slow  # end-to-end: real training runs, subprocesses or servers

ROOT = Path(__file__).resolve().parents[1]
TRAIN_ROWS, VALID_ROWS = 96, 48


def fine_tuning_configs():
    """The shipped fine-tuning BaseConfigs (the recipe-kind table decides which those are)."""
    return names_of_kind("finetune", list_base_configs())


RTE = {"train_file_path": "glue/RTE/train.tsv", "valid_file_path": "glue/RTE/dev.tsv"}
# Configs none of whose files are in the mirror: real rows of a mirror file of the same shape.
FALLBACKS = {
    "glue/qqp_bert": {
        "train_file_path": "glue/MRPC/msr_paraphrase_train.txt",
        "valid_file_path": "glue/MRPC/msr_paraphrase_test.txt",
        "seq_cls.text_column": 3,
        "seq_cls.text_pair_column": 4,
        "seq_cls.label_column": 0,
        "seq_cls.id_column": 1,
    },
    "glue/mnli_bert": {
        **RTE,
        "seq_cls.label_column": "label",
        "seq_cls.id_column": "index",
        "seq_cls.labels": ["entailment", "not_entailment"],
        "extra_valid_file_paths.mismatched": "glue/RTE/dev.tsv",
    },
    "glue/qnli_bert": {**RTE, "seq_cls.text_column": "sentence1", "seq_cls.text_pair_column": "sentence2"},
    "glue/wnli_bert": {**RTE, "seq_cls.labels": None},
}


def language(config):
    dr = config["data_reader"]
    if "multi_task" in dr:
        task = next(iter(dr["multi_task"]["tasks"].values()))
        return task[task["dataset"]].get("lang_code", "en")
    return dr[dr["dataset"]].get("lang_code", "en")


@pytest.fixture(scope="module")
def tiny_models(tmp_path_factory, tiny_korean_bert, minilm_path, mirror):
    english = build_tiny_bert(
        tmp_path_factory.mktemp("tiny_en"), minilm_path / "vocab.txt", do_lower_case=True, hidden=32, layers=1
    )
    return {"ko": tiny_korean_bert, "en": english, "ja": tiny_japanese_bert(tmp_path_factory.mktemp("tiny_ja"))}


def tiny_japanese_bert(path):
    """A WordPiece vocab trained through mecab_ja on JSTS sentences + a random tiny BERT."""
    import torch
    from transformers import BertConfig, BertModel

    from claf.registry import TOKENIZERS
    from claf.tokens.vocab_build import train_tokenizer

    texts = []
    with open(MIRROR / "jglue/datasets/jsts-v1.3/train-v1.3.json", encoding="utf-8") as f:
        for line in f:
            record = json.loads(line)
            texts += [record["sentence1"], record["sentence2"]]
    tokenizer = train_tokenizer(
        TOKENIZERS.get("mecab_ja")(dictionary="unidic_lite"), TOKENIZERS.get("wordpiece")(), texts, vocab_size=3000
    )
    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=512,
    )
    BertModel(config).save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path


def jsquad_like(tmp_path):
    """JCommonsenseQA rows as extractive QA in SQuAD format: the answer is one of the listed choices."""
    files = {}
    for split in ("train", "valid"):
        paragraphs = []
        with open(MIRROR / f"jglue/datasets/jcommonsenseqa-v1.3/{split}-v1.3.json", encoding="utf-8") as f:
            for _n, line in zip(range(TRAIN_ROWS), f):
                r = json.loads(line)
                choices = [r[f"choice{i}"] for i in range(5)]
                context = "選択肢: " + "、".join(choices) + "。"
                answer = choices[r["label"]]
                start = context.index("選択肢: ") + len("選択肢: ") + sum(len(c) + 1 for c in choices[: r["label"]])
                assert context[start : start + len(answer)] == answer
                paragraphs.append(
                    {
                        "context": context,
                        "qas": [
                            {
                                "id": str(r["q_id"]),
                                "question": r["question"],
                                "answers": [{"text": answer, "answer_start": start}],
                            }
                        ],
                    }
                )
        files[split] = tmp_path / f"jsquad_like_{split}.json"
        files[split].write_text(json.dumps({"data": [{"title": "jcqa", "paragraphs": paragraphs}]}, ensure_ascii=False))
    return {"train_file_path": str(files["train"]), "valid_file_path": str(files["valid"])}


def mirror_overrides(name, config, tmp_path):
    """Point a config whose files are not in the mirror at mirror files (dotted under data_reader)."""
    dr = config["data_reader"]
    if dr["dataset"] == "multi_task":  # each task as the single-task config that reads the same file
        overrides = {}
        for task, block in dr["multi_task"]["tasks"].items():
            single = next(
                n
                for n in fine_tuning_configs()
                if not n.startswith("multi_task/")
                and load_json(_config_file(n))["data_reader"].get("train_file_path") == block["train_file_path"]
            )
            for key, value in mirror_overrides(single, {"data_reader": block}, tmp_path).items():
                overrides[f"multi_task.tasks.{task}.{key}"] = value
        return overrides
    if name == "jglue/jsquad_bert":
        return jsquad_like(tmp_path)
    if name in FALLBACKS:
        return dict(FALLBACKS[name])
    if dr.get("train_file_path") and not (MIRROR / dr["train_file_path"]).is_file():
        return {"train_file_path": dr["valid_file_path"]}  # the dev rows stand in for the missing train file
    return {}


def _config_file(name):
    from claf.config.loader import find_base_config

    return find_base_config(name)


def tiny_overrides(name, config, model_dir, log_dir):
    dr, model = config["data_reader"], config["model"]
    overrides = {
        f"model.{model['name']}.pretrained_model_name": str(model_dir),
        "data_reader.train_limit": TRAIN_ROWS,
        "data_reader.valid_limit": VALID_ROWS,
        "trainer.log_dir": str(log_dir),
        "trainer.num_epochs": 1,
        "trainer.progress": False,
        "trainer.early_stopping_threshold": None,
        "optimizer.learning_rate": 1e-3,
        "iterator.batch_size": 16,
    }
    for key, value in (("save_last", False), ("num_threads", 1)):  # one thread: tiny models, busy machines
        if key in config["trainer"]:
            overrides[f"trainer.{key}"] = value
    blocks = {"data_reader": dr}
    if dr["dataset"] == "multi_task":
        blocks = {f"data_reader.multi_task.tasks.{t}": b for t, b in dr["multi_task"]["tasks"].items()}
    for where, block in blocks.items():
        options = block.get(block["dataset"], {})
        if "max_seq_length" in options:
            overrides[f"{where}.{block['dataset']}.max_seq_length"] = 128 if block["dataset"] == "squad_bert" else 64
        if "context_stride" in options:
            overrides[f"{where}.{block['dataset']}.context_stride"] = 32
    return overrides


def predict_inputs(log_dir):
    """Two validation inputs as predict.py takes them (from the run's saved validation predictions)."""
    meta = json.loads((log_dir / "checkpoints" / "best" / "claf_task.json").read_text())
    config = json.loads((log_dir / "config.json").read_text())
    from claf.registry import READERS

    reader = READERS.get(meta["data_reader"]["dataset"])(**meta["data_reader"]["options"])
    from claf.data.sources import resolve_data_file

    if reader.task == "multi_task":  # the first and the last task in one call: a batch mixing tasks
        _, valid = reader.read_splits(config["data_reader"], train=False)
        examples = [valid[0], valid[-1]]
        inputs = [{"task": e["task"], **_input(reader.readers[e["task"]], e)} for e in examples]
        return reader, examples, inputs
    examples = reader.read(resolve_data_file(config["data_reader"]["valid_file_path"]), 2)
    return reader, examples, [_input(reader, e) for e in examples]


def _input(reader, example):
    keys = ("question", "context") if reader.task == "qa" else ("text", "text_pair")
    return {k: example[k] for k in keys if example.get(k) is not None}


def check_prediction(reader, example, prediction, model_options):
    if reader.task == "multi_task":
        head = model_options["heads"][example["task"]]
        assert prediction.pop("task") == example["task"]
        return check_prediction(reader.readers[example["task"]], example, prediction, head[head["name"]])
    labels = model_options.get("labels")
    if reader.task == "qa":
        assert isinstance(prediction["answer"], str) and prediction["answer"] in example["context"]
    elif reader.task == "seq_reg":
        assert math.isfinite(prediction["score"])
    elif reader.task == "tok_cls":
        assert len(prediction["tags"]) == len(example["units"]) and set(prediction["tags"]) <= set(labels)
        for entity in prediction["entities"]:
            assert example["text"][entity["start"] : entity["end"]] == entity["text"]
    else:
        assert prediction["label"] in labels


@pytest.mark.parametrize("name", fine_tuning_configs())
def test_base_config_trains_and_predicts(name, tiny_models, tmp_path, mirror):
    from claf.config.loader import find_base_config

    config = load_json(find_base_config(name))
    log_dir = tmp_path / "run"
    overrides = tiny_overrides(name, config, tiny_models[language(config)], log_dir)
    overrides.update({f"data_reader.{k}": v for k, v in mirror_overrides(name, config, tmp_path).items()})
    summary = Experiment("train", name, overrides=overrides)()

    key = config["trainer"]["metric_key"]
    best = summary["best"]
    assert summary["best_score"] == best[f"valid/{key}"] and math.isfinite(summary["best_score"])
    assert math.isfinite(best["valid/loss"])
    print(
        f"\nSCORE {name} {key}={summary['best_score']:.2f} "
        + " ".join(f"{k[6:]}={v:.2f}" for k, v in best.items() if _is_score(k))
    )

    reader, examples, inputs = predict_inputs(log_dir)
    (tmp_path / "in.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in inputs))
    predictions = predict(log_dir, tmp_path / "in.jsonl", subprocess_run=name in SUBPROCESS_PREDICT)
    assert len(predictions) == len(inputs) == 2
    model_options = json.loads((log_dir / "checkpoints" / "best" / "claf_task.json").read_text())["model"]["options"]
    for example, prediction in zip(examples, predictions):
        check_prediction(reader, example, prediction, model_options)


# predict.py in a subprocess costs ~5-10 s of imports each, so it runs for one config per head kind;
# the others call the same entry point (claf.cli.predict_main, all predict.py does) in-process.
SUBPROCESS_PREDICT = ("klue/ner_bert", "klue/sts_bert", "glue/mnli_bert", "jglue/jsquad_bert", "multi_task/klue_bert")


def predict(log_dir, input_file, subprocess_run):
    args = [str(log_dir), "--input", str(input_file), "--output", str(input_file.with_suffix(".out"))]
    if subprocess_run:
        result = subprocess.run(
            [sys.executable, str(ROOT / "predict.py"), *args],
            check=False,
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"},
        )
        assert result.returncode == 0, result.stderr[-2000:]
    else:
        from claf.commands.predict import main as predict_main

        assert predict_main(args) == 0
    return [json.loads(line) for line in input_file.with_suffix(".out").read_text().splitlines()]


def _is_score(key):
    return not any(word in key for word in ("loss", "time", "per_second", "missing"))
