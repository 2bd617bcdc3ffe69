"""Bring your own dataset: CSV, TSV and JSON Lines files read by the row readers, real files written here.

Every delimited row is compared with what Python's ``csv`` module reads from the same file;
malformed rows name ``file:line`` (physical lines) and the reason.
"""

import csv
import json
import logging

import pytest

from claf.data.readers.base import InvalidRow, ReaderOptionError
from claf.data.readers.seq_cls import JsonClsReader, SeqClsReader
from claf.data.readers.seq_reg import SeqRegReader
from claf.data.readers.tok_cls import TokClsReader

BOM = "\ufeff"

# (text, label): quoted commas, quoted newlines (LF and CRLF), doubled quotes, a lone quote, Hangul
TRICKY = [
    ("재밌어요, 정말로", "pos"),
    ("첫 줄\n둘째 줄", "neg"),
    ('그는 "최고"라고 했다', "pos"),
    ("줄바꿈\r\n그리고, 쉼표", "neg"),
    ("plain text", "pos"),
    ('a lone " quote', "neg"),
    ("  spaces around  ", "pos"),
]


def write_csv(path, rows, header=("review", "sentiment"), blank_tail=True):
    """A CSV as spreadsheets write it: BOM, CRLF, quotes only where needed, empty trailing lines."""
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write(BOM)
        writer = csv.writer(f, lineterminator="\r\n")
        writer.writerow(header)
        writer.writerows(rows)
        if blank_tail:
            f.write("\r\n\r\n")
    return path


def csv_module_rows(path, **options):
    """Non-blank data rows as the csv module reads them, with their first physical line."""
    with open(path, encoding="utf-8-sig", newline="") as f:
        reader = csv.reader(f, **options)
        rows, start = [], 1
        for row in reader:
            if any(field.strip() for field in row):
                rows.append((start, row))
            start = reader.line_num + 1
    return rows[1:]  # without the header


def test_csv_rows_equal_the_csv_module(tmp_path):
    path = write_csv(tmp_path / "reviews.csv", TRICKY * 3)
    raw = path.read_bytes()
    assert raw.startswith(BOM.encode()) and b'"\xec\x9e\xac\xeb\xb0\x8c\xec\x96\xb4\xec\x9a\x94, ' in raw
    examples = SeqClsReader(text_column="review", label_column="sentiment").read(path)  # csv: from the extension
    expected = csv_module_rows(path)
    assert [(e["line"], [e["text"], e["label"]]) for e in examples] == expected
    assert [e["text"] for e in examples[: len(TRICKY)]] == [t for t, _ in TRICKY]
    # physical lines: the header is line 1, a row with a quoted newline spans two lines
    assert [e["line"] for e in examples[:5]] == [2, 3, 5, 6, 8]
    assert raw.splitlines()[examples[4]["line"] - 1] == b"plain text,pos"


@pytest.mark.slow  # reads NSMC train twice
def test_tsv_rows_equal_the_csv_module_without_quoting(tmp_path, mirror):
    """TSV is not quoted: a '"' is text. Real files: NSMC (quotes at field starts), pairs, regression."""
    path = tmp_path / "odd.tsv"
    path.write_text('text\tlabel\n"quoted at start\t1\nmid "quote\t0\n"\t1\n', encoding="utf-8")
    examples = SeqClsReader(text_column="text", label_column="label").read(path)
    assert [e["text"] for e in examples] == ['"quoted at start', 'mid "quote', '"']
    files = [
        ("nsmc/ratings_train.txt", SeqClsReader(text_column="document", label_column="label", skip_empty=True)),
        (
            "question_pair/train.txt",
            SeqClsReader(text_column="question1", text_pair_column="question2", label_column="is_duplicate"),
        ),
        (
            "kor-nlu/KorSTS/sts-dev.tsv",
            SeqRegReader(text_column="sentence1", text_pair_column="sentence2", label_column="score"),
        ),
    ]
    for name, reader in files:
        examples = reader.read(mirror / name)
        rows = csv_module_rows(mirror / name, delimiter="\t", quoting=csv.QUOTE_NONE)
        with open(mirror / name, encoding="utf-8") as f:
            header = f.readline().rstrip("\n").split("\t")
        cols = [header.index(reader.text_column)]
        cols += [header.index(reader.text_pair_column)] if reader.text_pair_column else []
        expected = [(line, [row[c] for c in cols]) for line, row in rows if all(row[c].strip() for c in cols)]
        got = [(e["line"], [e["text"]] + ([e["text_pair"]] if reader.text_pair_column else [])) for e in examples]
        assert got == expected, name
        assert sum('"' in e["text"] for e in examples) > 0 or name != "nsmc/ratings_train.txt"


