"""Readers of the task library on real mirror files: formats, label alignment for NER, bad input."""

import json
import logging
import zipfile

import pytest
from transformers import AutoTokenizer

from claf.data.readers.base import InvalidRow
from claf.data.readers.seq_cls import JsonClsReader, SeqClsReader
from claf.data.readers.seq_reg import JsonRegReader, SeqRegReader
from claf.data.readers.tok_cls import TokClsReader
from claf.data.sources import DataFileError, resolve_data_file
from claf.metrics.ner import entities
from claf.models.heads.tok_cls import decode


def test_formats_read_every_row_of_the_mirror_files(mirror):
    counts = {
        "klue/klue-nli-v1.1/klue-nli-v1.1_dev.json": (
            JsonClsReader(
                text_column="premise", text_pair_column="hypothesis", label_column="gold_label", id_column="guid"
            ),
            3000,
        ),
        "klue/klue-sts-v1.1/klue-sts-v1.1_dev.json": (
            JsonRegReader(label_column="labels.label", id_column="guid"),
            519,
        ),
        "jglue/datasets/jnli-v1.3/valid-v1.3.json": (JsonClsReader(text_pair_column="sentence2"), 2434),
        "glue/MRPC/msr_paraphrase_train.txt": (SeqClsReader(text_column=3, text_pair_column=4, label_column=0), 4076),
        "glue/STS-B/sts-train.csv": (
            SeqRegReader(text_column=5, text_pair_column=6, label_column=4, header=False, format="tsv"),
            5749,
        ),
        "glue/CoLA/in_domain_train.tsv": (SeqClsReader(text_column=3, label_column=1, header=False), 8551),
        "question_pair/validation.txt": (
            SeqClsReader(text_column="question1", text_pair_column="question2", label_column="is_duplicate"),
            682,
        ),
        "klue/klue-ner-v1.1/klue-ner-v1.1_dev.tsv": (TokClsReader(), 5000),
    }
    for name, (reader, expected) in counts.items():
        examples = reader.read(mirror / name)
        assert len(examples) == expected, name
    nli = counts["klue/klue-nli-v1.1/klue-nli-v1.1_dev.json"][0].read(
        mirror / "klue/klue-nli-v1.1/klue-nli-v1.1_dev.json"
    )
    lines = (mirror / "klue/klue-nli-v1.1/klue-nli-v1.1_dev.json").read_text().splitlines()
    assert nli[-1]["id"] in lines[nli[-1]["line"]]  # a JSON record's line is where it starts
    ner = counts["klue/klue-ner-v1.1/klue-ner-v1.1_dev.tsv"][0].read(
        mirror / "klue/klue-ner-v1.1/klue-ner-v1.1_dev.tsv", 1
    )
    assert ner[0]["id"] == "klue-ner-v1_dev_00000-wikitree"
    assert ner[0]["text"].startswith("경찰은 또 성매매") and ner[0]["tags"][:3] == ["B-OG", "I-OG", "O"]
    assert entities(ner[0]["tags"])[0] == ("OG", 0, 2)


@pytest.fixture(scope="module")
def ko_tokenizer(tiny_korean_bert):
    return AutoTokenizer.from_pretrained(tiny_korean_bert)


def test_char_labels_align_to_the_first_subword_and_decode_back(mirror, ko_tokenizer):
    reader = TokClsReader(max_seq_length=512)
    examples = reader.read(mirror / "klue/klue-ner-v1.1/klue-ner-v1.1_dev.tsv", 1000)
    reader.helper(examples)
    features = reader.featurize(examples, ko_tokenizer)
    exact = clean = 0
    for feature, example in zip(features, examples):
        offsets = ko_tokenizer(example["text"], return_offsets_mapping=True)["offset_mapping"]
        for (start, end), label, units in zip(offsets, feature["labels"], feature["token_units"]):
            if start == end:  # [CLS] / [SEP]
                assert label == -100 and units is None
            else:  # every sub-word starts a new character here, so each carries its first character's tag
                assert reader.labels[label] == example["tags"][start] and units == (start, end - 1)
        tags = decode(
            feature["token_units"],
            [reader.labels[i] if i >= 0 else "O" for i in feature["labels"]],
            len(example["units"]),
        )
        gold_entities = entities(example["tags"])
        boundaries = {s for _, s, e in gold_entities} | {e for _, s, e in gold_entities}
        crossing = any(start < b < end for start, end in offsets for b in boundaries)
        if not crossing:  # sub-words respect the entity boundaries: the gold tags come back exactly
            clean += 1
            exact += tags == example["tags"]
    assert clean > 100 and exact == clean


