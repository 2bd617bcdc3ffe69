"""The dashboard in a real headless Chromium (Debian's chromium + chromedriver, driven by Selenium)."""

import json
import os
import re
import shutil
import time

import pytest
import requests
from bench_support import SCORES, ServerProcess, chromium, database_url, open_page, seed_demo

pytestmark = pytest.mark.slow  # real server processes


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    home = tmp_path_factory.mktemp("dashboard")
    server = ServerProcess(database_url("sqlite", home), home).start()
    seed_demo(server.url)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def browser():
    yield from chromium()


def visible_models(browser):
    return browser.execute_script(
        "return [...document.querySelectorAll('#results tbody tr')].map(r => r.dataset.model)"
    )


def column_values(browser, key):
    return browser.execute_script(
        "return [...document.querySelectorAll('#results tbody tr')].map(r => "
        f"r.querySelector('td[data-key=\"{key}\"]').dataset.order)"
    )


def shown_traces(browser, task, kind="score"):
    return browser.execute_script(
        f"return document.getElementById('chart-{task}').data.filter(t => t.meta.kind === '{kind}')"
        ".map(t => [t.meta.model, t.visible !== false, t.x])"
    )


def test_dashboard(browser, site, tmp_path):
    open_page(browser, f"{site.url}/benchmarks/demo?group_by=masking")
    api = requests.get(f"{site.url}/api/v1/benchmarks/demo/table").json()

    # bold cells are exactly the server's best set (tie on acc, lower-is-better ppl, missing mrpc cell)
    for col in api["columns"]:
        key = col["key"]
        expected = {r["model"] for r in api["rows"] if (r["cells"].get(key) or {}).get("best")}
        bold = set(
            browser.execute_script(
                "return [...document.querySelectorAll('#results tbody tr')].filter(r => {"
                f" const td = r.querySelector('td[data-key=\"{key}\"]');"
                " return [...td.querySelectorAll('*')].concat([td]).some(e => +getComputedStyle(e).fontWeight >= 700"
                " && e.textContent.trim() !== '' && !e.matches('small')); }).map(r => r.dataset.model)"
            )
        )
        assert bold == expected, key
    assert {r["model"] for r in api["rows"] if r["cells"]["acc"] and r["cells"]["acc"]["best"]} == {"alpha", "beta"}

    # a header click sorts numerically; missing cells stay last in both directions
    for key in ("mrpc", "ppl", "average"):
        header = browser.find_element("css selector", f"#results thead th[data-key='{key}']")
        seen = set()
        for _click in range(6):
            header.click()
            time.sleep(0.2)
            classes = header.get_attribute("class")
            direction = "asc" if "dt-ordering-asc" in classes else "desc" if "dt-ordering-desc" in classes else None
            assert direction, classes
            values = column_values(browser, key)
            numbers = [float(v) for v in values if v != ""]
            assert values[: len(numbers)] == [v for v in values if v != ""], (key, direction, values)
            assert numbers == sorted(numbers, reverse=direction == "desc"), (key, direction, values)
            seen.add(direction)
            if seen == {"asc", "desc"}:
                break
        assert seen == {"asc", "desc"}, key
    assert column_values(browser, "mrpc")[-2:] == ["", ""]  # gamma and the reference row have none

    # the chart: one score trace per model, at the steps it has results for
    traces = {m: x for m, _v, x in shown_traces(browser, "acc")}
    assert traces == {m: sorted(steps) for (m, t), steps in ((k, list(v)) for k, v in SCORES.items()) if t == "acc"}
    assert {m for m, _v, _x in shown_traces(browser, "acc", "pretraining")} == {"alpha", "beta", "gamma"}

    # search filters rows and chart traces
    box = browser.find_element("id", "model-search")
    box.send_keys("alp")
    assert visible_models(browser) == ["alpha"]
    assert {m: v for m, v, _ in shown_traces(browser, "acc")} == {"alpha": True, "beta": False, "gamma": False}
    box.clear()
    box.send_keys(" ")
    box.clear()
    browser.execute_script(
        "const s = document.getElementById('model-search'); s.value = '';s.dispatchEvent(new Event('input'));"
    )
    assert len(visible_models(browser)) == 4

    # the picker filters rows and chart traces
    browser.find_element("css selector", "#picker input[value='beta']").click()
    assert "beta" not in visible_models(browser) and len(visible_models(browser)) == 3
    assert {m: v for m, v, _ in shown_traces(browser, "ppl")} == {"alpha": True, "beta": False, "gamma": True}
    browser.find_element("css selector", "#picker input[value='beta']").click()
    assert "beta" in visible_models(browser)

    shot = tmp_path / "dashboard.png"
    browser.save_screenshot(str(shot))
    assert shot.stat().st_size > 10_000
    if os.environ.get("CLAF_DASHBOARD_SCREENSHOT"):
        shutil.copy(shot, os.environ["CLAF_DASHBOARD_SCREENSHOT"])

    # no console errors; no request leaves 127.0.0.1
    errors = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert errors == []
    urls = []
    for entry in browser.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            urls.append(message["params"]["request"]["url"])
    assert urls and any(u.endswith("/vendor/plotly.min.js") for u in urls)
    assert [u for u in urls if not u.startswith((f"{site.url}/", "data:", "blob:"))] == []


