"""Tests for claf.metrics; expected values are worked out by hand in the comments."""

import gzip
import json
import os
import warnings

import numpy as np
import pytest
from sklearn.metrics import accuracy_score, f1_score

from claf.metrics.classification import accuracy, macro_f1
from claf.metrics.korquad import korquad_v1
from claf.metrics.squad import squad_v1
from claf.registry import METRICS


def one(metric, prediction, golds):
    return metric({"q": prediction}, {"q": golds})


def test_korquad_char_f1_particle():
    # chars: pred 세종대왕은 = 5, gold 세종대왕 = 4, common 4
    # P = 4/5, R = 4/4 = 1, F1 = 2*(4/5)*1 / (4/5 + 1) = (8/5)/(9/5) = 8/9
    assert one(korquad_v1, "세종대왕은", ["세종대왕"]) == {"em": 0.0, "f1": pytest.approx(800 / 9)}


def test_korquad_special_quotes_become_spaces():
    # 《훈민정음》 -> " 훈민정음 " -> "훈민정음" == gold -> EM 1, F1 1
    assert one(korquad_v1, "《훈민정음》", ["훈민정음"]) == {"em": 100.0, "f1": 100.0}
    # ‘별’ -> "별"; 〈 〉 < > " ' are turned into spaces as well
    assert one(korquad_v1, "‘별’", ["별"])["em"] == 100.0
    assert one(korquad_v1, "〈\"<'별'>\"〉", ["별"])["em"] == 100.0
    # ( ) become spaces *before* punctuation removal: "서울(한양)" -> "서울 한양"
    assert one(korquad_v1, "서울(한양)", ["서울 한양"])["em"] == 100.0
    # SQuAD just deletes "(" and ")": "서울한양" != "서울 한양" -> EM 0
    assert one(squad_v1, "서울(한양)", ["서울 한양"])["em"] == 0.0


def test_korquad_spaces_do_not_count_in_f1():
    # KorQuAD chars: 세종대왕 vs 세종대왕 -> F1 1; normalised strings differ -> EM 0
    assert one(korquad_v1, "세종 대왕", ["세종대왕"]) == {"em": 0.0, "f1": 100.0}
    # SQuAD tokens: [세종, 대왕] vs [세종대왕] -> no common token -> F1 0
    assert one(squad_v1, "세종 대왕", ["세종대왕"]) == {"em": 0.0, "f1": 0.0}
    # the same in English: icecream (8 chars) both sides -> 100 vs 0
    assert one(korquad_v1, "ice cream", ["icecream"])["f1"] == 100.0
    assert one(squad_v1, "ice cream", ["icecream"])["f1"] == 0.0


def test_korquad_keeps_articles_and_counts_char_multiset():
    # no article removal: chars "thecat" (6) vs "cat" (3), common 3
    # P = 3/6 = 1/2, R = 1, F1 = 2*(1/2) / (3/2) = 2/3
    assert one(korquad_v1, "The cat", ["cat"]) == {"em": 0.0, "f1": pytest.approx(200 / 3)}
    assert one(squad_v1, "The cat", ["cat"])["em"] == 100.0  # SQuAD drops "the"
    # multiset: pred 아아 vs gold 아 -> common min(2, 1) = 1, P = 1/2, R = 1, F1 = 2/3
    assert one(korquad_v1, "아아", ["아"])["f1"] == pytest.approx(200 / 3)
    # no common char -> 0
    assert one(korquad_v1, "서울", ["부산"])["f1"] == 0.0


def test_korquad_max_over_golds():
    # pred chars 1945년8월 = 7
    # vs 1945년 (5 chars): common 5, P = 5/7, R = 1, F1 = (10/7)/(12/7) = 5/6
    # vs 1946년 (5 chars): common 1,9,4,년 = 4, P = 4/7, R = 4/5, F1 = (32/35)/(48/35) = 2/3
    # max = 5/6; EM 0. Adding the exact gold "1945년 8월" lifts both to 1.
    r = one(korquad_v1, "1945년 8월", ["1945년", "1946년"])
    assert r == {"em": 0.0, "f1": pytest.approx(500 / 6)}
    assert one(korquad_v1, "1945년 8월", ["1945년", "1945년 8월"]) == {"em": 100.0, "f1": 100.0}


