"""Latency tables on the benchmark server: writes (token, idempotent, 409, 422 naming the field) and reads,
against a real server process over SQLite and PostgreSQL."""

import copy
import csv
import io

import pytest
import requests
from bench_support import LATENCY_ENV as ENV
from bench_support import ServerProcess, auth, database_url
from bench_support import latency_report as report

pytestmark = pytest.mark.slow  # real server processes


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def server(request, tmp_path_factory):
    home = tmp_path_factory.mktemp(f"speed_{request.param}")
    proc = ServerProcess(database_url(request.param, home), home).start()
    yield proc
    proc.stop()


def post(server, body, headers=None):
    return requests.post(f"{server.url}/api/v1/latency", json=body, headers=auth() if headers is None else headers)


def test_post_is_idempotent_conflicts_are_409_and_needs_the_token(server):
    body = report()
    first = post(server, body)
    assert first.status_code == 201, first.text
    assert first.json()["rows"] == 8
    again = post(server, body)
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    changed = copy.deepcopy(body)
    changed["rows"][0]["p50_ms"] += 1.0  # the same run with other figures
    conflict = post(server, changed)
    assert conflict.status_code == 409 and f"(id {first.json()['id']})" in conflict.json()["detail"]
    assert post(server, report(created="2026-01-02T09:00:00+00:00"), headers={}).status_code == 401
    assert post(server, report(created="2026-01-02T09:00:00+00:00"), headers=auth("wrong")).status_code == 401
    runs = requests.get(f"{server.url}/api/v1/latency").json()
    assert [r["id"] for r in runs] == [first.json()["id"]]  # refused posts stored nothing


def test_reads_list_one_run_appendix_table_and_csv(server):
    older = post(server, report(created="2026-01-01T00:00:00+00:00", scale=2.0))
    newer = post(server, report(created="2026-02-01T00:00:00+00:00"))
    assert older.status_code == newer.status_code == 201
    runs = requests.get(f"{server.url}/api/v1/latency").json()
    assert runs[0]["id"] == newer.json()["id"]  # newest first
    assert runs[0]["backends"] == ["torch", "onnx"] and runs[0]["threads"] == 1 and runs[0]["rows"] == 8

    one = requests.get(f"{server.url}/api/v1/latency/{older.json()['id']}").json()
    assert one["environment"] == ENV and one["model"]["layers"] == 6
    assert {(r["backend"], r["batch"], r["length"]): r["p50_ms"] for r in one["rows"]}[("onnx", 8, 512)] == 1440.0

    table = requests.get(f"{server.url}/api/v1/latency/{newer.json()['id']}/table").json()
    assert table["backends"] == ["torch", "onnx"] and table["reference"] == "torch"
    assert [(line["batch"], line["length"]) for line in table["lines"]] == [(1, 128), (1, 512), (8, 128), (8, 512)]
    cell = table["lines"][0]["backends"]["onnx"]
    assert cell["p50_ms"] == 30.0 and cell["vs_reference"] == pytest.approx(0.75)
    assert set(table["figures"]) == {"p50_ms", "p90_ms", "p95_ms", "p99_ms", "avg_ms", "throughput"}
    assert table["budget"][1]["longest_length"] == 128

    text = requests.get(f"{server.url}/api/v1/latency/{newer.json()['id']}/table.csv").text
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == 8 and float(rows[0]["p50_ms"]) > 0 and rows[0]["backend"] in ("torch", "onnx")

    missing = requests.get(f"{server.url}/api/v1/latency/999999")
    assert missing.status_code == 404 and "known runs" in missing.json()["detail"]


@pytest.mark.parametrize(
    "change, field",
    [
        (lambda b: b.pop("rows"), "rows"),
        (lambda b: b.update(rows=[]), "rows"),
        (lambda b: b["rows"][2].update(p50_ms="fast"), "rows.2.p50_ms"),
        (lambda b: b["rows"][0].pop("p99_ms"), "rows.0.p99_ms"),
        (lambda b: b["rows"][1].update(batch=0), "rows.1.batch"),
        (lambda b: b.update(schema="claf.latency/v0"), "schema"),
        (lambda b: b["model"].pop("checkpoint"), "model.checkpoint"),
        (lambda b: b["budget"][0].update(longest_length="long"), "budget.0.longest_length"),
        (lambda b: b.update(surprise=1), "surprise"),
        (lambda b: b["rows"].append(dict(b["rows"][0])), "rows[8]"),  # a second row for one cell
    ],
)
def test_bad_payloads_get_422_naming_the_field(server, change, field):
    body = report(created="2026-03-01T00:00:00+00:00")
    change(body)
    r = post(server, body)
    assert r.status_code == 422, r.text
    assert field in r.json()["detail"], r.json()
