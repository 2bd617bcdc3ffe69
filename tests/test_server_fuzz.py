"""Fuzz the server's API from its own OpenAPI schema (schemathesis) against a real server process on SQLite,
then keep what it found as explicit regression tests.

Pass: no 5xx; every 4xx answers a one-line JSON ``detail`` that names the field (a 422 starts with the
field's path, a 404 names the value or field it could not find). Examples per operation and mode:
``CLAF_FUZZ_EXAMPLES`` (default 8; derandomized, so CI sees the same cases every run).
"""

import json
import os
from urllib.parse import unquote

import pytest
import requests
from bench_support import TOKEN, ServerProcess, auth

from claf.errors import one_line

schemathesis = pytest.importorskip("schemathesis")
from hypothesis import HealthCheck, Phase, given, settings  # noqa: E402
from hypothesis.errors import Unsatisfiable  # noqa: E402

pytestmark = pytest.mark.slow  # a real server process
EXAMPLES = int(os.environ.get("CLAF_FUZZ_EXAMPLES", "8"))


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    home = tmp_path_factory.mktemp("fuzz")
    server = ServerProcess(f"sqlite:///{home / 'bench.sqlite'}", home).start()
    yield server
    server.stop()


def input_names(schema_raw: dict, operation) -> set[str]:
    """The operation's declared parameters and its body's top-level properties."""
    params = {p["name"] for p in operation.definition.raw.get("parameters", [])}
    body = operation.definition.raw.get("requestBody")
    if not body:
        return params
    node = body["content"]["application/json"]["schema"]
    while "$ref" in node:
        node = schema_raw["components"]["schemas"][node["$ref"].split("/")[-1]]
    return params | set(node.get("properties", {}))


def leaves(value):
    if isinstance(value, dict):
        for k, v in value.items():
            yield str(k)
            yield from leaves(v)
    elif isinstance(value, list):
        for v in value:
            yield from leaves(v)
    elif value is not None and not isinstance(value, bool):
        yield str(value)


def problem(case, response, names: set[str]) -> str | None:
    """Why this answer breaks the contract, or None."""
    status = response.status_code
    if status >= 500:
        return f"HTTP {status}"
    if status < 400 or status == 413:
        return None
    try:
        detail = response.json().get("detail")
    except ValueError:
        return f"HTTP {status} without a JSON body: {response.text[:200]}"
    if not isinstance(detail, str) or not detail or "\n" in detail:
        return f"HTTP {status}: detail is not one line: {detail!r}"[:300]
    params = {**(case.path_parameters or {}), **(case.query or {})}
    inputs = set(params) | names | {"body"}
    if status == 422:
        field = detail.split(":", 1)[0]
        field = field.removeprefix("path.").removeprefix("query.")
        first = field.split(".")[0].split("[")[0]
        if first in inputs or (first.isdigit() and isinstance(case.body, list)):
            return None
        return f"HTTP 422 names no field of the request: {detail[:200]}"
    if status == 404:
        values = [unquote(str(v)) for v in params.values()] + list(
            leaves(case.body if isinstance(case.body, (dict, list)) else None)
        )
        values = [one_line(v) for v in values]
        if any(v and v in detail for v in values) or any(len(n) > 2 and n in detail for n in inputs):
            return None
        return f"HTTP 404 names neither the value nor the field: {detail[:200]}"
    if status in (401, 403):
        return f"HTTP {status} for the admin token"
    return None


def describe(case) -> str:
    body = case.body if isinstance(case.body, (dict, list, str, int, float)) else repr(case.body)[:200]
    text = json.dumps({"path": case.path_parameters, "query": case.query, "body": body}, default=repr)
    return f"{case.method} {case.path} {text[:400]}"


def fuzz(operation, mode, names: set[str], url: str, counts: dict, found: dict) -> None:
    """``EXAMPLES`` cases of one operation in one mode; each broken contract is kept once per kind."""

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(operation.as_strategy(generation_mode=mode))
    def run(case):
        counts["examples"] += 1
        response = case.call(base_url=url, headers=auth(), timeout=30)
        why = problem(case, response, names)
        if why:
            found.setdefault((case.method, case.path, why.split(":")[0]), f"{why}\n    {describe(case)}")

    try:
        run()
    except Unsatisfiable:  # a negative case of an operation that takes no input
        pass


