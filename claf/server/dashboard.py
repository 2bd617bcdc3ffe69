"""The dashboard: server-rendered HTML pages, with JavaScript served from Python packages only.

    /                         -> the page of the benchmark with the newest result; with no result at all, a
                              page that says so and names the command that fills the database
    /benchmarks/{name}        models x tasks table (bold best, sortable, searchable, model picker)
                              and one score-vs-step chart per task (95% interval bands) with the
                              pre-training curve; ?replicas=each: a row and a line per replica. A task
                              without results is one line naming the command that fills it
                              (``claf.results.fill``), never an empty chart; each row's average names the
                              tasks it is taken over, or why there is none
    /benchmarks/{name}/compare?a=MODEL@STEP&b=random-init
                              A against B: a forest plot of the per-task differences with their
                              intervals, the verdicts, P(A > B) and n (``claf.results.compare``)
    /benchmarks/{name}/budget?baseline=MODEL@STEP
                              the budget chart: each pre-trained model's suite-average gain over random init
                              (interval bars) against its pre-training CPU- or GPU-seconds
                              (``claf.results.budget``), and the same as a table
    /vocab                    the vocab-benchmark table
    /speed?run=ID             a latency run (the newest by default): batch x length rows, per backend
                              p50/p90/p95/p99/avg/throughput, the budget row, the environment beside it
    /vendor/plotly.min.js     plotly's own bundle (from the plotly package)
    /vendor/dt_bundle.js|css  DataTables (from the itables package, which ships it)

``render_report`` writes the same benchmark page as one self-contained HTML file (with the forest plot of
one comparison when asked); ``render_speed`` with ``inline=True`` does the same for the speed page.
"""

import base64
import json
from functools import cache, lru_cache
from importlib.util import find_spec
from pathlib import Path
from typing import Annotated

from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy import select

from claf.db.tables import Benchmark, Result, Task
from claf.latency import reports
from claf.results import queries, series
from claf.results.compare import RANDOM_INIT, compare_models
from claf.results.fill import fill_commands, starter_command
from claf.results.replicas import COMBINED, families, family_of
from claf.results.store import BadParameter, NotFound, find_benchmark

HERE = Path(__file__).parent
STATIC = HERE / "static"


def _package_file(package: str, relative: str) -> Path:
    spec = find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(f"the dashboard needs the '{package}' package: pip install {package}")
    return Path(list(spec.submodule_search_locations)[0]) / relative


VENDOR = {
    "plotly.min.js": ("plotly", "package_data/plotly.min.js", "text/javascript"),
    "dt_bundle.js": ("itables", "html/dt_bundle.js", "text/javascript"),
    "dt_bundle.css": ("itables", "html/dt_bundle.css", "text/css"),
}


@cache
def vendor_bytes(name: str) -> bytes:
    package, relative, _type = VENDOR[name]
    return _package_file(package, relative).read_bytes()


@lru_cache(maxsize=1)
def _env() -> Environment:
    return Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(["html"]))


def _json_for_script(obj) -> str:
    return json.dumps(obj, ensure_ascii=False).replace("</", "<\\/")


def page_data(
    session,
    name: str,
    step="best",
    seeds="median",
    group_by: str | None = None,
    replicas: str = COMBINED,
    compare: tuple[str, str] | None = None,
    server: str | None = None,
) -> dict:
    """Everything a benchmark page shows: the table, each task's series, the option names; with ``compare``
    (A, B), the comparison its forest plot draws. ``server``: the URL a pushed run folder would go to."""
    table = queries.benchmark_table(session, name, step, seeds, replicas)
    return with_table(
        table,
        series.benchmark_series(session, name, group_by, replicas=replicas),
        list(session.scalars(select(Benchmark.name).order_by(Benchmark.name))),
        group_by,
        compare_models(session, *compare, name) if compare else None,
        server,
    )


def with_table(
    table: dict,
    by_task: dict,
    benchmarks: list,
    group_by: str | None,
    comparison: dict | None,
    server: str | None = None,
) -> dict:
    """A benchmark page's data from its parts (read from the database or from a server); ``fill``: for each
    task without a result to chart, the command that fills it; ``shown``: the columns the table shows (not
    those where no row, model or reference, has a value)."""
    models = [r["model"] for r in table["rows"] if r["kind"] == "model"]
    name = table["benchmark"]["name"]
    empty = [c for c in table["columns"] if c["key"] != "average" and not (by_task.get(c["key"]) or {}).get("traces")]
    return {
        "table": table,
        "series": by_task,
        "options": sorted({k for r in table["rows"] for k in (r.get("options") or {})}),
        "group_by": group_by or "",
        "benchmarks": benchmarks,
        "compare": comparison,
        "compare_pair": default_pair(models),
        "fill": fill_commands(name, [(c["key"], c.get("data_prefix") or "") for c in empty], server),
        "shown": [
            c["key"]
            for c in table["columns"]
            if c["key"] == "average" or any(r["cells"].get(c["key"]) is not None for r in table["rows"])
        ],
    }


