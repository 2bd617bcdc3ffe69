"""The benchmark server: a FastAPI app with the REST API under ``/api/v1`` and the dashboard.

    app = create_app("sqlite:///bench.sqlite", token="s3cret")   # migrates the database first

Every route declares the scope it needs (``claf.server.auth``, docs/server-tokens.md): writes of results
need ``write:results``, the job queue's worker calls ``worker``, benchmarks, jobs and tokens ``admin``;
reads are open unless ``private=True`` (then ``read``). ``token`` (``CLAF_SERVER_TOKEN``) is an admin token.
Latency tables (``claf bench latency``): ``POST /api/v1/latency`` (a ``claf.latency/v1`` report),
``GET /api/v1/latency`` (runs), ``/api/v1/latency/{id}`` (one run's rows), ``.../table`` and ``.../table.csv``.
Status codes: 201 stored, 200 the same body was already stored, 400 a read's option with a value it does not take
(``replicas``; the message names it), 401 no/unknown/revoked token, 403 a token without the route's scope
(the body names it), 404 unknown
benchmark/task/result (the message lists the known ones), 409 same key with a different body,
413 body over ``max_body`` bytes, 422 bad payload (the message names the field), 503 with
``Retry-After`` while the database is away (``claf.server.unavailable``).
"""

import csv
import io
import json
from typing import Annotated

from fastapi import FastAPI, Path, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse

from claf.db.engine import open_engine, session_factory
from claf.errors import one_line
from claf.latency import reports
from claf.results import queries, series
from claf.results.catalog import migrate
from claf.results.payloads import INT64, BenchmarkSpec, CheckpointIn, LatencyIn, ResultIn, VocabRow
from claf.results.store import (
    BadParameter,
    Conflict,
    NotFound,
    put_benchmark,
    put_checkpoint,
    put_result,
    put_vocab_rows,
)
from claf.server.auth import PUBLIC, Auth, Forbidden, forbidden, refusal
from claf.server.tokens import ADMIN, READ, WRITE_RESULTS
from claf.server.unavailable import add_database_guard

MAX_BODY = 4 * 1024 * 1024
RowId = Annotated[int, Path(ge=1, le=INT64)]  # a row id in a URL: a 422 naming it, never a database overflow


class BodyLimit:
    """ASGI middleware: a request body over ``limit`` bytes gets 413 before any handler reads it."""

    def __init__(self, app, limit: int):
        self.app, self.limit = app, limit

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            return await self._refuse(send)
        chunks, size, more = [], 0, True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            more = message.get("more_body", False)
            if size > self.limit:
                return await self._refuse(send)
        body, sent = b"".join(chunks), False

        async def replay():
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _refuse(self, send):
        payload = json.dumps({"detail": f"request body over {self.limit} bytes"}).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())],
            }
        )
        await send({"type": "http.response.body", "body": payload})


def _field(loc) -> str:
    parts = [str(p) for p in loc if p not in ("body",)]
    return ".".join(parts) or "body"


def _error(e: dict) -> dict:
    """One validation error -> {"field", "message"}; a body that is no JSON is the body's error, with where."""
    if e.get("type") == "json_invalid":
        where = e["loc"][-1] if len(e["loc"]) > 1 else "?"
        return {
            "field": "body",
            "message": f"JSON decode error at character {where}: {e.get('ctx', {}).get('error', '')}",
        }
    return {"field": _field(e["loc"]), "message": e["msg"]}


