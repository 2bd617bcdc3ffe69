"""The wide suite's floors (no model: the majority label, or word-piece overlap for STS) are what
``benchmarks/trivial_baselines.json`` says, recomputed from the mirror."""

import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

import trivial_baselines  # noqa: E402


def test_overlap_is_the_share_of_shared_word_pieces(mirror):
    pieces = trivial_baselines.word_pieces(mirror)
    same = {"text": "영화가 정말 재미있다", "text_pair": "영화가 정말 재미있다"}
    assert trivial_baselines.overlap(pieces, same) == 1.0
    assert trivial_baselines.overlap(pieces, {"text": "영화", "text_pair": "헌법"}) == 0.0
    a, b = pieces("영화가 재미있다"), pieces("영화가 지루하다")
    half = trivial_baselines.overlap(pieces, {"text": "영화가 재미있다", "text_pair": "영화가 지루하다"})
    assert half == pytest.approx(len(a & b) / len(a | b)) and 0 < half < 1


def test_the_shipped_floors_are_recomputed_from_the_mirror(mirror):
    shipped = json.loads((ROOT / "benchmarks" / "trivial_baselines.json").read_text(encoding="utf-8"))
    floors = trivial_baselines.floors(shipped["recipe"], mirror)
    assert set(floors) == set(shipped["tasks"])
    for task, floor in floors.items():
        assert floor["method"] == shipped["tasks"][task]["method"], task
        assert floor["metrics"] == pytest.approx(shipped["tasks"][task]["metrics"], abs=1e-3), task
    # a classification floor is the training split's majority label, scored on the dev split
    assert floors["kornli"]["metrics"]["accuracy"] == pytest.approx(100 / 3, abs=0.01)  # XNLI: balanced
    assert floors["korsts"]["method"].startswith("word-piece overlap")
