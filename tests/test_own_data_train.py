"""Your own data, end to end, the way the README tells a user: a shipped BaseConfig, overrides only.

A CSV written here (BOM, CRLF, quoted commas, quoted newlines, doubled quotes, empty trailing
lines) trains a tiny BERT through ``train.py``; ``predict.py`` then reads a JSON Lines file of
the same texts and gives the labels the run gave them at validation. A sentence-pair TSV trains
a pair config the same way (the README's two examples). NSMC, unlimited, drops its empty reviews and trains.
"""

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # end-to-end: real training runs, subprocesses or servers
ROOT = Path(__file__).resolve().parents[1]
BOM = "\ufeff"


def run(script, *args):
    result = subprocess.run(
        [sys.executable, str(ROOT / script), *map(str, args)],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"},
    )
    return result


def nsmc_rows(mirror, start, count):
    lines = (mirror / "nsmc" / "ratings_train.txt").read_text(encoding="utf-8").splitlines()[1 + start :]
    rows = []
    for line in lines:
        row_id, text, label = line.split("\t")
        if text.strip():
            rows.append((row_id, text, "pos" if label == "1" else "neg"))
        if len(rows) == count:
            return rows


def tricky(rows):
    """Give some texts what real CSV files hold: commas, newlines, quotes (quoted by csv.writer)."""
    out = []
    for i, (row_id, text, label) in enumerate(rows):
        text = {0: f"{text}, 그렇죠", 1: f"{text}\n두 번째 줄", 2: f'"{text}" 라고', 3: f"{text}\r\n끝"}.get(
            i % 7, text
        )
        out.append((row_id, text, label))
    return out


def write_csv(path, header, rows):
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write(BOM)
        writer = csv.writer(f, lineterminator="\r\n")
        writer.writerow(header)
        writer.writerows(rows)
        f.write("\r\n")
    return path


def test_own_csv_trains_and_predicts_from_json_lines(tmp_path, mirror, tiny_korean_bert):
    train = write_csv(tmp_path / "train.csv", ("review_id", "review", "sentiment"), tricky(nsmc_rows(mirror, 0, 400)))
    valid_rows = tricky(nsmc_rows(mirror, 5000, 120))
    valid = write_csv(tmp_path / "valid.csv", ("review_id", "review", "sentiment"), valid_rows)
    assert ', 그렇죠",pos'.encode() in train.read_bytes()  # a quoted comma really is in the file
    log_dir = tmp_path / "run"
    result = run(
        "train.py",
        "--base_config",
        "klue/nsmc_bert",
        "--data_reader.train_file_path",
        train,
        "--data_reader.valid_file_path",
        valid,
        "--seq_cls.text_column",
        "review",
        "--seq_cls.label_column",
        "sentiment",
        "--seq_cls.id_column",
        "review_id",
        "--bert_for_seq_cls.pretrained_model_name",
        tiny_korean_bert,
        "--trainer.log_dir",
        log_dir,
        "--trainer.num_epochs",
        "1",
        "--optimizer.learning_rate",
        "1e-3",
        "--seq_cls.max_seq_length",
        "64",
        "--trainer.progress",
        "false",
        "--trainer.num_threads",
        "1",
    )
    assert result.returncode == 0, result.stderr[-3000:]
    frozen = json.loads((log_dir / "config.json").read_text())["data_reader"]["seq_cls"]
    assert frozen["format"] is None and frozen["text_column"] == "review"
    validated = [json.loads(line) for line in (log_dir / "predictions" / "valid.json").read_text().splitlines()]
    assert [p["id"] for p in validated] == [row_id for row_id, _, _ in valid_rows]  # every row, multi-line ones too
    assert {p["label"] for p in validated} <= {"pos", "neg"}

    inputs = tmp_path / "reviews.jsonl"
    inputs.write_text(
        "".join(json.dumps({"id": row_id, "text": text}, ensure_ascii=False) + "\n" for row_id, text, _ in valid_rows),
        encoding="utf-8",
    )
    result = run("predict.py", log_dir, "--input", inputs, "--output", tmp_path / "out.jsonl")
    assert result.returncode == 0, result.stderr[-3000:]
    predicted = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert predicted == validated  # the texts read from the CSV are exactly the texts given as JSON