def test_static_report_is_self_contained(browser, site, tmp_path):
    import subprocess
    import sys

    out = tmp_path / "report.html"
    env = site.env()
    subprocess.run(
        [sys.executable, "-m", "claf", "report", "--benchmark", "demo", "--server", site.url, "--out", str(out)],
        env=env,
        check=True,
        capture_output=True,
    )
    html = out.read_text(encoding="utf-8")
    external = re.findall(r"<(?:script|link)\b[^>]*\b(?:src|href)=\"(?!data:)[^>]*>", html)
    assert external == [], external[:3]  # every script and style is inline
    browser.get_log("performance")
    open_page(browser, out.as_uri())
    assert set(visible_models(browser)) == {"alpha", "beta", "gamma", "Published model"}
    assert len(shown_traces(browser, "acc")) == 3
    assert [e for e in browser.get_log("browser") if e["level"] == "SEVERE"] == []
    urls = [
        json.loads(e["message"])["message"]["params"]["request"]["url"]
        for e in browser.get_log("performance")
        if json.loads(e["message"])["message"]["method"] == "Network.requestWillBeSent"
    ]
    assert [u for u in urls if not u.startswith(("file:", "data:", "blob:"))] == []


def test_speed_tab(browser, site, tmp_path):
    import subprocess
    import sys

    from bench_support import auth, latency_report

    body = latency_report(created="2026-05-01T00:00:00+00:00")
    r = requests.post(f"{site.url}/api/v1/latency", json=body, headers=auth())
    assert r.status_code in (200, 201), r.text
    browser.get_log("performance")
    open_page(browser, f"{site.url}/benchmarks/demo")
    browser.find_element("css selector", "nav.tabs a[href='/speed']").click()
    deadline = time.monotonic() + 30
    while not browser.current_url.endswith("/speed"):
        assert time.monotonic() < deadline
        time.sleep(0.1)
    open_page(browser, browser.current_url)

    def table_text(b):
        return b.execute_script(
            "const t = document.getElementById('speed');"
            "return {heads: [...t.querySelectorAll('thead th.backend')].map(h => h.dataset.backend),"
            " figures: [...t.querySelectorAll('thead tr:nth-child(2) th')].map(h => h.textContent.trim()),"
            " lines: [...t.querySelectorAll('tbody tr')].map(r => [+r.dataset.batch, +r.dataset.length]),"
            ' cell: t.querySelector(\'tbody tr[data-batch="8"][data-length="512"]'
            ' td[data-backend="onnx"][data-figure="p50_ms"]\').textContent.trim(),'
            " budget: [...t.querySelectorAll('tfoot tr.budget td')].map(c => c.textContent.trim()),"
            " budgetTitle: t.querySelector('tfoot tr.budget th').textContent.trim(),"
            " env: document.getElementById('environment').innerText};"
        )

    shown = table_text(browser)
    assert shown["heads"] == ["torch", "onnx"]  # columns = backends, the reference first
    assert shown["figures"] == ["p50", "p90", "p95", "p99", "avg", "seq/s"] * 2
    assert shown["lines"] == [[1, 128], [1, 512], [8, 128], [8, 512]]  # rows = batch x length
    assert shown["cell"] == "720.00"  # 6 x 120 ms
    assert shown["budget"] == ["128 tokens (p95 52.0 ms)", "128 tokens (p95 39.0 ms)"]
    assert shown["budgetTitle"] == "longest input within 100 ms (p95, batch 1)"
    for text in ("avx512_vnni", "VNNI yes, native bf16 no, AMX no", "torch 2.x", "1.5, 1.0, 0.5"):
        assert text in shown["env"], text
    assert re.search(r"threads\s+1", shown["env"])
    assert [e for e in browser.get_log("browser") if e["level"] == "SEVERE"] == []
    urls = [
        json.loads(e["message"])["message"]["params"]["request"]["url"]
        for e in browser.get_log("performance")
        if json.loads(e["message"])["message"]["method"] == "Network.requestWillBeSent"
    ]
    assert [u for u in urls if not u.startswith((f"{site.url}/", "data:", "blob:"))] == []
    shot = tmp_path / "speed.png"
    browser.save_screenshot(str(shot))
    if os.environ.get("CLAF_SPEED_SCREENSHOT"):
        shutil.copy(shot, os.environ["CLAF_SPEED_SCREENSHOT"])

    # the static export of the same page: self-contained, the same table
    out = tmp_path / "speed.html"
    subprocess.run(
        [sys.executable, "-m", "claf", "report", "--speed", "--server", site.url, "--out", str(out)],
        env=site.env(),
        check=True,
        capture_output=True,
    )
    html = out.read_text(encoding="utf-8")
    assert re.findall(r"<(?:script|link)\b[^>]*\b(?:src|href)=\"(?!data:)[^>]*>", html) == []
    open_page(browser, out.as_uri())
    assert table_text(browser) == shown


