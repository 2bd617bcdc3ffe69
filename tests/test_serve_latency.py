"""The latency command on a tiny model: a complete table, its files, and the post to a benchmark server."""

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from serve_kinds import keep_threads

from claf.serve.latency import COLUMNS, SCHEMA, format_table, longest_within, run_latency, save


@pytest.fixture(autouse=True, scope="module")
def _threads():
    yield from keep_threads()


ROOT = Path(__file__).resolve().parents[1]


def test_latency_table_is_complete(tiny_sst2_run, tmp_path):
    checkpoint = tiny_sst2_run / "checkpoints" / "best"
    backends = ["torch", "onnx", "onnx-int8"]
    report = run_latency(
        checkpoint,
        backends,
        batches=[1, 2],
        lengths=[16, 32],
        threads=1,
        warmup=1,
        rounds=2,
        cell_seconds=0.01,
        min_iterations=4,
        max_iterations=8,
        budget_ms=1e6,
    )
    assert report["schema"] == SCHEMA and report["settings"]["threads"] == 1
    rows = report["rows"]
    assert {(r["backend"], r["batch"], r["length"]) for r in rows} == {
        (b, n, length) for b in backends for n in (1, 2) for length in (16, 32)
    }
    for r in rows:
        assert set(COLUMNS) <= set(r) and 4 <= r["iterations"] <= 8
        assert 0 < r["p50_ms"] <= r["p90_ms"] <= r["p95_ms"] <= r["p99_ms"] and r["throughput"] > 0
    assert [b["longest_length"] for b in report["budget"]] == [32, 32, 32]  # everything fits a huge budget
    env = report["environment"]
    assert env["threads"] == 1 and env["torch"] and env["onnxruntime"] and isinstance(env["cpu_flags"], list)
    table = format_table(report)
    assert len([line for line in table.splitlines() if line.startswith(tuple(backends))]) == 12
    json_path, csv_path = save(report, tmp_path / "latency")
    assert json.loads(json_path.read_text())["rows"] == rows
    assert len(list(csv.DictReader(csv_path.open()))) == 12


def test_budget_row_picks_the_longest_length_within_budget():
    rows = [{"backend": "onnx", "batch": 1, "length": n, "p95_ms": ms} for n, ms in ((32, 3), (64, 6), (128, 12))]
    assert longest_within(rows, 10)[0]["longest_length"] == 64
    assert longest_within(rows, 1)[0]["longest_length"] is None


@pytest.mark.slow  # a real benchmark server process
def test_cli_prints_saves_and_posts_into_the_servers_table(tiny_sst2_run, tmp_path):
    from bench_support import TOKEN, ServerProcess

    server = ServerProcess(f"sqlite:///{tmp_path / 'bench.sqlite'}", tmp_path).start()
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "CLAF_SERVER_URL": server.url,
        "CLAF_SERVER_TOKEN": TOKEN,
        "CLAF_HOME": str(tmp_path),
        "NO_PROXY": "127.0.0.1",
        "no_proxy": "127.0.0.1",
    }
    try:
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "claf",
                "bench",
                "latency",
                str(tiny_sst2_run),
                "--backends",
                "torch,onnx",
                "--batches",
                "1",
                "--lengths",
                "16,32",
                "--threads",
                "1",
                "--warmup",
                "1",
                "--min_iterations",
                "3",
                "--cell_seconds",
                "0.01",
                "--output",
                str(tmp_path / "lat"),
            ],
            capture_output=True,
            text=True,
            env=env,
            timeout=600,
        )
        assert result.returncode == 0, result.stderr[-2000:]
        assert "p95" in result.stdout and "longest input within 100 ms" in result.stdout
        assert f"posted to {server.url}/speed" in result.stdout
        saved = json.loads((tmp_path / "lat.json").read_text())
        assert (tmp_path / "lat.csv").is_file()
        runs = requests.get(f"{server.url}/api/v1/latency").json()
        assert len(runs) == 1 and runs[0]["rows"] == 4 and runs[0]["backends"] == ["torch", "onnx"]
        stored = requests.get(f"{server.url}/api/v1/latency/{runs[0]['id']}").json()
        assert stored["rows"] == saved["rows"] and stored["budget"] == saved["budget"]
        assert stored["environment"] == saved["environment"]
        page = requests.get(f"{server.url}/speed").text
        onnx_p50 = next(r["p50_ms"] for r in saved["rows"] if (r["backend"], r["length"]) == ("onnx", 32))
        assert f"{onnx_p50:.2f}" in page
    finally:
        server.stop()


def test_cli_rejects_an_unknown_backend(tiny_sst2_run):
    result = subprocess.run(
        [sys.executable, "-m", "claf", "bench", "latency", str(tiny_sst2_run), "--backends", "torch,tpu"],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        timeout=300,
    )
    assert result.returncode == 2 and "error: --backend 'tpu' is not one of" in result.stderr