def test_fuzz_the_api_from_its_openapi_schema(server):
    schema = schemathesis.openapi.from_url(f"{server.url}/api/v1/openapi.json")
    modes = (schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE)
    found: dict[tuple, str] = {}
    counts = {"examples": 0, "operations": 0}
    for result in schema.get_all_operations():
        operation = result.ok()
        counts["operations"] += 1
        for mode in modes:
            fuzz(operation, mode, input_names(schema.raw_schema, operation), server.url, counts, found)
    print(f"fuzz: {counts['examples']} examples over {counts['operations']} operations, {len(found)} problems")
    assert counts["operations"] >= 25 and counts["examples"] >= counts["operations"] * EXAMPLES
    assert not found, "\n".join(found.values())


# ---- what the fuzzing found, kept as explicit cases (each was a 500 or an unnamed field before) ----

BIG = 2**64


@pytest.mark.parametrize(
    "method, path, field",
    [
        ("GET", f"/api/v1/results/{BIG}", "path.result_id"),
        ("GET", f"/api/v1/results/1/diff/{BIG}", "path.b"),
        ("GET", f"/api/v1/latency/{BIG}", "path.run_id"),
        ("GET", f"/api/v1/latency/{BIG}/table", "path.run_id"),
        ("GET", f"/api/v1/latency/{BIG}/table.csv", "path.run_id"),
        ("POST", f"/api/v1/jobs/{BIG}/heartbeat", "path.job_id"),
        ("POST", f"/api/v1/jobs/{BIG}/finish", "path.job_id"),
    ],
)
def test_an_id_beyond_64_bits_is_a_422_naming_it(server, method, path, field):
    body = {"worker": "w", "outcome": {"ok": False}} if path.endswith("finish") else {"worker": "w"}
    r = requests.request(method, f"{server.url}{path}", json=body if method == "POST" else None, headers=auth())
    assert r.status_code == 422 and r.json()["detail"].startswith(f"{field}:"), r.text


def latency_report(**row):
    cell = {"backend": "torch", "batch": 1, "length": 8, "iterations": 3, "throughput": 1.0}
    cell.update({k: 1.0 for k in ("avg_ms", "p50_ms", "p90_ms", "p95_ms", "p99_ms")}, **row)
    return {"schema": "claf.latency/v1", "created": "2026-01-01T00:00:00", "model": {"checkpoint": "x"}, "rows": [cell]}


@pytest.mark.parametrize(
    "path, body, field",
    [
        ("latency", latency_report(batch=BIG), "rows.0.batch"),
        (
            "latency",
            dict(latency_report(), budget=[{"backend": "t", "batch": 1, "budget_ms": 5, "longest_length": BIG}]),
            "budget.0.longest_length",
        ),
        ("checkpoints", {"model": "m", "step": BIG}, "step"),
        ("results", {"checkpoint": {"model": "m", "step": 1}, "seed": -BIG, "metrics": {"accuracy": 1.0}}, "seed"),
        ("vocab", [{"tokenizer": "t", "vocab_size": BIG}], "0.vocab_size"),
        ("jobs", {"jobs": [{"recipe": "r", "task": "nsmc"}]}, "jobs.0.benchmark"),
        ("jobs/claim", {"worker": "w", "surprise": 1}, "surprise"),
    ],
)
def test_a_number_or_field_the_database_cannot_take_is_a_422_naming_it(server, path, body, field):
    r = requests.post(f"{server.url}/api/v1/{path}", json=body, headers=auth())
    assert r.status_code == 422 and r.json()["detail"].startswith(f"{field}:"), r.text


