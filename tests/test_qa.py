"""Extractive QA: windowing with character offsets on real KorQuAD/SQuAD, span decoding, training loop."""

import json

import numpy as np
import pytest
from transformers import AutoTokenizer

from claf.data.readers.squad import SquadReader
from claf.data.sources import resolve_data_file
from claf.experiment import Experiment
from claf.metrics.korquad import korquad_v1
from claf.models.heads.qa import BertForQA


@pytest.fixture(scope="module")
def korquad_features(tiny_korean_bert):
    reader = SquadReader(lang_code="ko", max_seq_length=128, context_stride=32, max_question_length=24)
    examples = reader.read(resolve_data_file("korquad/KorQuAD_v1.0_dev.json"), limit=600)
    tokenizer = AutoTokenizer.from_pretrained(tiny_korean_bert)
    return reader, examples, reader.featurize(examples, tokenizer), tokenizer


def test_windows_respect_lengths_and_overlap(korquad_features):
    reader, examples, features, tokenizer = korquad_features
    assert len(features) > len(examples)  # long paragraphs are split into several windows
    assert all(len(f["input_ids"]) <= 128 for f in features)
    by_example = {}
    for f in features:
        by_example.setdefault(f["example_index"], []).append(f)
    for i, windows in by_example.items():
        spans = [[o for o in w["offsets"] if o is not None] for w in windows]
        assert spans[0][0][0] <= examples[i]["context"].index(examples[i]["context"].strip()[0])
        for previous, current in zip(spans, spans[1:]):  # consecutive windows share context tokens
            assert current[0][0] < previous[-1][1]
        question_ids = [t for t, s in zip(windows[0]["input_ids"], windows[0]["token_type_ids"]) if s == 0]
        assert len(question_ids) <= 24 + 2  # [CLS] question [SEP]


def test_every_answer_is_recoverable_from_some_window(korquad_features):
    _, examples, features, _ = korquad_features
    exact, covered = 0, set()
    for f in features:
        s, e = f["start_positions"], f["end_positions"]
        if s == 0 and e == 0:
            continue
        example = examples[f["example_index"]]
        text = example["context"][f["offsets"][s][0] : f["offsets"][e][1]]
        answer = example["answers"][0]
        assert answer in text  # the token span covers the answer
        exact += text == answer
        covered.add(f["example_index"])
    assert covered == set(range(len(examples)))
    labelled = sum(1 for f in features if f["end_positions"])
    # The rest differ only by sub-words that glue a particle to the answer ('임수경' -> '임', '##수',
    # '##경을'): a limit of the WordPiece vocab, not of the windowing.
    assert exact / labelled > 0.7


def test_gold_logits_decode_to_the_gold_token_spans(korquad_features):
    """Put the highest logits on each labelled span: the decoder must return exactly its text."""
    _, examples, features, _ = korquad_features
    head = BertForQA.__new__(BertForQA)
    head.answer_maxlen, head.n_best = 30, 20
    results, expected = [], {}
    for f in features:
        n = len(f["input_ids"])
        start, end = np.zeros(n), np.zeros(n)
        if f["end_positions"]:
            start[f["start_positions"]] = end[f["end_positions"]] = 10.0
            offsets = f["offsets"]
            text = examples[f["example_index"]]["context"][
                offsets[f["start_positions"]][0] : offsets[f["end_positions"]][1]
            ]
            expected[examples[f["example_index"]]["id"]] = text
        results.append((start, end))
    predictions = head.predictions(examples, features, results)
    assert predictions == expected
    scores = korquad_v1(predictions, {e["id"]: e["answers"] for e in examples})
    assert scores["f1"] > 95  # character F1 forgives the glued particles


def test_answer_longer_than_answer_maxlen_is_never_returned():
    head = BertForQA.__new__(BertForQA)
    head.answer_maxlen, head.n_best = 2, 20
    offsets = [None, (0, 1), (1, 2), (2, 3), (3, 4), None]
    start = np.array([0, 9, 0, 0, 0, 0.0])
    end = np.array([0, 0, 0, 0, 9, 0.0])  # the best pair spans 4 tokens > 2
    score, char_start, char_end = head._best_span(offsets, start, end)
    assert char_end - char_start <= 2


def test_korquad_training_loop_learns_its_training_set(tmp_path, tiny_korean_bert):
    """Fit 48 real questions (train = valid) with the tiny model: F1 must rise far above the start."""
    overrides = {
        "bert_for_qa.pretrained_model_name": str(tiny_korean_bert),
        "data_reader.train_file_path": "korquad/KorQuAD_v1.0_dev.json",
        "data_reader.train_limit": 48,
        "data_reader.valid_limit": 48,
        "squad_bert.max_seq_length": 192,
        "squad_bert.context_stride": 64,
        "iterator.batch_size": 16,
        "trainer.num_epochs": 30,
        "trainer.eval_and_save_step_count": 30,
        "trainer.log_dir": str(tmp_path),
        "trainer.progress": False,
        "optimizer.learning_rate": 2e-3,
        "trainer.early_stopping_threshold": None,
    }
    summary = Experiment("train", "klue/korquad_bert", overrides=overrides)()
    history = summary["history"]
    print("KorQuAD fit F1 by eval:", [round(h["valid/f1"], 1) for h in history])
    assert summary["best"]["valid/f1"] > history[0]["valid/f1"] + 20
    assert history[-1]["valid/loss"] < history[0]["valid/loss"]
    answers = [json.loads(line) for line in (tmp_path / "predictions" / "valid.json").read_text().splitlines()]
    assert len(answers) == 48 and all("answer" in a for a in answers)
    examples = json.loads((tmp_path / "predictions" / "examples.json").read_text())  # golds: lists of answers
    assert len(examples["references"]) == len(examples["predictions"]) == 48  # golds beside the answers
    assert all(isinstance(r, list) for r in examples["references"])  # each question's gold answers
    predicted = Experiment("predict", str(tmp_path), inputs=[{"question": "q", "context": "짧은 문맥입니다."}])()
    assert predicted[0]["answer"] in "짧은 문맥입니다."


def test_squad_config_runs_with_the_uncased_vocab(tmp_path, minilm_path):
    """squad/bert end to end on the real (rebuilt) SQuAD dev file with a tiny uncased model."""
    from conftest import build_tiny_bert

    model = build_tiny_bert(tmp_path / "tiny_en", minilm_path / "vocab.txt", do_lower_case=True)
    overrides = {
        "bert_for_qa.pretrained_model_name": str(model),
        "data_reader.train_file_path": "squad/dev-v1.1.json",
        "data_reader.train_limit": 32,
        "data_reader.valid_limit": 32,
        "squad_bert.max_seq_length": 192,
        "trainer.num_epochs": 1,
        "trainer.log_dir": str(tmp_path / "run"),
        "trainer.progress": False,
    }
    summary = Experiment("train", "squad/bert", overrides=overrides)()
    assert {"valid/em", "valid/f1", "valid/loss"} <= set(summary["best"])
    assert 0 <= summary["best"]["valid/em"] <= summary["best"]["valid/f1"] <= 100
