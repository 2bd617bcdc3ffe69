"""The benchmark server's REST API, against a real server process over SQLite and PostgreSQL."""

import csv
import io
import json

import pytest
import requests
from bench_support import TOKEN, ServerProcess, auth, database_url, result_body, seed_demo

pytestmark = pytest.mark.slow  # real server processes


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def api(request, tmp_path_factory):
    home = tmp_path_factory.mktemp(f"bench_{request.param}")
    server = ServerProcess(database_url(request.param, home), home).start()
    seed_demo(server.url)
    yield server
    server.stop()


def table(api, **params):
    r = requests.get(f"{api.url}/api/v1/benchmarks/demo/table", params=params)
    assert r.status_code == 200, r.text
    t = r.json()
    return t, {row["model"]: row for row in t["rows"]}


def test_best_step_median_table_with_tie_lower_is_better_missing_and_references(api):
    t, rows = table(api)
    assert [c["key"] for c in t["columns"]] == ["acc", "mrpc", "ppl", "average"]
    assert rows["alpha"]["cells"]["acc"]["value"] == 86.0 and rows["alpha"]["cells"]["acc"]["step"] == 2000
    assert rows["alpha"]["cells"]["acc"]["n"] == 2
    assert rows["beta"]["cells"]["acc"]["value"] == 86.0 and rows["beta"]["cells"]["acc"]["step"] == 1000
    best = {
        c: {m for m, r in rows.items() if r["cells"].get(c) and r["cells"][c].get("best")}
        for c in ("acc", "mrpc", "ppl", "average")
    }
    assert best["acc"] == {"alpha", "beta"}  # a tie: both bold; the reference's 99.0 never counts
    assert best["mrpc"] == {"beta"}
    assert best["ppl"] == {"gamma"}  # lower is better
    assert rows["gamma"]["cells"]["mrpc"] is None and rows["gamma"]["cells"]["average"] is None
    assert rows["beta"]["cells"]["mrpc"]["text"] == "90.25/88.25"  # display rule f1/accuracy
    assert rows["alpha"]["cells"]["average"]["value"] == pytest.approx((86.0 + 89.5) / 2)  # ppl weight 0
    ref = rows["Published model"]
    assert ref["kind"] == "reference" and ref["cells"]["acc"]["value"] == 99.0 and not ref["cells"]["acc"]["best"]


def test_last_step_fixed_step_and_mean_std(api):
    _, rows = table(api, step="last")
    assert rows["beta"]["cells"]["acc"]["value"] == 84.0 and rows["gamma"]["cells"]["acc"]["step"] == 3000
    _, rows = table(api, step="1k")
    assert rows["alpha"]["cells"]["acc"]["value"] == 82.0 and rows["alpha"]["cells"]["acc"]["n"] == 3
    assert rows["gamma"]["cells"]["ppl"]["value"] == 8.5
    _, rows = table(api, step="2000", seeds="mean")
    cell = rows["alpha"]["cells"]["acc"]
    assert cell["value"] == 86.0 and cell["std"] == pytest.approx(2**0.5) and cell["n"] == 2
    assert rows["gamma"]["cells"]["acc"] is None  # gamma has no step 2000
    r = requests.get(f"{api.url}/api/v1/benchmarks/demo/table", params={"step": "soon"})
    assert r.status_code == 422 and "step" in r.json()["detail"]


def test_series_per_model_with_groups_and_pretraining_curve(api):
    r = requests.get(f"{api.url}/api/v1/benchmarks/demo/tasks/acc/series", params={"group_by": "masking"})
    s = r.json()
    traces = {t["model"]: t for t in s["traces"]}
    assert traces["alpha"]["steps"] == [1000, 2000] and traces["alpha"]["values"] == [82.0, 86.0]
    assert traces["alpha"]["n"] == [3, 2] and traces["beta"]["group"] == "space"
    assert traces["gamma"]["steps"] == [1000, 3000]
    curves = {c["model"]: c for c in s["pretraining"]}
    assert curves["gamma"]["steps"] == [1000, 3000] and curves["gamma"]["values"] == [4.5, 2.9]


def test_unknown_benchmark_and_task_list_known_names(api):
    r = requests.get(f"{api.url}/api/v1/benchmarks/nope/table")
    assert r.status_code == 404 and all(n in r.json()["detail"] for n in ("demo", "glue", "jglue", "klue"))
    r = requests.get(f"{api.url}/api/v1/benchmarks/demo/tasks/nope/series")
    assert r.status_code == 404 and "acc, mrpc, ppl" in r.json()["detail"]
    body = result_body("alpha", "nope", 1000, 0, 1.0)
    r = requests.post(f"{api.url}/api/v1/results", json=body, headers=auth())
    assert r.status_code == 404 and "acc" in r.json()["detail"]


def test_writes_are_idempotent_and_conflicts_are_409(api):
    body = result_body("delta", "acc", 5000, 7, 77.0)
    first = requests.post(f"{api.url}/api/v1/results", json=body, headers=auth())
    again = requests.post(f"{api.url}/api/v1/results", json=body, headers=auth())
    assert (first.status_code, again.status_code) == (201, 200) and first.json()["id"] == again.json()["id"]
    changed = dict(body, metrics={"accuracy": 78.0})
    r = requests.post(f"{api.url}/api/v1/results", json=changed, headers=auth())
    assert r.status_code == 409 and "different body" in r.json()["detail"]
    _, rows = table(api, step="5000")
    assert rows["delta"]["cells"]["acc"]["n"] == 1  # one row for the key
    ck = {"model": "delta", "step": 6000, "url": "s3://bucket/delta-6k.tar.gz", "sha256": "a" * 64}
    codes = [requests.post(f"{api.url}/api/v1/checkpoints", json=ck, headers=auth()).status_code for _ in range(2)]
    assert codes == [201, 200]
    r = requests.post(f"{api.url}/api/v1/checkpoints", json=dict(ck, sha256="b" * 64), headers=auth())
    assert r.status_code == 409