def average_note(row: dict, column: dict) -> str:
    """What a row's average is taken over, or why it has none (the average cell's title and note)."""
    avg = row.get("average") or {"tasks": column.get("tasks") or [], "missing": []}
    tasks, missing = avg["tasks"], avg["missing"]
    if not tasks:
        return "no average: no task in the average has results yet"
    if missing:
        have = len(tasks) - len(missing)
        return f"no average: {have} of {len(tasks)} tasks have results (missing {', '.join(missing)})"
    weights = column.get("weights") or {}
    if len({weights.get(t, 1.0) for t in tasks}) > 1:
        return "weighted avg of " + ", ".join(f"{t} ×{weights[t]:g}" for t in tasks)
    return "avg of " + ", ".join(tasks)


def default_pair(models: list[str]) -> list[str] | None:
    """What the benchmark page's compare link opens: the first pre-trained model against its random-init
    baseline when there is one, else against the next model."""
    families = list(dict.fromkeys(family_of(m) for m in models))
    trained = [m for m in families if not m.endswith(f"-{RANDOM_INIT}")]
    if not trained:
        return None
    a = trained[0]
    if f"{a}-{RANDOM_INIT}" in families:
        return [a, RANDOM_INIT]
    others = [m for m in families if m != a]
    return [a, others[0]] if others else None


def render_benchmark(data: dict, inline: bool = False) -> str:
    """The benchmark page; ``inline`` embeds every script and style (the static report)."""
    assets = None
    if inline:
        assets = {
            "plotly": vendor_bytes("plotly.min.js").decode("utf-8").replace("</script", "<\\/script"),
            "dt_css": vendor_bytes("dt_bundle.css").decode("utf-8"),
            "dt_js_b64": base64.b64encode(vendor_bytes("dt_bundle.js")).decode("ascii"),
            "css": (STATIC / "dashboard.css").read_text(encoding="utf-8"),
            "js": (STATIC / "dashboard.js").read_text(encoding="utf-8"),
            "forest": (STATIC / "forest.js").read_text(encoding="utf-8").replace("</script", "<\\/script"),
        }
    return (
        _env()
        .get_template("benchmark.html")
        .render(d=data, data_json=_json_for_script(data), assets=assets, fmt=_fmt, average_note=average_note)
    )


def _fmt(value) -> str:
    return "" if value is None else f"{value:.4f}"


def render_report(
    session, name: str, step="best", seeds="median", group_by=None, replicas=COMBINED, compare=None
) -> str:
    return render_benchmark(page_data(session, name, step, seeds, group_by, replicas, compare), inline=True)


def compare_data(session, name: str, a: str | None, b: str | None, draws: int = 1000) -> dict:
    """Everything the compare page shows: the form's choices and, given A and B, the comparison (or the
    one-line reason there is none: ``error`` with its HTTP ``status``)."""
    known = families(session)
    models = list(dict.fromkeys(known[m] for m in sorted(known)))
    out = {
        "benchmark": name,
        "benchmarks": list(session.scalars(select(Benchmark.name).order_by(Benchmark.name))),
        "models": [m for m in models if not m.endswith(f"-{RANDOM_INIT}")] + [RANDOM_INIT],
        "a": a or "",
        "b": b or "",
        "draws": draws,
        "report": None,
        "error": None,
        "status": 200,
    }
    if not a or not b:
        return out
    try:
        if not 100 <= draws <= 20000:
            raise BadParameter(f"draws must be within [100, 20000], got {draws}")
        out["report"] = compare_models(session, a, b, name, B=draws)
    except NotFound as e:
        out.update(error=str(e), status=404)
    except ValueError as e:
        out.update(error=str(e), status=400)
    return out


def budget_data(session, name: str, baseline: str | None = None, draws: int = 1000) -> dict:
    """Everything the budget page shows (``claf.results.budget``), or the one-line reason there is none."""
    from claf.results.budget import budget_points

    out = {
        "benchmark": name,
        "benchmarks": list(session.scalars(select(Benchmark.name).order_by(Benchmark.name))),
        "baseline": baseline or "",
        "draws": draws,
        "points": [],
        "skipped": [],
        "units": [],
        "error": None,
        "status": 200,
    }
    try:
        if not 100 <= draws <= 20000:
            raise BadParameter(f"draws must be within [100, 20000], got {draws}")
        find_benchmark(session, name)
        out.update(budget_points(session, name, baseline or None, draws))
    except NotFound as e:
        out.update(error=str(e), status=404)
    except ValueError as e:
        out.update(error=str(e), status=400)
    return out


def render_budget(data: dict) -> str:
    return _env().get_template("budget.html").render(d=data, data_json=_json_for_script(data))


def render_compare(data: dict) -> str:
    return _env().get_template("compare.html").render(d=data, report_json=_json_for_script(data["report"]))


SPEED_LABELS = {
    "p50_ms": "p50",
    "p90_ms": "p90",
    "p95_ms": "p95",
    "p99_ms": "p99",
    "avg_ms": "avg",
    "throughput": "seq/s",
}