def test_word_units_label_only_the_first_subword(mirror, ko_tokenizer, tmp_path):
    """Words (eojeols) of KLUE-NER sentences with the tag of their first character: a CoNLL-style file."""
    sentences = TokClsReader().read(mirror / "klue/klue-ner-v1.1/klue-ner-v1.1_dev.tsv", 300)
    lines = []
    for s in sentences:
        position = 0
        for word in s["text"].split(" "):
            if word:
                lines.append(f"{word} {s['tags'][position]}")
            position += len(word) + 1
        lines.append("")
    (tmp_path / "words.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    reader = TokClsReader(unit="word", delimiter=" ", max_seq_length=512)
    examples = reader.read(tmp_path / "words.txt")
    reader.helper(examples)
    features = reader.featurize(examples, ko_tokenizer)
    split_words = 0
    for feature, example in zip(features, examples):
        labelled = [units for units, label in zip(feature["token_units"], feature["labels"]) if label != -100]
        assert [u[0] for u in labelled] == list(range(len(example["units"])))  # one labelled sub-word per word
        split_words += sum(1 for u in feature["token_units"] if u is not None) - len(labelled)
        tags = decode(
            feature["token_units"],
            [reader.labels[i] if i >= 0 else "O" for i in feature["labels"]],
            len(example["units"]),
        )
        assert tags == example["tags"]
    assert split_words > 100  # many words are several sub-words: the rest carry -100


def bad_file(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_malformed_rows_name_file_and_line_or_are_skipped(tmp_path, caplog):
    tsv = bad_file(tmp_path, "pairs.tsv", "s1\ts2\tlabel\na\tb\t1\nonly one column\nc\td\t\ne\tf\t0\n")
    reader = SeqClsReader(text_column="s1", text_pair_column="s2", label_column="label")
    with pytest.raises(InvalidRow, match=rf"^{tsv}:3: expected at least 3 columns.*skip_invalid"):
        reader.read(tsv)
    skipping = SeqClsReader(text_column="s1", text_pair_column="s2", label_column="label", skip_invalid=True)
    with caplog.at_level(logging.WARNING):
        examples = skipping.read(tsv)
    assert [e["line"] for e in examples] == [2, 5] and skipping.skipped == 2
    assert f"{tsv}: skipped 2 invalid row(s)" in caplog.text and f"{tsv}:4: empty label" in caplog.text
    with pytest.raises(InvalidRow, match=rf"^{tsv}:1: seq_cls.label_column 'gold' is not in header"):
        SeqClsReader(text_column="s1", label_column="gold").read(tsv)

    scores = bad_file(
        tmp_path,
        "sts.jsonl",
        '{"sentence1": "a", "sentence2": "b", "label": 3.2}\n'
        '{"sentence1": "a", "sentence2": "b", "label": "high"}\n'
        '{"sentence1": "a", "label": 1.0}\n{"sentence1": \n',
    )
    with pytest.raises(InvalidRow, match=rf"^{scores}:2: label 'high' is not a number"):
        JsonRegReader().read(scores)
    skipping = JsonRegReader(skip_invalid=True)
    assert [e["label"] for e in skipping.read(scores)] == [3.2] and skipping.skipped == 3

    array = bad_file(
        tmp_path,
        "nli.json",
        '[\n  {"premise": "a", "hypothesis": "b", "gold_label": "neutral"},\n'
        '  {"premise": "a", "hypothesis": "b" "gold_label": "x"}\n]\n',
    )
    with pytest.raises(InvalidRow, match=rf"^{array}:3:\d+: invalid JSON"):
        JsonClsReader(text_column="premise", text_pair_column="hypothesis", label_column="gold_label").read(array)

    ner = bad_file(tmp_path, "ner.tsv", "## s1\t...\n가\tB-PS\n나\tI-PS\n\n다라\tO\n\n마\tX-PS\n\n바\tO\n")
    with pytest.raises(InvalidRow, match=rf"^{ner}:5: expected one character per line"):
        TokClsReader().read(ner)
    skipping = TokClsReader(skip_invalid=True)
    examples = skipping.read(ner)
    assert [e["text"] for e in examples] == ["가나", "바"] and examples[0]["id"] == "s1" and skipping.skipped == 2


def test_unseen_labels_are_reported_and_scored_as_errors(tmp_path, ko_tokenizer, caplog):
    train = bad_file(tmp_path, "train.tsv", "text\tlabel\n좋아요\tpos\n싫어요\tneg\n")
    valid = bad_file(tmp_path, "valid.tsv", "text\tlabel\n좋아요\tpos\n그저 그래요\tmixed\n")
    reader = SeqClsReader(text_column="text", label_column="label")
    reader.helper(reader.read(train))
    with caplog.at_level(logging.WARNING):
        features = reader.featurize(reader.read(valid), ko_tokenizer)
    assert [f["labels"] for f in features] == [1, -100]
    assert "1 examples have labels not seen in training {'mixed': 1}" in caplog.text
    ner = bad_file(tmp_path, "ner.tsv", "가\tB-PS\n\n나\tB-XX\n")
    reader = TokClsReader(labels=["B-PS", "I-PS", "O"])
    with caplog.at_level(logging.WARNING):
        features = reader.featurize(reader.read(ner), ko_tokenizer)
    assert features[1]["labels"][1] == -100 and "tags not seen in training {'B-XX': 1}" in caplog.text


def test_a_manifest_entry_can_name_a_zip_member(server, tmp_path, monkeypatch):
    monkeypatch.setenv("CLAF_DATA_ROOT", str(tmp_path / "root"))
    monkeypatch.delenv("CLAF_DATA_MIRROR", raising=False)
    rows = "id\tqid1\tqid2\tquestion1\tquestion2\tis_duplicate\n1\t1\t2\tHow?\tWhy?\t0\n"
    with zipfile.ZipFile(server.root / "QQP-clean.zip", "w") as z:
        z.writestr("QQP/train.tsv", rows)
        z.writestr("QQP/dev.tsv", rows)
    import hashlib

    sha = hashlib.sha256(rows.encode()).hexdigest()
    manifest = {
        "glue/QQP/train.tsv": {"url": f"{server.url}/QQP-clean.zip", "archive_member": "QQP/train.tsv", "sha256": sha},
        "glue/QQP/dev.tsv": {"url": f"{server.url}/QQP-clean.zip", "archive_member": "QQP/dev.tsv", "sha256": "0" * 64},
        "glue/QQP/test.tsv": {"url": f"{server.url}/QQP-clean.zip", "archive_member": "QQP/test.tsv", "sha256": None},
    }
    path = resolve_data_file("glue/QQP/train.tsv", manifest)
    assert path == tmp_path / "root" / "glue/QQP/train.tsv" and path.read_text() == rows
    assert resolve_data_file("glue/QQP/train.tsv", manifest) == path and server.hits == ["/QQP-clean.zip"]
    with pytest.raises(DataFileError, match="checksum mismatch"):
        resolve_data_file("glue/QQP/dev.tsv", manifest)
    with pytest.raises(DataFileError, match="has no member 'QQP/test.tsv'"):
        resolve_data_file("glue/QQP/test.tsv", manifest)
    assert server.hits == ["/QQP-clean.zip"]  # the zip was downloaded once
    assert not (tmp_path / "root" / "glue/QQP/dev.tsv").exists()


def test_manifest_names_every_file_the_configs_use():
    from claf.config.loader import base_config_dirs
    from claf.data.sources import load_manifest

    manifest = load_manifest()
    for path in base_config_dirs()[0].rglob("*.json"):
        config = json.loads(path.read_text())
        blocks = [config.get("data_reader", {})]
        blocks += list(config.get("data_reader", {}).get("multi_task", {}).get("tasks", {}).values())
        for block in blocks:
            names = [
                block.get("train_file_path"),
                block.get("valid_file_path"),
                *(block.get("extra_valid_file_paths") or {}).values(),
            ]
            for name in filter(None, names):
                assert name in manifest, f"{path.name}: {name} not in claf/data/manifest.json"