# What the factory leaves in `klue` (larva_kor_tiny_klue: nsmc, qp, korsts, kornli): two pre-training replicas
# at two steps and random init, which has no korsts result (a row without an average); every other task is empty.
FACTORY_TASKS = ("nsmc", "qp", "korsts", "kornli")


def seed_factory_like(url):
    from bench_support import auth, result_body

    runs = [(f"larva-kor-tiny-s{r}", step) for r in (1, 2) for step in (1000, 2000)]
    runs.append(("larva-kor-tiny-random-init", 0))
    for model, step in runs:
        for i, task in enumerate(FACTORY_TASKS):
            if model.endswith("random-init") and task == "korsts":
                continue
            score = 60.0 + 5 * i + step / 1000 + (0 if model.endswith("random-init") else 8)
            body = result_body(model, task, step, 1, score, benchmark="klue")
            body["metrics"].update(spearman=score, pearson=score)
            r = requests.post(f"{url}/api/v1/results", json=body, headers=auth())
            assert r.status_code in (200, 201), r.text


def test_a_newcomer_lands_on_the_benchmark_with_the_newest_result(browser, site):
    """The first visit after the factory filled `klue` (demo's results are older; GLUE has none): `/` opens klue,
    a task without results is one line naming its command and no chart, and each row's average names its tasks."""
    seed_factory_like(site.url)
    browser.get_log("browser")
    open_page(browser, f"{site.url}/")
    assert browser.current_url == f"{site.url}/benchmarks/klue"

    api = requests.get(f"{site.url}/api/v1/benchmarks/klue/table").json()
    tasks = [c["key"] for c in api["columns"] if c["key"] != "average"]
    empty = [t for t in tasks if t not in FACTORY_TASKS]
    page = browser.execute_script(
        "const q = (s) => [...document.querySelectorAll(s)];"
        "return {charts: q('#charts .chart').map(e => [e.dataset.task, e.data ? e.data.length : 0]),"
        " lines: Object.fromEntries(q('#charts p.no-results').map(e => [e.dataset.task, e.textContent])),"
        " svgs: q('#charts p.no-results svg, #charts p.no-results .js-plotly-plot').length,"
        " head: document.querySelector('#results th[data-key=average]').textContent,"
        " columns: q('#results thead th[data-key]').map(e => e.dataset.key),"
        " averages: Object.fromEntries(q('#results tbody tr').map(r => [r.dataset.model,"
        "   r.querySelector('td[data-key=average]').title]))};"
    )
    assert sorted(t for t, _n in page["charts"]) == sorted(FACTORY_TASKS)  # a chart only where there is data
    assert all(n > 0 for _t, n in page["charts"]), page["charts"]
    assert sorted(page["lines"]) == sorted(empty) and page["svgs"] == 0
    title = {c["key"]: c["title"] for c in api["columns"]}
    for task in empty:
        line = page["lines"][task]
        assert line.startswith(f"{title[task]}: no results yet: run python -m claf "), line
    assert "factory run --base_config factory/larva_kor_tiny_wide" in page["lines"]["pawsx_split"]
    assert "train --base_config klue/korquad_bert" in page["lines"]["korquad"]
    # the table leaves out the columns where no row has a value (korquad stays: the published references)
    assert page["columns"] == [t for t in tasks if t in FACTORY_TASKS or t == "korquad"] + ["average", "cost"]

    # the average: over the four tasks with results, in the table's order; said in the header and on every row
    over = [t for t in tasks if t in FACTORY_TASKS]
    assert page["head"] == "Averageof " + ", ".join(over)
    rows = {r["model"]: r for r in api["rows"]}
    assert set(page["averages"]) == set(rows)
    assert page["averages"]["larva-kor-tiny"] == "avg of " + ", ".join(over)
    assert rows["larva-kor-tiny"]["cells"]["average"]["value"] > 0
    assert page["averages"]["larva-kor-tiny-random-init"] == "no average: 3 of 4 tasks have results (missing korsts)"
    for model, note in page["averages"].items():
        missing = [t for t in over if rows[model]["cells"][t] is None]
        if missing:
            have = len(over) - len(missing)
            assert note == f"no average: {have} of 4 tasks have results (missing {', '.join(missing)})", model
        else:
            assert note == "avg of " + ", ".join(over), model

    # GLUE, the first tab: no table, one line per task, no chart
    open_page(browser, f"{site.url}/benchmarks/glue")
    glue = browser.execute_script(
        "return {table: !!document.getElementById('results'), charts: document.querySelectorAll('.chart').length,"
        " lines: document.querySelectorAll('#charts p.no-results').length,"
        " note: document.getElementById('no-model-results').textContent};"
    )
    assert (glue["table"], glue["charts"], glue["lines"]) == (False, 0, 9)
    assert glue["note"].startswith("No model has results in glue yet")
    assert [e for e in browser.get_log("browser") if e["level"] == "SEVERE"] == []