def test_delimiter_quotechar_and_headerless_columns_by_index(tmp_path):
    path = tmp_path / "scores.txt"  # unknown extension: tsv unless format says otherwise
    path.write_text("'a; b';c;4.5\nd;'e''s';1\n", encoding="utf-8")
    reader = SeqRegReader(
        format="csv", delimiter=";", quotechar="'", header=False, text_column=0, text_pair_column="1", label_column=2
    )
    assert [(e["text"], e["text_pair"], e["label"]) for e in reader.read(path)] == [
        ("a; b", "c", 4.5),
        ("d", "e's", 1.0),
    ]
    assert reader.read(path) and SeqRegReader(format="tsv", delimiter="tab", text_column=0).delimiter == "\t"
    with pytest.raises(ReaderOptionError, match=r"^seq_cls\.format must be one of tsv, csv, jsonl, json"):
        SeqClsReader(format="xlsx")
    with pytest.raises(ReaderOptionError, match=r"^seq_cls\.delimiter must be one character"):
        SeqClsReader(delimiter=",,")
    wrong = tmp_path / "tabs.csv"
    wrong.write_text("a\tb\tlabel\nx\ty\t1\n", encoding="utf-8")
    with pytest.raises(
        InvalidRow,
        match=r"tabs.csv:2: expected at least 3 columns separated by ',' \(csv\), got 1 "
        r"\(is the file csv\? set seq_cls.format or seq_cls.delimiter\)",
    ):
        SeqClsReader(text_column=0, text_pair_column=1, label_column=2).read(wrong)


def test_malformed_quoted_rows_name_file_line_and_reason(tmp_path, caplog):
    path = tmp_path / "bad.csv"
    path.write_bytes(b'text,label\r\n"ok, fine",1\r\n"closed" then text,0\r\n"two\r\nlines",1\r\nlast,0\r\n')
    reader = SeqClsReader(text_column="text", label_column="label")
    with pytest.raises(
        InvalidRow,
        match=rf"^{path}:3: malformed quoting: ',' expected after '\"' .*"
        r"two quotes\); fix the row or set seq_cls.skip_invalid true to skip it$",
    ):
        reader.read(path)
    skipping = SeqClsReader(text_column="text", label_column="label", skip_invalid=True)
    with caplog.at_level(logging.WARNING):
        examples = skipping.read(path)
    assert [(e["line"], e["text"]) for e in examples] == [(2, "ok, fine"), (4, "two\r\nlines"), (6, "last")]
    assert skipping.skipped == 1 and f"{path}: skipped 1 invalid row(s) (seq_cls.skip_invalid is true)" in caplog.text

    unclosed = tmp_path / "unclosed.csv"
    unclosed.write_text('text,label\ngood,1\n"never closed,0\nmore,1\n', encoding="utf-8")
    with pytest.raises(
        InvalidRow,
        match=rf"^{unclosed}:3: a quoted field opened here is not closed before the end "
        r"of the file \(the row runs to line 4\)",
    ):
        reader.read(unclosed)
    header_only = tmp_path / "bad_header.csv"
    header_only.write_text('"text" x,label\n', encoding="utf-8")
    with pytest.raises(InvalidRow, match=rf"^{header_only}:1: malformed quoting.*the header row must parse"):
        reader.read(header_only)