def test_squad_normalisation_articles_and_punctuation():
    # "The Eiffel Tower!" -> "eiffel tower"; "an apple" and "Apple." -> "apple"
    assert one(squad_v1, "The Eiffel Tower!", ["eiffel tower"]) == {"em": 100.0, "f1": 100.0}
    assert one(squad_v1, "an apple", ["Apple."]) == {"em": 100.0, "f1": 100.0}
    # articles only as whole words: "theatre" keeps its "the", "banana" its "a"s
    assert one(squad_v1, "theatre", ["atre"])["em"] == 0.0
    assert one(squad_v1, "banana", ["bnn"])["em"] == 0.0


def test_squad_partial_f1_and_max_over_golds():
    # tokens [denver, broncos, team] vs [denver, broncos]: common 2
    # P = 2/3, R = 1, F1 = (4/3)/(5/3) = 4/5
    assert one(squad_v1, "Denver Broncos team", ["Denver Broncos"]) == {"em": 0.0, "f1": 80.0}
    # multiset: "the the cat cat cat" -> [cat, cat, cat]; gold [cat, dog]: common min(3, 1) = 1
    # P = 1/3, R = 1/2, F1 = 2*(1/6)/(5/6) = 2/5
    assert one(squad_v1, "the the cat cat cat", ["cat dog"])["f1"] == pytest.approx(40.0)
    # max over golds:
    # vs "Bowl": P = 1/3, R = 1, F1 = (2/3)/(4/3) = 1/2
    # vs "Super Bowl 50 game!": common 3, P = 1, R = 3/4, F1 = (3/2)/(7/4) = 6/7 -> max 6/7
    r = one(squad_v1, "Super Bowl 50", ["Bowl", "Super Bowl 50 game!"])
    assert r == {"em": 0.0, "f1": pytest.approx(600 / 7)}
    golds = ["Broncos", "the Denver Broncos", "Carolina"]
    assert one(squad_v1, "Denver Broncos", golds) == {"em": 100.0, "f1": 100.0}


def test_squad_missing_predictions_and_average():
    refs = {"q1": ["Paris"], "q2": ["London"], "q3": ["Rome"], "q4": ["Berlin"]}
    preds = {"q1": "Paris", "q2": "the London", "q3": "Rome city", "extra": "ignored"}
    # EM: 1 + 1 + 0 + 0 (missing) = 2 of 4 -> 50
    # F1: 1 + 1 + (P 1/2, R 1 -> 2/3) + 0 = 8/3, / 4 = 2/3 -> 66.67
    assert squad_v1(preds, refs) == {"em": 50.0, "f1": pytest.approx(200 / 3), "missing": 1}
    # nothing missing -> no "missing" key
    assert "missing" not in squad_v1({"q": "x"}, {"q": ["x"]})


def test_empty_strings_follow_official_scripts():
    # both normalise to "": EM counts it equal, F1 has no common token -> 0
    assert one(squad_v1, "", ["."]) == {"em": 100.0, "f1": 0.0}
    assert one(korquad_v1, "", ["《》"]) == {"em": 100.0, "f1": 0.0}
    assert one(squad_v1, "", ["Paris"]) == {"em": 0.0, "f1": 0.0}


def test_qa_input_errors_and_registry_names():
    with pytest.raises(ValueError, match="empty"):
        squad_v1({}, {})
    with pytest.raises(ValueError, match="no gold"):
        korquad_v1({"q": "x"}, {"q": []})
    assert METRICS.get("squad_v1") is squad_v1
    assert METRICS.get("korquad_v1") is korquad_v1
    assert METRICS.get("accuracy") is accuracy
    assert METRICS.get("macro_f1") is macro_f1


