"""Task metrics against their references (scikit-learn, scipy, seqeval) on real dev labels and the
predictions of simple real baselines (word overlap, sentence length, an entity dictionary)."""

import numpy as np
import pytest
from scipy.stats import pearsonr, spearmanr
from seqeval.metrics import f1_score as seqeval_f1
from seqeval.scheme import IOB2
from sklearn.metrics import f1_score
from sklearn.metrics import matthews_corrcoef as sk_mcc

from claf.data.readers.seq_cls import SeqClsReader
from claf.data.readers.seq_reg import JsonRegReader, SeqRegReader
from claf.data.readers.tok_cls import TokClsReader
from claf.metrics.classification import binary_f1, matthews_corrcoef
from claf.metrics.jsquad import jsquad_v1
from claf.metrics.ner import entities, ner_char_f1, ner_entity_f1
from claf.metrics.regression import klue_sts, pearson, spearman, threshold_f1
from claf.metrics.spec import metric_function


def overlap(a, b):
    a, b = set(a.split()), set(b.split())
    return len(a & b) / max(1, len(a | b))


@pytest.fixture(scope="module")
def mrpc(mirror):
    examples = SeqClsReader(text_column=3, text_pair_column=4, label_column=0).read(
        mirror / "glue/MRPC/msr_paraphrase_test.txt"
    )
    return [e["label"] for e in examples], ["1" if overlap(e["text"], e["text_pair"]) > 0.4 else "0" for e in examples]


def test_binary_f1_equals_sklearn_for_either_positive_label(mrpc):
    gold, pred = mrpc
    assert 0.3 < np.mean([g == p for g, p in zip(gold, pred)]) < 0.9  # a real, imperfect baseline
    for positive in ("1", "0"):
        expected = 100 * f1_score(gold, pred, pos_label=positive)
        assert binary_f1(pred, gold, positive_label=positive)["f1"] == pytest.approx(expected, abs=1e-9)
    spec = metric_function({"name": "f1", "positive_label": "0"})
    assert spec(pred, gold)["f1"] == pytest.approx(100 * f1_score(gold, pred, pos_label="0"))
    assert binary_f1(["0", "0"], ["0", "0"])["f1"] == 0.0  # positive class never occurs


def test_matthews_equals_sklearn_on_cola_and_three_class_nli(mirror):
    cola = SeqClsReader(text_column=3, label_column=1, header=False).read(mirror / "glue/CoLA/in_domain_dev.tsv")
    gold = [e["label"] for e in cola]
    pred = ["1" if len(e["text"].split()) < 9 else "0" for e in cola]  # short sentences tend to be acceptable
    assert matthews_corrcoef(pred, gold)["mcc"] == pytest.approx(100 * sk_mcc(gold, pred), abs=1e-9)
    assert matthews_corrcoef(pred, gold)["mcc"] != 0
    nli = SeqClsReader(text_column="sentence1", text_pair_column="sentence2", label_column="gold_label").read(
        mirror / "kor-nlu/KorNLI/xnli.dev.ko.tsv"
    )
    gold = [e["label"] for e in nli]
    pred = [
        "entailment"
        if overlap(e["text"], e["text_pair"]) > 0.3
        else "neutral"
        if len(e["text_pair"]) > len(e["text"]) / 2
        else "contradiction"
        for e in nli
    ]
    assert matthews_corrcoef(pred, gold)["mcc"] == pytest.approx(100 * sk_mcc(gold, pred), abs=1e-9)
    assert matthews_corrcoef(["1"] * 5, ["1", "0", "1", "0", "1"])["mcc"] == 0.0  # sklearn: 0 when undefined
    assert sk_mcc(["1", "0", "1", "0", "1"], ["1"] * 5) == 0.0


def sts_baseline(examples):
    return [5 * overlap(e["text"], e["text_pair"]) for e in examples]


def test_pearson_spearman_equal_scipy_on_stsb_and_korsts(mirror):
    stsb = SeqRegReader(text_column=5, text_pair_column=6, label_column=4, header=False, format="tsv").read(
        mirror / "glue/STS-B/sts-dev.csv"
    )
    korsts = SeqRegReader(text_column="sentence1", text_pair_column="sentence2", label_column="score").read(
        mirror / "kor-nlu/KorSTS/sts-dev.tsv"
    )
    for examples in (stsb, korsts):
        gold, pred = [e["label"] for e in examples], sts_baseline(examples)
        assert len(set(pred)) < len(pred)  # ties, so the rank averaging matters
        assert pearson(pred, gold)["pearson"] == pytest.approx(100 * pearsonr(pred, gold)[0], abs=1e-9)
        assert spearman(pred, gold)["spearman"] == pytest.approx(100 * spearmanr(pred, gold)[0], abs=1e-9)
    assert pearson([1.0, 1.0, 1.0], [1.0, 2.0, 3.0])["pearson"] == 0.0  # undefined -> 0, never "best"