def test_writes_need_the_token(api):
    body = result_body("alpha", "acc", 1000, 99, 50.0)
    for headers in ({}, auth("wrong"), {"Authorization": TOKEN}):
        for path, payload in (("results", body), ("checkpoints", {"model": "x", "step": 1})):
            r = requests.post(f"{api.url}/api/v1/{path}", json=payload, headers=headers)
            assert r.status_code == 401, (headers, path, r.text)
    assert requests.get(f"{api.url}/api/v1/benchmarks/demo/table").status_code == 200  # reads are open


def test_bad_input_gets_clear_4xx(api):
    url = f"{api.url}/api/v1/results"
    r = requests.post(url, data=b'{"seed": 1, ', headers={**auth(), "Content-Type": "application/json"})
    assert r.status_code == 422 and "JSON" in r.json()["detail"]
    r = requests.post(url, json=dict(result_body("alpha", "acc", 1000, 1, 1.0), seed="first"), headers=auth())
    assert r.status_code == 422 and r.json()["detail"].startswith("seed:")
    nan = json.dumps(result_body("alpha", "acc", 1000, 50, 1.0)).replace('"accuracy": 1.0', '"accuracy": NaN')
    r = requests.post(url, data=nan, headers={**auth(), "Content-Type": "application/json"})
    assert r.status_code == 422 and "metrics.accuracy" in r.json()["detail"]
    r = requests.post(url, json=dict(result_body("alpha", "acc", 1000, 51, 1.0), metrics={"f1": 2.0}), headers=auth())
    assert r.status_code == 422 and "accuracy" in r.json()["detail"]
    huge = {"padding": "x" * (10 * 1024 * 1024)}
    r = requests.post(url, json=huge, headers=auth())
    assert r.status_code == 413
    r = requests.post(url, json={**result_body("alpha", "acc", 1000, 52, 1.0), "surprise": 1}, headers=auth())
    assert r.status_code == 422 and "surprise" in r.json()["detail"]


def test_one_result_with_frozen_config_and_config_diff(api):
    a = requests.post(f"{api.url}/api/v1/results", json=result_body("alpha", "acc", 1000, 0, 80.0), headers=auth())
    body = result_body("alpha", "acc", 1000, 0, 80.0)
    body["config"]["optimizer"]["learning_rate"] = 3e-5
    b = requests.post(f"{api.url}/api/v1/results", json=body, headers=auth())
    assert a.status_code == 200 and b.status_code == 201  # a new config hash is a new result
    ra = requests.get(f"{api.url}/api/v1/results/{a.json()['id']}").json()
    assert ra["config"] == result_body("alpha", "acc", 1000, 0, 80.0)["config"] and ra["provenance"]["device"] == "cpu"
    diff = requests.get(f"{api.url}/api/v1/results/{a.json()['id']}/diff/{b.json()['id']}").json()
    assert diff["differences"] == [{"key": "optimizer.learning_rate", "a": 5e-5, "b": 3e-5}]
    assert requests.get(f"{api.url}/api/v1/results/999999").status_code == 404


def test_csv_export_and_openapi(api):
    r = requests.get(f"{api.url}/api/v1/benchmarks/demo/table.csv")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = {row["model"]: row for row in csv.DictReader(io.StringIO(r.text))}
    assert rows["alpha"]["acc"] == "86.0000" and rows["gamma"]["mrpc"] == ""
    spec = requests.get(f"{api.url}/api/v1/openapi.json").json()
    assert "/api/v1/results" in spec["paths"] and "/api/v1/benchmarks/{name}/table" in spec["paths"]


def test_task_found_from_the_config_data_path_and_shipped_catalog(api):
    body = result_body("alpha", "acc", 1000, 0, 88.0)
    del body["benchmark"], body["task"]
    body["config"]["data_reader"] = {"train_file_path": "nsmc/ratings_train.txt"}
    r = requests.post(f"{api.url}/api/v1/results", json=body, headers=auth())
    assert r.status_code == 201 and (r.json()["benchmark"], r.json()["task"]) == ("klue", "nsmc")
    benchmarks = {b["name"]: b for b in requests.get(f"{api.url}/api/v1/benchmarks").json()}
    tasks = {t["name"]: t for t in benchmarks["glue"]["tasks"]}
    assert tasks["mrpc"]["display"] == ["f1", "accuracy"] and tasks["stsb"]["display"] == ["pearson", "spearman"]
    _, rows = (lambda t: (t, {r["model"]: r for r in t["rows"]}))(
        requests.get(f"{api.url}/api/v1/benchmarks/klue/table").json()
    )
    assert rows["mBERT cased (CLaF report)"]["cells"]["korquad"]["text"] == "78.96/88.69"
    assert rows["KoELECTRA-base v3"]["cells"]["nsmc"]["value"] == 90.63


def test_vocab_rows(api):
    rows = [{"tokenizer": "vocab/kor_32k_cased", "vocab_size": 32000, "unk_ratio": 0.0037}]
    assert requests.post(f"{api.url}/api/v1/vocab", json=rows, headers=auth()).status_code == 201
    assert requests.get(f"{api.url}/api/v1/vocab").json()[0]["vocab_size"] == 32000
    assert "kor_32k_cased" in requests.get(f"{api.url}/vocab").text