def test_accuracy_and_macro_f1_by_hand():
    # 2 of 4 equal -> 50
    assert accuracy([1, 0, 1, 1], [1, 1, 1, 0]) == {"accuracy": 50.0}
    # pred [0,0,1,1,2], gold [0,1,1,1,2]
    # class 0: TP 1, FP 1, FN 0 -> 2/3;  class 1: TP 2, FP 0, FN 1 -> 4/5;  class 2: 1
    # mean = (10/15 + 12/15 + 15/15) / 3 = 37/45
    assert macro_f1([0, 0, 1, 1, 2], [0, 1, 1, 1, 2]) == {"macro_f1": pytest.approx(3700 / 45)}
    # class only predicted: a: TP 1, FN 1 -> 2/3; b: TP 0, FP 1 -> 0; mean 1/3
    assert macro_f1(["a", "b"], ["a", "a"])["macro_f1"] == pytest.approx(100 / 3)


@pytest.mark.parametrize("seed,classes", [(0, 2), (1, 3), (2, 7), (3, 20)])
def test_classification_matches_sklearn(seed, classes):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, classes, size=300)
    noise = rng.integers(0, classes, size=300)
    preds = np.where(rng.random(300) < 0.6, labels, noise)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # sklearn warns when a class is never predicted
        want_f1 = 100 * f1_score(labels, preds, average="macro")
    want_acc = 100 * accuracy_score(labels, preds)
    assert accuracy(preds.tolist(), labels.tolist())["accuracy"] == pytest.approx(want_acc)
    assert macro_f1(preds.tolist(), labels.tolist())["macro_f1"] == pytest.approx(want_f1)
    names = np.array([f"c{i}" for i in range(classes)])  # string labels give the same score
    string_f1 = macro_f1(names[preds].tolist(), names[labels].tolist())["macro_f1"]
    assert string_f1 == pytest.approx(want_f1)


def test_classification_errors():
    for metric in (accuracy, macro_f1):
        with pytest.raises(ValueError, match="empty"):
            metric([], [])
        with pytest.raises(ValueError, match="3 predictions vs 2 labels"):
            metric([1, 2, 3], [1, 2])


def load_squad_format(relative):
    path = os.path.join(os.environ.get("CLAF_DATA_MIRROR", "/work/shared/data"), relative)
    if not os.path.exists(path):
        pytest.fail(f"dataset not found: {path}; set CLAF_DATA_MIRROR to the shared data folder")
    with (gzip.open if path.endswith(".gz") else open)(path, "rt", encoding="utf-8") as f:
        data = json.load(f)["data"]
    qas = [qa for article in data for para in article["paragraphs"] for qa in para["qas"]]
    return {qa["id"]: [answer["text"] for answer in qa["answers"]] for qa in qas}


def test_korquad_dev_real_data():
    refs = load_squad_format("korquad/KorQuAD_v1.0_dev.json")
    assert len(refs) == 5774
    assert korquad_v1({q: g[0] for q, g in refs.items()}, refs) == {"em": 100.0, "f1": 100.0}
    assert korquad_v1({q: "" for q in refs}, refs) == {"em": 0.0, "f1": 0.0}


def test_squad_dev_real_data():
    refs = load_squad_format("squad/dev-v1.1.rebuilt.json.gz")
    assert len(refs) == 10570
    assert squad_v1({q: g[0] for q, g in refs.items()}, refs) == {"em": 100.0, "f1": 100.0}
    # Empty predictions: F1 0. EM is not quite 0 under the official semantics: 3 questions
    # (e.g. 5730b7ce069b5314008322c4) list "." among their golds, which normalises to ""
    # and so equals the normalised empty prediction -> EM = 100 * 3 / 10570.
    empty = squad_v1({q: "" for q in refs}, refs)
    assert empty == {"em": pytest.approx(100 * 3 / 10570), "f1": 0.0}
