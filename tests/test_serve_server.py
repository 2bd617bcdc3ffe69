"""The inference server on 127.0.0.1: every task kind, micro-batching under concurrency, bad requests."""

import asyncio

import httpx
import pytest
from serve_kinds import KINDS, keep_threads, kind_checkpoint

from claf.serve.batcher import MicroBatcher
from claf.serve.loadtest import load_test, server_thread


@pytest.fixture(autouse=True, scope="module")
def _threads():
    yield from keep_threads()


@pytest.fixture(scope="module")
def sst2_server(tiny_sst2_run):
    from claf.predictor import Predictor
    from claf.serve.server import create_app

    predictor = Predictor(tiny_sst2_run / "checkpoints" / "best", backend="onnx", threads=1)
    with server_thread(create_app(predictor, max_batch=8, max_wait_ms=50)) as url:
        yield url, predictor


def test_micro_batching_answers_each_caller_under_concurrency(sst2_server, mirror):
    url, predictor = sst2_server
    lines = (mirror / "glue" / "SST-2" / "dev.tsv").read_text().splitlines()[1:49]
    records = [{"id": f"row-{i}", "text": line.split("\t", 1)[1]} for i, line in enumerate(lines)]
    expected = {r["id"]: r["label"] for r in predictor.predict(records)}

    async def send_all():
        async with httpx.AsyncClient(base_url=url, timeout=60) as client:
            return await asyncio.gather(*(client.post("/predict", json=r) for r in records))

    responses = asyncio.run(send_all())
    assert all(r.status_code == 200 for r in responses)
    got = {r.json()["id"]: r.json()["label"] for r in responses}
    assert got == expected
    assert len(set(expected.values())) == 2  # both labels occur, so a mixed-up answer would show
    batching = httpx.get(url + "/metadata").json()["batching"]
    assert max(int(size) for size in batching["sizes"]) > 1 and batching["requests"] >= len(records)


def test_batcher_returns_each_item_its_own_result():
    calls = []

    def run_batch(items):
        calls.append(len(items))
        return [item * 10 for item in items]

    async def main():
        batcher = MicroBatcher(run_batch, max_batch=4, max_wait_ms=30)
        await batcher.start()
        try:
            return await asyncio.gather(*(batcher.submit(i) for i in range(10)))
        finally:
            await batcher.stop()

    assert asyncio.run(main()) == [i * 10 for i in range(10)]
    assert max(calls) == 4 and sum(calls) == 10


def test_a_failing_batch_fails_its_callers():
    async def main():
        batcher = MicroBatcher(lambda items: 1 / 0, max_batch=4, max_wait_ms=5)
        await batcher.start()
        try:
            return await asyncio.gather(batcher.submit(1), batcher.submit(2), return_exceptions=True)
        finally:
            await batcher.stop()

    assert all(isinstance(r, ZeroDivisionError) for r in asyncio.run(main()))


@pytest.mark.parametrize(
    "body, field",
    [
        ({}, "text"),
        ({"text": ""}, "text"),
        ({"text": "   "}, "text"),
        ({"text": 5}, "text"),
        ({"text": ["a"]}, "text"),
        ({"text": "ok", "colour": "red"}, "colour"),
        ({"text": "ok", "id": 3}, "id"),
    ],
)
def test_bad_requests_get_422_naming_the_field(sst2_server, body, field):
    url, _ = sst2_server
    response = httpx.post(url + "/predict", json=body)
    assert response.status_code == 422
    assert field in response.json()["fields"] and response.json()["error"].startswith(field)


def test_malformed_bodies_get_4xx(sst2_server):
    url, _ = sst2_server
    assert (
        httpx.post(url + "/predict", content=b"{not json", headers={"content-type": "application/json"}).status_code
        == 422
    )
    assert httpx.post(url + "/predict/batch", json={"inputs": []}).status_code == 422
    assert httpx.get(url + "/predict").status_code == 405
    assert httpx.post(url + "/nowhere", json={"text": "x"}).status_code == 404


