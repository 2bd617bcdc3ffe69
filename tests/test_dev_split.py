"""``split``: one labelled file cut into train and validation rows by a fixed seed (the dev-set tasks)."""

import pytest
from conftest import MIRROR

from claf.config import ConfigError, resolve_config
from claf.data.readers.base import ReaderOptionError
from claf.data.readers.split import split_rows
from claf.experiment import build_reader

ROWS = [{"id": f"r{i}", "label": str(i % 2)} for i in range(100)]


def test_a_cut_is_exact_disjoint_ordered_and_fixed_by_its_seed():
    train, valid = split_rows(ROWS, 42, 0.3)
    assert len(valid) == 30 and len(train) == 70
    assert {r["id"] for r in train} | {r["id"] for r in valid} == {r["id"] for r in ROWS}
    assert not {r["id"] for r in train} & {r["id"] for r in valid}
    assert train == sorted(train, key=ROWS.index) and valid == sorted(valid, key=ROWS.index)
    assert split_rows(list(reversed(ROWS)), 42, 0.3)[1] == list(reversed(valid))  # rows, not positions
    assert split_rows(ROWS, 43, 0.3)[1] != valid


def test_a_grouped_cut_keeps_each_group_on_one_side():
    rows = [{"id": f"r{i}", "text": f"premise {i // 3}", "label": str(i % 3)} for i in range(300)]
    train, valid = split_rows(rows, 42, 0.3, group_by="text")
    assert len(valid) == 90 and len(train) == 210  # whole groups of 3
    assert not {r["text"] for r in train} & {r["text"] for r in valid}
    assert split_rows(rows, 42, 0.3, group_by="text") == (train, valid)
    ungrouped = split_rows(rows, 42, 0.3)[1]
    assert {r["text"] for r in ungrouped} & {r["text"] for r in split_rows(rows, 42, 0.3)[0]}  # what it prevents


def test_a_cut_needs_unique_ids():
    with pytest.raises(ValueError, match="not unique"):
        split_rows(ROWS + ROWS[:1], 42, 0.3)


@pytest.mark.parametrize("bad", ['{"valid_share": 1.0}', '{"valid_share": 0.3, "seed": -1}', '{"seed": 1}'])
def test_a_bad_split_is_one_line(bad):
    with pytest.raises(ConfigError, match="split"):
        resolve_config("klue/pawsx_split_bert", {"seq_cls.split": bad}, kind="finetune")


@pytest.mark.skipif(not (MIRROR / "pawsx_ko" / "dev_2k.tsv").is_file(), reason=f"no data mirror at {MIRROR}")
@pytest.mark.parametrize(
    "name, sizes",
    [
        ("klue/pawsx_split_bert", (1400, 600)),
        ("klue/klue_nli_split_bert", (2100, 900)),
        ("klue/klue_sts_split_bert", (363, 156)),
    ],
)
def test_the_dev_split_tasks_read_their_cut(name, sizes):
    cfg = resolve_config(name, kind="finetune")
    dr = cfg.to_dict()["data_reader"]
    train, valid = build_reader(cfg).read_splits(dr)
    assert (len(train), len(valid)) == sizes
    assert not {e["id"] for e in train} & {e["id"] for e in valid}
    if dr[dr["dataset"]]["split"].get("group_by"):  # no premise (first sentence) on both sides
        assert not {e["text"] for e in train} & {e["text"] for e in valid}
    assert build_reader(cfg).read_splits(dr, train=False) == (None, valid)  # eval reads the same rows
    other = resolve_config(name, {"data_reader.train_file_path": "nsmc/ratings_test.txt"}, kind="finetune")
    with pytest.raises(ReaderOptionError, match="same file"):
        build_reader(other).read_splits(other.to_dict()["data_reader"])