def speed_data(session, run_id: int | None = None) -> dict:
    """Everything the speed page shows: the runs, the chosen run's appendix table (None without runs)."""
    runs = reports.list_runs(session)
    table = reports.appendix(reports.get_run(session, run_id)) if runs or run_id is not None else None
    benchmarks = list(session.scalars(select(Benchmark.name).order_by(Benchmark.name)))
    return {"runs": runs, "table": table, "benchmarks": benchmarks}


def render_speed(data: dict, inline: bool = False) -> str:
    """The speed page; ``inline`` embeds the stylesheet (the static report)."""
    t = data["table"]
    budget = {(b["budget_ms"], b["batch"], b["backend"]): b for b in (t["budget"] if t else [])}
    keys = list(dict.fromkeys((b["budget_ms"], b["batch"]) for b in (t["budget"] if t else [])))
    return (
        _env()
        .get_template("speed.html")
        .render(
            t=t,
            runs=data["runs"],
            benchmarks=data["benchmarks"],
            budget=budget,
            budget_keys=keys,
            labels=SPEED_LABELS,
            inline_css=(STATIC / "dashboard.css").read_text(encoding="utf-8") if inline else None,
        )
    )


def newest_benchmark(session) -> str | None:
    """The name of the benchmark that holds the newest result (by its creation time); None without results."""
    return session.scalar(
        select(Benchmark.name)
        .join(Task, Task.benchmark_id == Benchmark.id)
        .join(Result, Result.task_id == Task.id)
        .order_by(Result.created_at.desc(), Result.id.desc())
        .limit(1)
    )


def render_empty(benchmarks: list[str]) -> str:
    """The page ``/`` shows while no benchmark has a result: it says so and names the command that fills one."""
    return _env().get_template("empty.html").render(benchmarks=benchmarks, command=starter_command())


def add_pages(app, factory, auth) -> None:
    from fastapi import Query, Request
    from fastapi.responses import HTMLResponse, RedirectResponse, Response

    reads, public = auth.needs("read"), auth.needs(None)

    @app.get("/", include_in_schema=False, dependencies=reads, response_class=HTMLResponse)
    def index():
        with factory() as s:
            newest = newest_benchmark(s)
            if newest is None:
                names = list(s.scalars(select(Benchmark.name).order_by(Benchmark.name)))
                return HTMLResponse(render_empty(names))
        return RedirectResponse(f"/benchmarks/{newest}")

    @app.get("/benchmarks/{name}", include_in_schema=False, dependencies=reads, response_class=HTMLResponse)
    def benchmark_page(
        request: Request,
        name: str,
        step: str = "best",
        seeds: str = "median",
        group_by: str | None = None,
        replicas: str = COMBINED,
    ):
        server = str(request.base_url).rstrip("/")
        with factory() as s:
            return HTMLResponse(
                render_benchmark(page_data(s, name, step, seeds, group_by or None, replicas, server=server))
            )

    @app.get("/benchmarks/{name}/compare", include_in_schema=False, dependencies=reads, response_class=HTMLResponse)
    def compare_page(name: str, a: str | None = None, b: str | None = None, draws: int = 1000):
        with factory() as s:
            data = compare_data(s, name, a, b, draws)
        return HTMLResponse(render_compare(data), status_code=data["status"])

    @app.get("/benchmarks/{name}/budget", include_in_schema=False, dependencies=reads, response_class=HTMLResponse)
    def budget_page(name: str, baseline: str | None = None, draws: int = 1000):
        with factory() as s:
            data = budget_data(s, name, baseline, draws)
        return HTMLResponse(render_budget(data), status_code=data["status"])

    @app.get("/vocab", include_in_schema=False, dependencies=reads, response_class=HTMLResponse)
    def vocab_page():
        with factory() as s:
            rows = queries.vocab_table(s)
            names = list(s.scalars(select(Benchmark.name).order_by(Benchmark.name)))
        columns = [
            "tokenizer",
            "vocab_size",
            "hangul_share",
            "avg_tokens",
            "unk_ratio",
            "chars_per_token",
            "paragraphs",
        ]
        return HTMLResponse(_env().get_template("vocab.html").render(rows=rows, columns=columns, benchmarks=names))

    @app.get("/speed", include_in_schema=False, dependencies=reads, response_class=HTMLResponse)
    def speed_page(run: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None):
        with factory() as s:
            return HTMLResponse(render_speed(speed_data(s, run)))

    @app.get("/vendor/{file}", include_in_schema=False, dependencies=public)
    def vendor(file: str):
        if file not in VENDOR:
            return Response(status_code=404)
        return Response(
            vendor_bytes(file), media_type=VENDOR[file][2], headers={"Cache-Control": "public, max-age=86400"}
        )

    @app.get("/static/{file}", include_in_schema=False, dependencies=public)
    def static(file: str):
        path = STATIC / file
        if "/" in file or not path.is_file():
            return Response(status_code=404)
        media = "text/javascript" if file.endswith(".js") else "text/css"
        return Response(path.read_bytes(), media_type=media)
