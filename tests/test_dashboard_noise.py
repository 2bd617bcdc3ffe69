"""The dashboard tells signal from noise, in a real headless Chromium: 95% interval bands on the step charts,
a row and a line per pre-training replica on demand, and the compare view's forest plot (also in the report)."""

import re
import subprocess
import sys
import time

import pytest
import requests
from bench_support import (
    REPLICAS,
    ServerProcess,
    chromium,
    database_url,
    noise_compute,
    open_page,
    requested_urls,
    rest_poster,
)
from bench_support import seed_noise as seed

pytestmark = pytest.mark.slow  # real server processes

ALL = {*REPLICAS, "tiny-random-init"}


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    home = tmp_path_factory.mktemp("noise")
    server = ServerProcess(database_url("sqlite", home), home).start()
    seed(rest_poster(requests.Session(), server.url))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def browser():
    yield from chromium()


def api(site, path, **params):
    r = requests.get(f"{site.url}/api/v1/{path}", params=params)
    assert r.status_code == 200, r.text
    return r.json()


def chart(browser, task, kind):
    """The chart's traces of one kind (score, band, pretraining) as plain data."""
    return browser.execute_script(
        f"return document.getElementById('chart-{task}').data.filter(t => t.meta.kind === '{kind}')"
        ".map(t => ({model: t.meta.model, x: t.x, y: t.y, fill: t.fill || null, name: t.name,"
        " bar: t.error_y ? {visible: t.error_y.visible, up: t.error_y.array, down: t.error_y.arrayminus} : null}))"
    )


def table_models(browser):
    return browser.execute_script(
        "return [...document.querySelectorAll('#results tbody tr')].map(r => r.dataset.model)"
    )


def assert_bands_match(browser, series, task):
    """Each line's band: a filled polygon whose upper edge is the API's ``high`` and lower edge its ``low``."""
    bands = {b["model"]: b for b in chart(browser, task, "band")}
    with_band = {t["model"]: t for t in series["traces"] if sum(x is not None for x in t["low"]) > 1}
    assert set(bands) == set(with_band) and bands, (set(bands), set(with_band))
    for model, t in with_band.items():
        band = bands[model]
        assert band["fill"] == "toself"
        k = len(band["x"]) // 2
        assert band["x"][:k] == t["steps"] and band["x"][k:] == t["steps"][::-1]
        assert band["y"][:k] == pytest.approx(t["high"]) and band["y"][k:][::-1] == pytest.approx(t["low"])
        assert all(lo < v < hi for lo, v, hi in zip(t["low"], t["values"], t["high"]))


def test_the_step_chart_draws_bands_and_each_replica_on_demand(browser, site):
    requested_urls(browser)
    open_page(browser, f"{site.url}/benchmarks/noise")
    series = api(site, "benchmarks/noise/tasks/acc/series")
    assert_bands_match(browser, series, "acc")
    assert_bands_match(browser, api(site, "benchmarks/noise/tasks/score/series"), "score")
    assert set(table_models(browser)) == {"tiny", "tiny-random-init"}  # the replicas share a row by default
    title = browser.find_element("css selector", "#results tbody tr[data-model='tiny'] td").get_attribute("title")
    assert title == "replicas: tiny-s1, tiny-s2, tiny-s3"
    lines = {t["model"]: t for t in chart(browser, "acc", "score")}
    assert set(lines) == {"tiny", "tiny-random-init"} and lines["tiny"]["name"] == "tiny ×3"
    # random init has one step: its interval is an error bar, not a band
    base = {t["model"]: t for t in series["traces"]}["tiny-random-init"]
    bar = lines["tiny-random-init"]["bar"]
    assert bar["visible"] and bar["up"][0] == pytest.approx(base["high"][0] - base["values"][0])
    assert bar["down"][0] == pytest.approx(base["values"][0] - base["low"][0])
    assert [t["model"] for t in chart(browser, "acc", "pretraining")] == ["tiny"] * 3  # each replica's curve

    # the page's own control: replicas = each, then apply
    from selenium.webdriver.support.ui import Select

    Select(browser.find_element("id", "replicas")).select_by_visible_text("each")
    browser.find_element("css selector", "form.controls button[type=submit]").click()
    deadline = time.monotonic() + 60
    while "replicas=each" not in browser.current_url:
        assert time.monotonic() < deadline
        time.sleep(0.1)
    open_page(browser, browser.current_url)
    assert set(table_models(browser)) == ALL
    assert {t["model"] for t in chart(browser, "acc", "score")} == ALL
    each = api(site, "benchmarks/noise/tasks/acc/series", replicas="each")
    assert_bands_match(browser, each, "acc")
    assert {b["model"] for b in chart(browser, "acc", "band")} == set(REPLICAS)

    assert [e for e in browser.get_log("browser") if e["level"] == "SEVERE"] == []
    urls = requested_urls(browser)
    assert any(u.endswith("/vendor/plotly.min.js") for u in urls) and any(u.endswith("/forest.js") for u in urls)
    assert [u for u in urls if not u.startswith((f"{site.url}/", "data:", "blob:"))] == []


def follow_link(browser, site, link_id, lands_on):
    """Open the benchmark page, click the link ``link_id`` and wait for the page it opens to be drawn."""
    requested_urls(browser)
    open_page(browser, f"{site.url}/benchmarks/noise")
    browser.find_element("id", link_id).click()
    deadline = time.monotonic() + 60
    while lands_on not in browser.current_url:
        assert time.monotonic() < deadline
        time.sleep(0.1)
    open_page(browser, browser.current_url)


