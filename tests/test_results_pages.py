"""Results pages are generated from the data: a page or a judged table that differs from what its
sources give fails here (run the scripts named in the message)."""

import importlib.util
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def load(name):
    spec = importlib.util.spec_from_file_location(name, ROOT / "benchmarks" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_pretraining_page_is_what_the_data_gives():
    render = load("render_results")
    assert render.PAGE.read_text(encoding="utf-8") == render.render(), (
        "docs/results/pretraining.md is out of date: run python benchmarks/render_results.py"
    )


def test_the_judged_tables_are_what_the_shipped_tables_give(tmp_path, monkeypatch):
    """Re-judge benchmarks/payoff_results.json and compare with the committed table_intervals.json."""
    intervals = load("table_intervals")
    out = tmp_path / "again.json"
    monkeypatch.setattr("sys.argv", ["table_intervals.py", "--json", str(out)])
    intervals.main()
    committed = json.loads((ROOT / "benchmarks" / "table_intervals.json").read_text(encoding="utf-8"))
    assert json.loads(out.read_text(encoding="utf-8")) == committed, (
        "benchmarks/table_intervals.json is out of date: run python benchmarks/table_intervals.py"
    )
    survival = committed["bold_survival"]
    assert 0 <= survival["survived"] <= survival["judged"]
