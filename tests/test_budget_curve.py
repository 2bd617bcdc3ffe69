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


def _database(path: Path, rows: list[tuple[str, int, int, float]]) -> str:
    """A benchmark database holding ``(model, step, seed, accuracy)`` NSMC and QP results, 200 dev examples each."""
    import numpy as np

    from claf.db.engine import open_engine, session_factory
    from claf.results.catalog import migrate
    from claf.results.payloads import ResultIn
    from claf.results.store import put_result

    url = f"sqlite:///{path}"
    engine = open_engine(url)
    migrate(engine)
    factory = session_factory(engine)
    truth = [i % 2 for i in range(200)]
    for (model, step, seed, accuracy), task in ((row, task) for row in rows for task in ("nsmc", "qp")):
        right = np.random.default_rng([seed, step, len(task)]).random(200) < accuracy
        predictions = [t if ok else 1 - t for t, ok in zip(truth, right)]
        examples = {"ids": [f"e{i}" for i in range(200)], "predictions": predictions, "references": truth}
        body = {
            "benchmark": "klue",
            "task": task,
            "checkpoint": {"model": model, "step": step, "name": f"{model}-{step}"},
            "seed": seed,
            "metrics": {"accuracy": 100.0 * float(np.mean(right))},
            "config_hash": "0123456789abcdef",
            "examples": examples | {"metrics": ["accuracy"]},
        }
        put_result(factory, ResultIn(**body))
    engine.dispose()
    return url


def test_a_curve_pools_databases_and_its_entry_goes_first(tmp_path, monkeypatch):
    """The checkpoints of a point fine-tuned in one database, the random-init baseline in another: the point
    reads both, and the new entry becomes the first one (the README's table) without losing the older one."""
    seeds = (1, 2, 3)
    ours = _database(tmp_path / "ours.db", [("tiny", 8000, s, 0.9) for s in seeds])
    base = _database(tmp_path / "base.db", [("tiny-random-init", 0, s, 0.6) for s in seeds])
    run_folder(tmp_path / "runs" / "s42", threads=2)
    out = tmp_path / "curve.json"
    out.write_text(json.dumps({"older kind": {"points": []}}), encoding="utf-8")
    argv = ["budget_curve.py", "--db", ours, "--db", base, "--kind", "new kind", "--draws", "200"]
    argv += ["--point", f"tiny@8000={tmp_path / 'runs' / 's*'}", "--baseline", "tiny-random-init@0", "--out", str(out)]
    monkeypatch.setattr(sys, "argv", argv)
    budget_curve.main()
    data = json.loads(out.read_text(encoding="utf-8"))
    assert list(data) == ["new kind", "older kind"]
    (point,) = data["new kind"]["points"]
    assert point["gain"]["verdict"] == "better" and point["tasks"]["qp"]["n"][:2] == [1, 3]
    monkeypatch.setattr(sys, "argv", argv[:3] + argv[5:])  # without the baseline's database
    with pytest.raises(SystemExit, match="no results of model 'tiny-random-init'"):
        budget_curve.main()
    assert list(json.loads(out.read_text(encoding="utf-8"))) == ["new kind", "older kind"]
