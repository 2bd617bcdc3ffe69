"""Results pages are generated from the data: a page, the README's headline block or a judged table that
differs from what its sources give fails here (run the scripts named in the message)."""

import importlib.util
import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "benchmarks"


def load(name):
    spec = importlib.util.spec_from_file_location(name, BENCH / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


render = load("render_results")
from results_pages import PAGES, headline  # noqa: E402  (render_results puts benchmarks/ on sys.path)
from results_pages.common import DataError, provenance  # noqa: E402

RENDERED = render.rendered()


@pytest.mark.parametrize("path", list(RENDERED), ids=lambda p: p.name)
def test_the_page_is_what_its_data_gives(path):
    assert path.is_file() and path.read_text(encoding="utf-8") == RENDERED[path], (
        f"docs/results/{path.name} is out of date: run python benchmarks/render_results.py"
    )


def test_no_page_is_stale_or_orphaned():
    assert render.stale(RENDERED) == []


def test_every_results_json_has_a_page():
    used = {source for module in PAGES for source in module.SOURCES}
    files = {p.relative_to(BENCH).as_posix() for p in BENCH.rglob("*.json")}
    assert files - used == set(), "a benchmarks JSON no results page renders: add it to benchmarks/results_pages"
    assert used - files == set()


@pytest.mark.parametrize("module", PAGES, ids=lambda m: m.PAGE)
def test_every_table_names_its_machine_date_and_command(module):
    """Each section (## or ###) that holds a table says its machine, date and command above the table."""
    section: list[str] = []
    for line in RENDERED[render.RESULTS / module.PAGE].splitlines():
        if line.startswith("## "):
            section = []
        section.append(line)
        if line.startswith("|---"):
            said = "\n".join(section)
            for label in ("- Machine: ", "- Date: ", "- Command: `"):
                assert label in said, f"{module.PAGE}: a table under '{section[0]}' has no '{label.strip()}' line"


def test_a_section_without_its_command_is_one_line_naming_file_and_key():
    with pytest.raises(DataError) as e:
        provenance({"machine": "x", "date": "y"}, "serve_speed.json", "'latency_x'")
    assert str(e.value).count("\n") == 0
    assert "benchmarks/serve_speed.json" in str(e.value) and "'command'" in str(e.value) and "latency_x" in str(e.value)


def _readme(tmp_path, block=None):
    """A README copy with the headline markers (and the given block between them)."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    start = text.find(headline.START)
    if start >= 0:  # the real README already has the block: keep the copy's text outside it
        text = text[:start] + text[text.find(headline.END) + len(headline.END) :]
    body = "" if block is None else f"\n{block}\n"
    path = tmp_path / "README.md"
    path.write_text(f"# Title\n\n{headline.START}{body}{headline.END}\n\n{text}", encoding="utf-8")
    return path


def test_the_headline_block_is_written_in_place_and_then_checks(tmp_path):
    readme = _readme(tmp_path)
    assert headline.problem(readme) is not None
    before = readme.read_text(encoding="utf-8")
    assert headline.update(readme)
    after = readme.read_text(encoding="utf-8")
    assert headline.problem(readme) is None
    outside = [(t[: t.find(headline.START)], t[t.find(headline.END) :]) for t in (before, after)]
    assert outside[0] == outside[1]  # only the block changed
    table = headline.render()
    runs = json.loads((BENCH / "payoff_3x3.json").read_text(encoding="utf-8"))
    first = next(iter(runs.values()))
    assert first["cpu"] in table and first["date"] in table
    tasks = first["compare"]["tasks"]
    rows = [line for line in table.splitlines() if line.startswith("| ")]
    assert len(rows) == len(tasks) + 2  # the header, one row per task, the average
    for task in tasks:
        assert f"{task['delta']:+.2f} [{task['low']:+.2f}, {task['high']:+.2f}] | {task['verdict']}" in table


def test_a_tampered_headline_figure_fails_the_check(tmp_path, capsys):
    block = headline.render()
    readme = _readme(tmp_path, block)
    assert render.main(["--check", "--readme", str(readme)]) == 0
    first = next(iter(json.loads((BENCH / "payoff_3x3.json").read_text(encoding="utf-8")).values()))
    figure = f"| {first['compare']['tasks'][0]['delta']:+.2f} ["  # the first task's difference, e.g. | +0.48 [
    assert figure in block
    readme.write_text(readme.read_text(encoding="utf-8").replace(figure, "| +9.99 [", 1), encoding="utf-8")
    assert headline.problem(readme) is not None
    capsys.readouterr()
    assert render.main(["--check", "--readme", str(readme)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "README.md" in err[0] and "payoff_3x3.json" in err[0]


def test_a_readme_without_the_markers_fails_the_check_in_one_line(tmp_path, capsys):
    readme = tmp_path / "README.md"
    readme.write_text("# Title\n\n| task | difference |\n", encoding="utf-8")
    assert render.main(["--check", "--readme", str(readme)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and headline.START in err[0] and "README.md" in err[0]
    assert not headline.update(readme)  # nothing written without the markers
    assert readme.read_text(encoding="utf-8") == "# Title\n\n| task | difference |\n"


def test_the_readme_headline_is_what_the_data_gives():
    assert headline.problem(ROOT / "README.md") is None


def test_the_judged_tables_are_what_the_shipped_tables_give(tmp_path, monkeypatch):
    """Re-judge benchmarks/payoff_results.json and compare with the committed table_intervals.json."""
    intervals = load("table_intervals")
    out = tmp_path / "again.json"
    monkeypatch.setattr(sys, "argv", ["table_intervals.py", "--json", str(out)])
    intervals.main()
    committed = json.loads((BENCH / "table_intervals.json").read_text(encoding="utf-8"))
    assert json.loads(out.read_text(encoding="utf-8")) == committed, (
        "benchmarks/table_intervals.json is out of date: run python benchmarks/table_intervals.py"
    )
    survival = committed["bold_survival"]
    assert 0 <= survival["survived"] <= survival["judged"]


def test_a_tampered_budget_figure_fails_the_check(tmp_path):
    from results_pages import budget

    readme = tmp_path / "README.md"
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert budget.START in text and budget.readme_block() in text
    first = next(iter(json.loads((BENCH / budget.SOURCE).read_text(encoding="utf-8")).values()))["points"][0]
    figure = f"| {first['gain']['delta']:+.2f} ["
    readme.write_text(text.replace(figure, "| +9.99 [", 1), encoding="utf-8")
    problem = headline.problem(readme)
    assert problem is not None and budget.SOURCE in problem and budget.START in problem
    assert headline.update(readme) and headline.problem(readme) is None
