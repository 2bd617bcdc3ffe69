"""The budget page: each pre-trained model's suite-average gain over random init against its pre-training
compute, its numbers those of `claf compare` (the real app in-process, over SQLite; in a browser:
test_dashboard_noise). Compute figures that arrive after the checkpoint fill it in; other figures conflict."""

import json
import re
import statistics

import pytest
from bench_support import REPLICAS, TOKEN, noise_bodies, noise_compute, rest_poster, result_body, seed_noise


@pytest.fixture
def client(tmp_path):
    from fastapi.testclient import TestClient

    from claf.server.app import create_app

    with TestClient(create_app(f"sqlite:///{tmp_path}/bench.sqlite", token=TOKEN)) as c:
        yield c


def page_json(html: str) -> dict:
    return json.loads(re.search(r'<script id="budget-data" type="application/json">(.*?)</script>', html, re.S)[1])


def test_each_point_is_the_compare_average_at_the_mean_compute_of_its_replicas(client):
    seed_noise(rest_poster(client))
    r = client.get("/benchmarks/noise/budget", params={"draws": 500})
    assert r.status_code == 200, r.text
    data = page_json(r.text)
    assert data["units"] == ["CPU-seconds"] and [p["target"] for p in data["points"]] == ["tiny@1000", "tiny@2000"]
    assert data["skipped"] == []
    for p in data["points"]:
        report = client.get(
            "/api/v1/compare", params={"a": p["target"], "b": "random-init", "benchmark": "noise", "draws": 500}
        ).json()
        avg = report["average"]
        assert (p["gain"], p["low"], p["high"], p["verdict"]) == (avg["delta"], avg["low"], avg["high"], avg["verdict"])
        assert p["baseline"] == "tiny-random-init@0" and p["replicas"] == len(REPLICAS)
        assert p["compute"] == pytest.approx(statistics.mean(noise_compute(i, p["step"]) for i in range(3)), abs=0.05)
        assert p["better"] == sum(t["verdict"] == "better" for t in report["tasks"])
        row = re.search(rf'<tr data-target="{p["target"]}" data-verdict="([^"]+)">', r.text)
        assert row and row[1] == p["verdict"]
    assert 'id="budget-link" href="/benchmarks/noise/budget"' in client.get("/benchmarks/noise").text

    # an explicit baseline, a bad one and a missing benchmark: one line each, never a 500
    vs = page_json(client.get("/benchmarks/noise/budget", params={"baseline": "tiny@1000", "draws": 500}).text)
    assert [p["target"] for p in vs["points"]] == ["tiny@1000", "tiny@2000"]
    assert vs["points"][0]["gain"] == 0.0 and vs["points"][1]["baseline"] == "tiny@1000"
    bad = client.get("/benchmarks/noise/budget", params={"baseline": "nobody@1k"})
    assert bad.status_code == 200 and "nobody" in page_json(bad.text)["skipped"][0]["reason"]
    assert client.get("/benchmarks/nothere/budget").status_code == 404
    assert client.get("/benchmarks/noise/budget", params={"draws": 5}).status_code == 400


def test_compute_figures_filed_after_the_checkpoint_fill_it_in_once(client):
    post = rest_poster(client)
    client.put(
        "/api/v1/benchmarks/b",
        json={"name": "b", "tasks": [{"name": "t1", "metric": "accuracy"}, {"name": "t2", "metric": "accuracy"}]},
        headers={"Authorization": f"Bearer {TOKEN}"},
    )
    for model, step, base in (("m", 1000, 80.0), ("m-random-init", 0, 70.0)):
        for task in ("t1", "t2"):
            for seed in (1, 2, 3):
                assert (
                    post("/api/v1/results", result_body(model, task, step, seed, base + seed, "b"), "post").status_code
                    == 201
                )
    assert page_json(client.get("/benchmarks/b/budget").text)["points"] == []  # no compute figures yet
    never_run = {"model": "m", "step": 500, "metrics": {"pretrain_cpu_seconds": 300.0}}  # no results: no point
    assert post("/api/v1/checkpoints", never_run, "post").status_code == 201
    figures = {"model": "m", "step": 1000, "metrics": {"pretrain_cpu_seconds": 600.0}}
    assert post("/api/v1/checkpoints", figures, "post").status_code == 200  # filled in, not a conflict
    assert post("/api/v1/checkpoints", figures, "post").status_code == 200  # the same again: a no-op
    other = dict(figures, metrics={"pretrain_cpu_seconds": 900.0})
    assert post("/api/v1/checkpoints", other, "post").status_code == 409  # figures once filled do not change
    more = dict(figures, metrics={"pretrain_cpu_seconds": 600.0, "mlm_loss": 6.7})  # `results push` later
    assert post("/api/v1/checkpoints", more, "post").status_code == 200
    assert post("/api/v1/checkpoints", more, "post").status_code == 200
    page = page_json(client.get("/benchmarks/b/budget").text)
    [point] = page["points"]
    assert page["skipped"] == []
    assert point["compute"] == 600.0 and point["gain"] == pytest.approx(10.0) and point["verdict"] == "better"


def test_points_are_kept_until_a_result_or_a_compute_figure_arrives(client):
    post = rest_poster(client)
    seed_noise(post)
    first = page_json(client.get("/benchmarks/noise/budget", params={"draws": 300}).text)
    again = page_json(client.get("/benchmarks/noise/budget", params={"draws": 300}).text)
    assert (first["cached"], again["cached"]) == (False, True) and again["points"] == first["points"]
    other_draws = page_json(client.get("/benchmarks/noise/budget", params={"draws": 400}).text)
    assert other_draws["cached"] is False  # another question, another entry

    # a new fine-tuning seed of the random init moves every point's baseline: recomputed, not served stale
    extra = next(b for b in noise_bodies() if b["checkpoint"]["model"] == "tiny-random-init" and b["task"] == "acc")
    lower = dict(extra, seed=9, metrics={k: v - 20.0 for k, v in extra["metrics"].items()})
    lower["examples"] = dict(extra["examples"], predictions=[1 - p for p in extra["examples"]["predictions"]])
    assert post("/api/v1/results", lower, "post").status_code == 201
    moved = page_json(client.get("/benchmarks/noise/budget", params={"draws": 300}).text)
    assert moved["cached"] is False and all(
        m["gain"] > f["gain"] for m, f in zip(moved["points"], first["points"], strict=True)
    )

    # a compute figure filed later (a new replica's checkpoint) changes a point's x
    figures = {"model": "tiny-s4", "step": 1000, "metrics": {"pretrain_cpu_seconds": 5000.0}, "family": "tiny"}
    assert post("/api/v1/checkpoints", figures, "post").status_code == 201
    body = next(b for b in noise_bodies() if b["checkpoint"]["model"] == "tiny-s1" and b["checkpoint"]["step"] == 1000)
    assert post("/api/v1/results", dict(body, checkpoint={"model": "tiny-s4", "step": 1000}), "post").status_code == 201
    grown = page_json(client.get("/benchmarks/noise/budget", params={"draws": 300}).text)
    assert grown["cached"] is False
    at = {p["target"]: p for p in grown["points"]}
    assert at["tiny@1000"]["replicas"] == 4 and at["tiny@1000"]["compute"] > moved["points"][0]["compute"]