def forest(browser):
    return browser.execute_script(
        "const el = document.getElementById('forest'); const t = el.data[0];"
        "return {y: t.y, x: t.x, up: t.error_x.array, down: t.error_x.arrayminus,"
        " shapes: el.layout.shapes.map(s => [s.type, s.x0, s.x1, s.yref]),"
        " notes: [...el.querySelectorAll('.annotation-text')].map(a => a.textContent),"
        " verdicts: Object.fromEntries([...document.querySelectorAll('#compare tbody tr')]"
        "   .map(r => [r.dataset.task, r.querySelector('.verdict').textContent.trim()]))};"
    )


def assert_forest_matches(shown, report):
    rows = report["tasks"] + [report["average"]]
    assert [label.split(" (")[0] for label in shown["y"]] == [r["task"] for r in report["tasks"]] + ["average"]
    assert shown["x"] == pytest.approx([r["delta"] for r in rows])
    assert [d + u for d, u in zip(shown["x"], shown["up"])] == pytest.approx([r["high"] for r in rows])
    assert [d - u for d, u in zip(shown["x"], shown["down"])] == pytest.approx([r["low"] for r in rows])
    assert ["line", 0, 0, "paper"] in shown["shapes"]  # the vertical line at 0
    assert len(shown["notes"]) == len(rows)
    for note, r in zip(shown["notes"], rows):
        assert note.startswith(f"{r['verdict']} · P(A>B) {r['p_a_better']:.2f} · n ")
    for r in report["tasks"]:
        n = f"{'×'.join(map(str, r['a']['n']))} vs {'×'.join(map(str, r['b']['n']))}"
        assert any(note.endswith(n) for note in shown["notes"]), n
    assert shown["verdicts"]["score"] == "no detectable difference (scores only)"  # the tie is said, not hidden
    assert shown["verdicts"]["acc"] == "better" and shown["verdicts"]["average"] == report["average"]["verdict"]


def test_the_compare_view_is_a_forest_plot_of_the_compare_numbers(browser, site):
    follow_link(browser, site, "compare-link", "/compare?")
    report = api(site, "compare", a="tiny", b="random-init", benchmark="noise")
    assert {r["task"]: r["verdict"] for r in report["tasks"]} == {"acc": "better", "score": "no detectable difference"}
    assert_forest_matches(forest(browser), report)
    assert [e for e in browser.get_log("browser") if e["level"] == "SEVERE"] == []
    assert [u for u in requested_urls(browser) if not u.startswith((f"{site.url}/", "data:", "blob:"))] == []


def test_the_static_report_carries_bands_and_the_forest_plot(browser, site, tmp_path):
    out = tmp_path / "report.html"
    command = [sys.executable, "-m", "claf", "report", "--benchmark", "noise", "--out", str(out)]
    done = subprocess.run(
        command + ["--server", site.url, "--compare", "tiny@2k"], env=site.env(), capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    html = out.read_text(encoding="utf-8")
    assert re.findall(r"<(?:script|link)\b[^>]*\b(?:src|href)=\"(?!data:)[^>]*>", html) == []  # all inline
    requested_urls(browser)
    open_page(browser, out.as_uri())
    assert_bands_match(browser, api(site, "benchmarks/noise/tasks/acc/series"), "acc")
    assert_forest_matches(forest(browser), api(site, "compare", a="tiny@2k", b="random-init", benchmark="noise"))
    assert [e for e in browser.get_log("browser") if e["level"] == "SEVERE"] == []
    assert [u for u in requested_urls(browser) if not u.startswith(("file:", "data:", "blob:"))] == []

    # from the database itself, one row and line per replica, no comparison
    each = tmp_path / "each.html"
    done = subprocess.run(
        command[:-1] + [str(each), "--db", site.db_url, "--replicas", "each"], env=site.env(), capture_output=True
    )
    assert done.returncode == 0, done.stderr
    open_page(browser, each.as_uri())
    assert set(table_models(browser)) == ALL
    assert_bands_match(browser, api(site, "benchmarks/noise/tasks/acc/series", replicas="each"), "acc")
    assert browser.execute_script("return document.getElementById('forest')") is None


def test_the_budget_chart_plots_the_compare_averages_against_compute(browser, site):
    follow_link(browser, site, "budget-link", "/budget")
    shown = browser.execute_script(
        "const el = document.getElementById('budget-0'); const t = el.data.find(t => t.meta.kind === 'budget');"
        "return {x: t.x, y: t.y, up: t.error_y.array, down: t.error_y.arrayminus, text: t.text,"
        " xtype: el.layout.xaxis.type, unit: el.dataset.unit};"
    )
    assert shown["text"] == ["tiny@1000", "tiny@2000"] and shown["xtype"] == "log" and shown["unit"] == "CPU-seconds"
    for i, step in enumerate((1000, 2000)):
        avg = api(site, "compare", a=f"tiny@{step}", b="random-init", benchmark="noise")["average"]
        assert shown["y"][i] == pytest.approx(avg["delta"])
        assert shown["y"][i] + shown["up"][i] == pytest.approx(avg["high"])
        assert shown["y"][i] - shown["down"][i] == pytest.approx(avg["low"])
        assert shown["x"][i] == pytest.approx(sum(noise_compute(r, step) for r in range(3)) / 3, abs=0.05)
    assert shown["x"][0] < shown["x"][1]
    assert [e for e in browser.get_log("browser") if e["level"] == "SEVERE"] == []
    assert [u for u in requested_urls(browser) if not u.startswith((f"{site.url}/", "data:", "blob:"))] == []