def test_jsonl_missing_key_names_the_key_and_line(tmp_path):
    path = tmp_path / "pairs.jsonl"
    lines = [{"q1": "가", "q2": "나", "same": 1}, {"q1": "다", "same": 0}, {"q1": "라", "q2": "마", "same": 1}]
    path.write_text(BOM + "\r\n".join(json.dumps(r, ensure_ascii=False) for r in lines) + "\r\n\r\n", encoding="utf-8")
    reader = SeqClsReader(text_column="q1", text_pair_column="q2", label_column="same")  # jsonl: from the extension
    with pytest.raises(
        InvalidRow,
        match=rf"^{path}:2: missing key\(s\) 'q2' \(record has \['q1', 'same'\]\); "
        r"fix the row or set seq_cls.skip_invalid true",
    ):
        reader.read(path)
    skipping = SeqClsReader(text_column="q1", text_pair_column="q2", label_column="same", skip_invalid=True)
    assert [(e["line"], e["text_pair"], e["label"]) for e in skipping.read(path)] == [(1, "나", "1"), (3, "마", "1")]
    with pytest.raises(ReaderOptionError, match=r"seq_cls.text_column is the index 1, but jsonl records are named"):
        SeqClsReader().read(path)
    u2028 = tmp_path / "sep.jsonl"  # a line separator inside a JSON string is not a line end
    u2028.write_text(
        json.dumps({"sentence1": "a\u2028b", "label": "x"}, ensure_ascii=False)
        + "\n"
        + json.dumps({"sentence1": "c"})
        + "\n",
        encoding="utf-8",
    )
    with pytest.raises(InvalidRow, match=rf"^{u2028}:2: missing key\(s\) 'label'"):
        JsonClsReader().read(u2028)


def test_token_classification_reads_csv_and_jsonl(tmp_path):
    conll = tmp_path / "ner.csv"
    conll.write_text(
        BOM + '## s1\tsentence one\r\n김,B-PS\r\n",",O\r\n"""",O\r\n\r\n서,B-LC\r\n울,I-LC\r\n', encoding="utf-8"
    )
    examples = TokClsReader().read(conll)
    assert [(e["id"], e["units"], e["tags"]) for e in examples] == [
        ("s1", ["김", ",", '"'], ["B-PS", "O", "O"]),
        ("2", ["서", "울"], ["B-LC", "I-LC"]),
    ]
    jsonl = tmp_path / "ner.jsonl"
    jsonl.write_text(
        json.dumps({"id": "a", "tokens": ["서", "울"], "tags": ["B-LC", "I-LC"]})
        + "\n"
        + json.dumps({"id": "b", "tokens": ["x"], "ner_tags": [0]})
        + "\n",
        encoding="utf-8",
    )
    reader = TokClsReader(token_column="tokens", label_column="tags", id_column="id", skip_invalid=True)
    assert [(e["id"], e["text"], e["tags"]) for e in reader.read(jsonl)] == [("a", "서울", ["B-LC", "I-LC"])]
    with pytest.raises(InvalidRow, match=rf"^{jsonl}:2: missing key 'tags'"):
        TokClsReader(token_column="tokens", label_column="tags").read(jsonl)
    indexed = TokClsReader(token_column="tokens", label_column="ner_tags", labels=["B-PS", "O"], skip_invalid=True)
    assert [e["tags"] for e in indexed.read(jsonl)] == [["B-PS"]]


def test_format_options_are_overrides_on_every_shipped_config():
    """format, header, delimiter, quotechar, escapechar and the columns are keys of every row reader block."""
    from claf.config import resolve_config
    from claf.config.loader import base_config_dirs
    from claf.registry import READERS

    root = base_config_dirs()[0]
    checked = 0
    for path in sorted(root.rglob("*.json")):
        config = json.loads(path.read_text())
        dataset = config.get("data_reader", {}).get("dataset")
        if dataset not in ("seq_cls", "seq_reg", "json_cls", "json_reg", "tok_cls"):
            continue
        name = path.relative_to(root).with_suffix("").as_posix()
        argv = [
            f"--{dataset}.format",
            "csv",
            f"--{dataset}.delimiter",
            ";",
            f"--{dataset}.quotechar",
            "'",
            f"--{dataset}.escapechar",
            "\\",
            f"--{dataset}.label_column",
            "3",
        ]
        argv += [f"--{dataset}.header", "false"] if dataset != "tok_cls" else []
        block = resolve_config(name, argv, kind="finetune").data_reader[dataset]
        reader = READERS.get(dataset)(**block)
        assert (reader.format, reader.delimiter, reader.quotechar, reader.escapechar) == ("csv", ";", "'", "\\"), name
        checked += 1
    assert checked >= 18