def test_long_input_is_truncated_and_says_so(sst2_server):
    url, _ = sst2_server
    short = httpx.post(url + "/predict", json={"text": "a fine film"}).json()
    assert short["truncated"] is False and short["label"] in ("0", "1")
    long = httpx.post(url + "/predict", json={"text": "a fine film . " * 100}).json()
    assert long["truncated"] is True and long["tokens"] > long["max_seq_length"] == 128
    assert "first 128" in long["note"]
    batch = httpx.post(url + "/predict/batch", json={"inputs": [{"text": "good"}, {"text": "bad"}]}).json()["outputs"]
    assert len(batch) == 2 and batch[0]["id"] != batch[1]["id"]


def test_health_and_metadata(sst2_server):
    url, _ = sst2_server
    assert httpx.get(url + "/health").json() == {"status": "ok"}
    meta = httpx.get(url + "/metadata").json()
    assert meta["task"] == "seq_cls" and meta["backend"] == "onnx" and meta["labels"] == ["0", "1"]
    assert meta["required_fields"] == ["text"] and meta["batching"]["max_batch"] == 8


def test_load_test_reports_each_concurrency(sst2_server, mirror):
    url, _ = sst2_server
    rows = load_test(url, [{"text": "a fine film"}, {"text": "dull"}], concurrencies=(1, 4), requests=16, warmup=4)
    assert [r["concurrency"] for r in rows] == [1, 4]
    assert all(r["errors"] == 0 and r["requests"] == 16 and r["p99_ms"] >= r["p50_ms"] > 0 for r in rows)


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_every_task_kind_is_served(kind, tmp_path_factory, minilm_path):
    from claf.predictor import Predictor
    from claf.serve.server import create_app

    checkpoint = kind_checkpoint(kind, tmp_path_factory, minilm_path)
    request = KINDS[kind][4]
    with server_thread(create_app(Predictor(checkpoint, threads=1), max_batch=4, max_wait_ms=5)) as url:
        response = httpx.post(url + "/predict", json=request)
        assert response.status_code == 200, response.text
        out = response.json()
        missing = httpx.post(url + "/predict", json={k: v for k, v in list(request.items())[:-1]})
        assert missing.status_code == 422 and list(request)[-1] in missing.json()["fields"]
    if kind == "pair":
        assert out["label"] in ("0", "1") and out["truncated"] is False
    elif kind == "regression":
        assert isinstance(out["score"], float)
    elif kind == "ner":
        assert len(out["tags"]) == 5 and all(t in ("B-PER", "I-PER", "O") for t in out["tags"])
        assert all(request["text"][e["start"] : e["end"]] == e["text"] for e in out["entities"])
    else:
        assert out["windows"] > 1 and out["truncated"] is False
        assert out["answer"] == "" or out["answer"] in request["context"]


def test_cli_serves_with_two_workers(tiny_sst2_run, mirror):
    """``claf serve --workers 2``: two processes on one port, each answering with its own model."""
    from claf.serve.loadtest import server_process

    lines = (mirror / "glue" / "SST-2" / "dev.tsv").read_text().splitlines()[1:25]
    texts = [line.split("\t")[0] for line in lines]
    checkpoint = tiny_sst2_run / "checkpoints" / "best"
    with server_process(checkpoint, "onnx", max_batch=4, max_wait_ms=2, threads=1, workers=2) as url:

        async def ask():
            async with httpx.AsyncClient(base_url=url, timeout=60) as client:
                return await asyncio.gather(*(client.post("/predict", json={"text": t, "id": t}) for t in texts))

        answers = asyncio.run(ask())
    assert all(a.status_code == 200 for a in answers)
    assert [a.json()["id"] for a in answers] == texts  # each caller its own answer
    assert {a.json()["label"] for a in answers} <= {"0", "1"}