def create_app(
    db_url: str | None = None,
    token: str | None = None,
    private: bool = False,
    max_body: int = MAX_BODY,
    dashboard: bool = True,
) -> FastAPI:
    """The server app over ``db_url`` (migrated at creation). ``token`` is an admin token beside the
    database's scoped tokens; reads need the ``read`` scope if ``private``."""
    engine = open_engine(db_url)
    migrate(engine)
    factory = session_factory(engine)
    app = FastAPI(
        title="CLaF benchmark server", version="1", openapi_url="/api/v1/openapi.json", docs_url=None, redoc_url=None
    )
    app.state.engine, app.state.sessions = engine, factory

    auth = Auth(factory, legacy=token, private=private)
    app.state.auth = auth

    @app.exception_handler(Forbidden)
    async def _forbidden(_request, exc: Forbidden):
        return forbidden(exc)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError):
        refused = refusal(request)  # the token first, even when the body is no JSON
        if refused is not None:
            return refused
        errors = [_error(e) for e in exc.errors()]
        first = errors[0] if errors else {"field": "body", "message": "invalid"}
        detail = one_line(f"{first['field']}: {first['message']}")
        return JSONResponse({"detail": detail, "errors": errors}, status_code=422)

    @app.exception_handler(NotFound)
    async def _not_found(_request, exc):
        return JSONResponse({"detail": one_line(str(exc))}, status_code=404)

    @app.exception_handler(Conflict)
    async def _conflict(_request, exc):
        return JSONResponse({"detail": one_line(str(exc))}, status_code=409)

    @app.exception_handler(BadParameter)
    async def _bad_parameter(_request, exc):
        return JSONResponse({"detail": one_line(str(exc))}, status_code=400)

    add_database_guard(app)  # 503 + Retry-After while the database is away

    @app.exception_handler(ValueError)
    async def _value(_request, exc):
        return JSONResponse({"detail": one_line(str(exc))}, status_code=422)

    def stored(body: dict, created: bool) -> JSONResponse:
        return JSONResponse(body, status_code=201 if created else 200)

    reads, writes, admin = auth.needs(READ), auth.needs(WRITE_RESULTS), auth.needs(ADMIN)

    @app.get("/api/v1/health", dependencies=auth.needs(PUBLIC))
    def health():
        return {"status": "ok", "database": engine.dialect.name}

    @app.get("/api/v1/benchmarks", dependencies=reads)
    def benchmarks():
        from sqlalchemy import select

        from claf.db.tables import Benchmark, Task

        with factory() as s:
            out = []
            for b in s.scalars(select(Benchmark).order_by(Benchmark.name)):
                tasks = s.scalars(select(Task).where(Task.benchmark_id == b.id).order_by(Task.position))
                out.append(
                    {
                        "name": b.name,
                        "title": b.title,
                        "tasks": [
                            {
                                "name": t.name,
                                "title": t.title,
                                "metric": t.metric,
                                "higher_is_better": t.higher_is_better,
                                "display": t.display,
                                "average_weight": t.average_weight,
                                "data_prefix": t.data_prefix,
                            }
                            for t in tasks
                        ],
                    }
                )
            return out

    @app.put("/api/v1/benchmarks/{name}", dependencies=admin)
    def define(name: str, spec: BenchmarkSpec):
        if spec.name != name:
            raise ValueError(f"name: the body's name '{spec.name}' differs from the URL's '{name}'")
        return stored(*put_benchmark(factory, spec))

    @app.get("/api/v1/benchmarks/{name}/table", dependencies=reads)
    def table(name: str, step: str = "best", seeds: str = "median", replicas: str = "combined"):
        with factory() as s:
            return JSONResponse(queries.benchmark_table(s, name, step, seeds, replicas))

    @app.get("/api/v1/benchmarks/{name}/table.csv", dependencies=reads, response_class=PlainTextResponse)
    def table_csv(name: str, step: str = "best", seeds: str = "median", replicas: str = "combined"):
        with factory() as s:
            t = queries.benchmark_table(s, name, step, seeds, replicas)
        return PlainTextResponse(
            to_csv(t), media_type="text/csv", headers={"Content-Disposition": f'attachment; filename="{name}.csv"'}
        )

    @app.get("/api/v1/benchmarks/{name}/tasks/{task}/series", dependencies=reads)
    def task_series(name: str, task: str, group_by: str | None = None, seeds: str = "mean", replicas: str = "combined"):
        with factory() as s:
            return JSONResponse(series.task_series(s, name, task, group_by, seeds, replicas))

    @app.get("/api/v1/compare", dependencies=reads)
    def compare(a: str, b: str, benchmark: str = "klue", draws: int = 1000):
        from claf.results.compare import compare_models, parse_target

        if not 100 <= draws <= 20000:
            raise ValueError(f"draws: must be within [100, 20000], got {draws}")
        other = None
        for field, text in (("a", a), ("b", b)):  # the same parse compare_models makes, its errors named
            try:
                other = parse_target(text, other)[0]
            except ValueError as e:
                raise ValueError(f"{field}: {e}") from None
        with factory() as s:
            return JSONResponse(compare_models(s, a, b, benchmark, B=draws))

    @app.post("/api/v1/checkpoints", dependencies=writes)
    def post_checkpoint(checkpoint: CheckpointIn):
        return stored(*put_checkpoint(factory, checkpoint))

    @app.post("/api/v1/results", dependencies=writes)
    def post_result(result: ResultIn):
        return stored(*put_result(factory, result))

    @app.get("/api/v1/results/{result_id}", dependencies=reads)
    def one_result(result_id: RowId):
        with factory() as s:
            return queries.get_result(s, result_id)

    @app.get("/api/v1/results/{a}/diff/{b}", dependencies=reads)
    def diff(a: RowId, b: RowId):
        with factory() as s:
            return queries.config_diff(s, a, b)

    @app.post("/api/v1/vocab", dependencies=writes)
    def post_vocab(rows: list[VocabRow]):
        return JSONResponse({"stored": put_vocab_rows(factory, rows)}, status_code=201)

    @app.get("/api/v1/vocab", dependencies=reads)
    def vocab():
        with factory() as s:
            return queries.vocab_table(s)

    @app.post("/api/v1/latency", dependencies=writes)
    def post_latency(report: LatencyIn):
        return stored(*reports.put_latency(factory, report))

    @app.get("/api/v1/latency", dependencies=reads)
    def latency_runs():
        with factory() as s:
            return reports.list_runs(s)

    @app.get("/api/v1/latency/{run_id}", dependencies=reads)
    def latency_run(run_id: RowId):
        with factory() as s:
            return JSONResponse(reports.get_run(s, run_id))

    @app.get("/api/v1/latency/{run_id}/table", dependencies=reads)
    def latency_table(run_id: RowId):
        with factory() as s:
            return JSONResponse(reports.appendix(reports.get_run(s, run_id)))

    @app.get("/api/v1/latency/{run_id}/table.csv", dependencies=reads, response_class=PlainTextResponse)
    def latency_csv(run_id: RowId):
        with factory() as s:
            text = reports.to_csv(reports.get_run(s, run_id))
        return PlainTextResponse(
            text, media_type="text/csv", headers={"Content-Disposition": f'attachment; filename="latency-{run_id}.csv"'}
        )

    from claf.queue.routes import add_job_routes
    from claf.server.token_routes import add_token_routes

    add_job_routes(app, factory, auth)
    add_token_routes(app, factory, auth)
    if dashboard:
        from claf.server.dashboard import add_pages

        add_pages(app, factory, auth)
    app.add_middleware(BodyLimit, limit=max_body)
    return app


def to_csv(table: dict) -> str:
    """A table as CSV: one row per model/reference, the primary value per column (+ std and n)."""
    out = io.StringIO()
    writer = csv.writer(out)
    keys = [c["key"] for c in table["columns"]]
    writer.writerow(["model", "kind"] + [h for k in keys for h in (k, f"{k}_std", f"{k}_n", f"{k}_step")])
    for row in table["rows"]:
        cells = []
        for k in keys:
            c = row["cells"].get(k) or {}
            cells += [_num(c.get("value")), _num(c.get("std")), c.get("n", ""), c.get("step", "")]
        writer.writerow([row["model"], row["kind"]] + ["" if v is None else v for v in cells])
    return out.getvalue()


def _num(v):
    return "" if v is None else f"{v:.4f}"