@pytest.mark.parametrize(
    "path, params, field",
    [
        ("benchmarks/klue/table", {"step": "soon"}, "step"),
        ("benchmarks/klue/table.csv", {"seeds": "max"}, "seeds"),
        ("compare", {"a": "", "b": "x"}, "a"),
        ("compare", {"a": "x", "b": "y@soon"}, "b"),
        ("compare", {"a": "x", "b": "y", "draws": 5}, "draws"),
    ],
)
def test_a_bad_query_value_is_a_422_naming_it(server, path, params, field):
    r = requests.get(f"{server.url}/api/v1/{path}", params=params, headers=auth())
    assert r.status_code == 422 and r.json()["detail"].startswith(f"{field}:"), r.text


def test_a_body_that_is_no_json_and_a_result_without_config_name_the_body_and_config(server):
    r = requests.post(
        f"{server.url}/api/v1/vocab", data=b"\x00", headers={**auth(), "Content-Type": "application/json"}
    )
    assert r.status_code == 422 and r.json()["detail"].startswith("body: JSON decode error at character 0"), r.text
    bare = {
        "benchmark": "klue",
        "task": "nsmc",
        "checkpoint": {"model": "m", "step": 1},
        "seed": 1,
        "metrics": {"accuracy": 1.0},
    }
    r = requests.post(f"{server.url}/api/v1/results", json=bare, headers=auth())
    assert r.status_code == 422 and r.json()["detail"].startswith("config:"), r.text


def test_a_checkpoint_name_taken_by_another_step_is_a_409_naming_it(server):
    first = requests.post(
        f"{server.url}/api/v1/checkpoints", json={"model": "fz", "step": 1, "name": "fz-dup"}, headers=auth()
    )
    assert first.status_code in (200, 201), first.text
    for kind, body in (
        ("checkpoints", {"model": "fz", "step": 2, "name": "fz-dup"}),
        (
            "results",
            {
                "benchmark": "klue",
                "task": "nsmc",
                "checkpoint": {"model": "fz2", "step": 3, "name": "fz-dup"},
                "seed": 1,
                "metrics": {"accuracy": 1.0},
                "config_hash": "a" * 64,
            },
        ),
    ):
        r = requests.post(f"{server.url}/api/v1/{kind}", json=body, headers=auth())
        assert r.status_code == 409 and r.json()["detail"].startswith("name: checkpoint name 'fz-dup'"), (kind, r.text)


def test_an_echoed_name_with_a_newline_stays_one_line(server):
    r = requests.post(f"{server.url}/api/v1/jobs/7/heartbeat", json={"worker": "a\nb"}, headers=auth())
    assert r.status_code == 409 and "\n" not in r.json()["detail"] and "a\\nb" in r.json()["detail"], r.text
    r = requests.get(f"{server.url}/api/v1/benchmarks/x%0Ay/table", headers=auth())
    assert r.status_code == 404 and r.json()["detail"].startswith("unknown benchmark 'x\\ny'"), r.text


def test_an_ok_outcome_without_its_result_is_a_422_not_a_500(server):
    job = {
        "recipe": "fz",
        "benchmark": "klue",
        "task": "nsmc",
        "seed": 1,
        "config_hash": "c" * 64,
        "checkpoint": "m-1k",
        "checkpoint_sha256": "f" * 64,
        "model": "m",
        "step": 1000,
    }
    assert requests.post(f"{server.url}/api/v1/jobs", json={"jobs": [job]}, headers=auth()).status_code == 201
    claimed = requests.post(
        f"{server.url}/api/v1/jobs/claim", json={"worker": "fz", "recipe": "fz"}, headers=auth()
    ).json()
    r = requests.post(
        f"{server.url}/api/v1/jobs/{claimed['id']}/finish",
        json={"worker": "fz", "outcome": {"ok": True}},
        headers=auth(),
    )
    assert r.status_code == 422 and r.json()["detail"].startswith("outcome.result:"), r.text
    r = requests.post(
        f"{server.url}/api/v1/jobs/{claimed['id']}/finish",
        json={"worker": "fz", "outcome": {"ok": False, "log_tail": 5}},
        headers=auth(),
    )
    assert r.status_code == 422 and r.json()["detail"].startswith("outcome.log_tail:"), r.text
    assert TOKEN  # the admin token of bench_support's server