def test_klue_sts_f1_at_threshold_3_matches_the_files_binary_labels(mirror):
    examples = JsonRegReader(label_column="labels.label", id_column="guid").read(
        mirror / "klue/klue-sts-v1.1/klue-sts-v1.1_dev.json"
    )
    binary = JsonRegReader(label_column="labels.binary-label", id_column="guid").read(
        mirror / "klue/klue-sts-v1.1/klue-sts-v1.1_dev.json"
    )
    gold = [e["label"] for e in examples]
    assert [int(g >= 3.0) for g in gold] == [int(b["label"]) for b in binary]  # KLUE's binary label is score >= 3
    pred = sts_baseline(examples)
    expected = 100 * f1_score([int(g >= 3.0) for g in gold], [int(p >= 3.0) for p in pred])
    assert threshold_f1(pred, gold)["f1"] == pytest.approx(expected, abs=1e-9)
    scores = klue_sts(pred, gold)
    assert scores == {"pearson": pytest.approx(100 * pearsonr(pred, gold)[0]), "f1": pytest.approx(expected)}


def test_entities_are_strict_iob2():
    # B-PS I-PS | O | I-LC (no B: no entity in strict mode) | B-LC | B-LC I-OG (type change ends it)
    tags = ["B-PS", "I-PS", "O", "I-LC", "B-LC", "B-LC", "I-OG"]
    assert entities(tags) == [("PS", 0, 2), ("LC", 4, 5), ("LC", 5, 6)]


def test_entity_and_char_f1_by_hand():
    gold = [["B-PS", "I-PS", "O", "B-LC", "I-LC", "I-LC"], ["B-PS", "O", "B-QT"]]
    pred = [["B-PS", "I-PS", "O", "B-LC", "I-LC", "O"], ["B-PS", "O", "B-LC"]]
    # entities: gold PS(0,2) LC(3,6) | PS(0,1) QT(2,3); pred PS(0,2) LC(3,5) | PS(0,1) LC(2,3)
    # PS: 2 of 2 right -> F1 1; LC: 0 right of 2 pred / 1 gold -> 0; QT: 0 of 1 gold -> 0; macro = 1/3
    assert ner_entity_f1(pred, gold)["entity_f1"] == pytest.approx(100 / 3)
    # chars (O excluded): B-PS 2/2 -> 1; I-PS 1/1 -> 1; B-LC pred 2, gold 1, tp 1 -> 2/3; I-LC pred 1 gold 2
    # tp 1 -> 2/3; B-QT pred 0 gold 1 -> 0; macro over 5 tags = (1 + 1 + 2/3 + 2/3 + 0) / 5 = 2/3
    assert ner_char_f1(pred, gold)["char_f1"] == pytest.approx(100 * 2 / 3)


@pytest.fixture(scope="module")
def ner_baseline(mirror):
    """Tag the last 1,000 KLUE-NER dev sentences with entity strings memorised from the first 4,000."""
    examples = TokClsReader().read(mirror / "klue/klue-ner-v1.1/klue-ner-v1.1_dev.tsv")
    known = {}
    for e in examples[:4000]:
        for kind, start, end in entities(e["tags"]):
            known.setdefault(e["text"][start:end], kind)
    words = sorted((w for w in known if len(w) >= 2), key=len, reverse=True)
    gold, pred = [], []
    for e in examples[4000:]:
        tags = ["O"] * len(e["units"])
        for word in words:
            start = e["text"].find(word)
            while start >= 0:
                if all(t == "O" for t in tags[start : start + len(word)]):
                    tags[start : start + len(word)] = ["B-" + known[word]] + ["I-" + known[word]] * (len(word) - 1)
                start = e["text"].find(word, start + 1)
        gold.append(e["tags"])
        pred.append(tags)
    return gold, pred


def test_ner_metrics_equal_seqeval_and_sklearn_on_klue_dev(ner_baseline):
    gold, pred = ner_baseline
    entity = ner_entity_f1(pred, gold)["entity_f1"]
    assert 5 < entity < 90
    assert entity == pytest.approx(100 * seqeval_f1(gold, pred, average="macro", mode="strict", scheme=IOB2))
    flat_gold = [t for s in gold for t in s]
    flat_pred = [t for s in pred for t in s]
    tags = sorted((set(flat_gold) | set(flat_pred)) - {"O"})
    expected = 100 * f1_score(flat_gold, flat_pred, labels=tags, average="macro", zero_division=0)
    assert ner_char_f1(pred, gold)["char_f1"] == pytest.approx(expected, abs=1e-9)


def test_jsquad_f1_counts_characters_after_nfkc():
    # "東京都" vs "東京": chars 3 vs 2, common 2 -> P 2/3, R 1 -> F1 0.8; full-width "ＡＢ" == "AB" after NFKC
    scores = jsquad_v1({"a": "東京都", "b": "ＡＢ。"}, {"a": ["東京"], "b": ["AB"]})
    assert scores == {"em": 50.0, "f1": pytest.approx(90.0)}
