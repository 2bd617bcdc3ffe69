"""``benchmarks/budget_curve.py``: a point's compute is its run's training time up to the point's step, so one
pre-training run's intermediate checkpoints are budget points of their own."""

import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

import budget_curve  # noqa: E402


def run_folder(path: Path, threads: int) -> Path:
    path.mkdir(parents=True)
    history = [{"global_step": step, "train_time": 100.0 + step / 1000} for step in (2000, 4000, 6000, 8000)]
    (path / "metrics.json").write_text(json.dumps({"history": history}), encoding="utf-8")
    (path / "config.json").write_text(json.dumps({"trainer": {"num_threads": threads}}), encoding="utf-8")
    return path


def test_a_point_counts_its_run_only_up_to_its_step(tmp_path):
    run_folder(tmp_path / "s42", threads=2)
    whole = budget_curve.compute(str(tmp_path / "s*"))["s42"]
    assert whole == {"steps": 8000, "seconds": 420.0, "threads": 2, "cpu_seconds": 840}
    half = budget_curve.compute(str(tmp_path / "s*"), upto=4000)["s42"]
    assert half == {"steps": 4000, "seconds": 206.0, "threads": 2, "cpu_seconds": 412}
    nominal = budget_curve.compute(str(tmp_path / "s*"), seconds_per_step=0.05, upto=2000)["s42"]
    assert nominal["cpu_seconds"] == 200  # 2,000 steps x 0.05 s x 2 threads
    with pytest.raises(SystemExit, match="no run folder matches"):
        budget_curve.compute(str(tmp_path / "none*"))