def test_own_pair_tsv_trains_with_a_pair_config_and_predicts_json_lines(tmp_path, mirror, tiny_korean_bert):
    """The README's pair example: question pairs renamed first/second/same, klue/kornli_bert, overrides only."""
    from claf.commands.predict import main as predict_main
    from claf.commands.train import main as train_main

    lines = (mirror / "question_pair" / "train.txt").read_text(encoding="utf-8").splitlines()
    header = lines[0].split("\t")
    q1, q2, same = header.index("question1"), header.index("question2"), header.index("is_duplicate")
    rows = [
        (f[q1], f[q2], "same" if f[same] == "0" else "different") for f in (line.split("\t") for line in lines[1:301])
    ]
    for name, part in (("pairs_train.tsv", rows[:240]), ("pairs_dev.tsv", rows[240:])):
        (tmp_path / name).write_text(
            "first\tsecond\tsame\n" + "".join("\t".join(r) + "\n" for r in part), encoding="utf-8"
        )
    log_dir = tmp_path / "run"
    assert (
        train_main(
            [
                "--base_config",
                "klue/kornli_bert",
                "--data_reader.train_file_path",
                str(tmp_path / "pairs_train.tsv"),
                "--data_reader.valid_file_path",
                str(tmp_path / "pairs_dev.tsv"),
                "--seq_cls.text_column",
                "first",
                "--seq_cls.text_pair_column",
                "second",
                "--seq_cls.label_column",
                "same",
                "--seq_cls.labels",
                "null",
                "--trainer.log_dir",
                str(log_dir),
                "--bert_for_seq_cls.pretrained_model_name",
                str(tiny_korean_bert),
                "--trainer.num_epochs",
                "1",
                "--trainer.progress",
                "false",
                "--trainer.num_threads",
                "1",
                "--seq_cls.max_seq_length",
                "64",
            ]
        )
        == 0
    )
    metrics = json.loads((log_dir / "metrics.json").read_text())
    assert 0 <= metrics["best"]["valid/accuracy"] <= 100
    inputs = tmp_path / "new_pairs.jsonl"
    inputs.write_text(
        "".join(json.dumps({"text": a, "text_pair": b}, ensure_ascii=False) + "\n" for a, b, _ in rows[:3]),
        encoding="utf-8",
    )
    assert predict_main([str(log_dir), "--input", str(inputs), "--output", str(tmp_path / "out.jsonl")]) == 0
    answers = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert len(answers) == 3 and {a["label"] for a in answers} <= {"same", "different"}


def test_nsmc_unlimited_drops_empty_reviews_and_trains(tmp_path, tiny_korean_bert, capsys, caplog):
    """Issue 12: the flagship command without limits, through train.py's entry point (in-process to save the
    imports; a tiny model and two steps instead of BERT-base epochs)."""
    from claf.commands.train import main

    argv = [
        "--base_config",
        "klue/nsmc_bert",
        "--bert_for_seq_cls.pretrained_model_name",
        str(tiny_korean_bert),
        "--trainer.log_dir",
        str(tmp_path / "run"),
        "--trainer.max_steps",
        "2",
        "--seq_cls.max_seq_length",
        "32",
        "--iterator.eval_batch_size",
        "512",
        "--trainer.progress",
        "false",
        "--trainer.num_threads",
        "1",
    ]
    assert main(argv) == 0
    assert "ratings_train.txt: dropped 5 row(s) with empty text (seq_cls.skip_empty is true)" in caplog.text
    assert "ratings_test.txt: dropped 3 row(s) with empty text (seq_cls.skip_empty is true)" in caplog.text
    predictions = (tmp_path / "run" / "predictions" / "valid.json").read_text().splitlines()
    assert len(predictions) == 50000 - 3
    capsys.readouterr()
    strict = [str(tmp_path / "no") if arg == str(tmp_path / "run") else arg for arg in argv]
    assert main([*strict, "--seq_cls.skip_empty", "false"]) == 1
    train_file = Path(os.environ["CLAF_DATA_MIRROR"]) / "nsmc" / "ratings_train.txt"
    assert capsys.readouterr().err.strip() == (
        f"error: {train_file}:25859: empty text (set seq_cls.skip_empty true to drop rows with empty text); "
        "fix the row or set seq_cls.skip_invalid true to skip it"
    )
