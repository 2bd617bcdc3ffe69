"""Where the dashboard opens and what it says where there is nothing to show: `/` goes to the benchmark with the
newest result (a page naming the command that fills the database while there is none), an empty task names the
command that fills it, and the average says over which tasks it is taken (the real app in-process, over SQLite;
the first visit in a browser: test_bench_dashboard)."""

import re

import pytest
from bench_support import TOKEN, rest_poster, result_body

from claf.config.loader import find_base_config
from claf.results.fill import fill_command, starter_command

STARTER = "python -m claf factory run --base_config factory/larva_kor_tiny_klue"

# a benchmark whose average has something to leave out: a lower-is-better task in it and a task nobody ran
AVG = {
    "name": "avg",
    "tasks": [
        {"name": "a", "metric": "accuracy"},
        {"name": "b", "metric": "f1", "average_weight": 3},
        {"name": "loss", "metric": "perplexity", "higher_is_better": False},
        {"name": "never", "metric": "accuracy"},
    ],
}


@pytest.fixture
def client(tmp_path):
    from fastapi.testclient import TestClient

    from claf.server.app import create_app

    with TestClient(create_app(f"sqlite:///{tmp_path}/bench.sqlite", token=TOKEN)) as c:
        yield c


def post(client, benchmark, task, model="m", score=70.0, metric="accuracy"):
    body = result_body(model, task, 1000, 1, score, benchmark=benchmark)
    body["metrics"][metric] = score
    r = rest_poster(client)("/api/v1/results", body, "post")
    assert r.status_code in (200, 201), r.text


def landing(client):
    r = client.get("/", follow_redirects=False)
    return r.headers["location"] if r.status_code == 307 else (r.status_code, r.text)


def test_the_index_opens_the_benchmark_with_the_newest_result(client):
    status, html = landing(client)
    assert status == 200 and "No results yet" in html and f"<code>{STARTER}</code>" in html
    post(client, "klue", "nsmc")
    assert landing(client) == "/benchmarks/klue"
    post(client, "glue", "cola", metric="mcc")  # newer, though alphabetically first or not
    assert landing(client) == "/benchmarks/glue"
    post(client, "klue", "qp")
    assert landing(client) == "/benchmarks/klue"


def test_an_empty_task_names_the_command_that_fills_it():
    assert starter_command() == STARTER
    assert fill_command("klue", "nsmc", "nsmc/") == STARTER  # the smallest recipe with the task
    assert fill_command("klue", "pawsx_split") == "python -m claf factory run --base_config factory/larva_kor_tiny_wide"
    # no factory runs it: the fine-tuning BaseConfig of its data, not one a factory runs for another task
    assert fill_command("klue", "klue_nli", "klue/klue-nli", server="http://h:1") == (
        "python -m claf train --base_config klue/nli_bert, then python -m claf results push logs/klue/nli_bert"
        " --server http://h:1"
    )
    for task, prefix in (("cola", "glue/CoLA/"), ("korquad", "korquad/"), ("jsquad", "jglue/datasets/jsquad")):
        command = fill_command({"korquad": "klue", "jsquad": "jglue"}.get(task, "glue"), task, prefix)
        assert find_base_config(re.search(r"--base_config (\S+),", command).group(1)).is_file(), command
    assert fill_command("avg", "a") == (
        "python -m claf train --base_config CONFIG (a BaseConfig whose benchmark block names benchmark avg"
        " and task a), then python -m claf results push RUN_DIR"
    )


def test_the_average_is_over_the_tasks_with_results_where_higher_is_better(client):
    r = rest_poster(client)("/api/v1/benchmarks/avg", AVG, "put")
    assert r.status_code in (200, 201), r.text
    for task, score in (("a", 80.0), ("b", 60.0), ("loss", 3.0)):
        post(client, "avg", task, "full", score, {"b": "f1", "loss": "perplexity"}.get(task, "accuracy"))
    post(client, "avg", "a", "partial", 90.0)
    table = client.get("/api/v1/benchmarks/avg/table").json()
    column = table["columns"][-1]
    assert column["key"] == "average" and column["tasks"] == ["a", "b"] and column["weights"] == {"a": 1, "b": 3}
    rows = {r["model"]: r for r in table["rows"]}
    assert rows["full"]["cells"]["average"]["value"] == pytest.approx((80.0 + 3 * 60.0) / 4)  # no loss, no never
    assert rows["full"]["average"] == {"tasks": ["a", "b"], "missing": []}
    assert rows["partial"]["cells"]["average"] is None and rows["partial"]["average"]["missing"] == ["b"]

    html = client.get("/benchmarks/avg").text
    cells = dict(re.findall(r'<tr data-model="([^"]+)".*?<td data-key="average".*?title="([^"]*)"', html, re.S))
    assert cells == {
        "full": "weighted avg of a ×1, b ×3",
        "partial": "no average: 1 of 2 tasks have results (missing b)",
    }
    # the task nobody ran is a line naming a command, not a chart; the static report says the same
    from claf.server.dashboard import render_benchmark, with_table

    assert 'id="chart-never"' not in html and re.search(r'<p class="no-results" data-task="never">', html)
    assert '<th data-key="never"' not in html and '<th data-key="loss"' in html  # no column where no row has a value
    series = {t: client.get(f"/api/v1/benchmarks/avg/tasks/{t}/series").json() for t in ("a", "b", "loss", "never")}
    report = render_benchmark(with_table(table, series, ["avg"], None, None), inline=True)
    assert 'id="chart-never"' not in report and 'id="chart-a"' in report
    assert "no results yet: run <code>python -m claf train --base_config CONFIG" in report
    assert 'title="no average: 1 of 2 tasks have results (missing b)"' in report
