"""Helpers for the benchmark-server tests: a real server process on 127.0.0.1, databases, seed data."""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

REPO = Path(__file__).resolve().parents[1]
TOKEN = "test-token-123"
PG_DEFAULT = "postgresql+psycopg://claf_test:claf_test@127.0.0.1:5432/claf_test"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def postgres_url() -> str:
    """The test PostgreSQL (``CLAF_TEST_POSTGRES_URL``, set by .ci/services.sh), emptied; fails if absent."""
    url = os.environ.get("CLAF_TEST_POSTGRES_URL", PG_DEFAULT)
    from sqlalchemy import create_engine, text

    try:
        engine = create_engine(url)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        engine.dispose()
    except Exception as e:
        pytest.fail(
            f"PostgreSQL not reachable at {url} ({type(e).__name__}); run 'source .ci/services.sh' "
            "(installs Debian's postgresql and starts it on 127.0.0.1)"
        )
    return url


def database_url(kind: str, folder: Path) -> str:
    return postgres_url() if kind == "postgres" else f"sqlite:///{folder / 'bench.sqlite'}"


class ServerProcess:
    """``python -m claf server`` in a subprocess; ``url`` is ready once started."""

    def __init__(self, db_url: str, home: Path, port: int | None = None, token: str = TOKEN):
        self.db_url, self.home, self.port, self.token = db_url, Path(home), port or free_port(), token
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc = None

    def env(self):
        env = dict(
            os.environ,
            CLAF_HOME=str(self.home),
            CLAF_SERVER_TOKEN=self.token,
            PYTHONPATH=os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
            NO_PROXY="127.0.0.1,localhost",
            no_proxy="127.0.0.1,localhost",
        )
        return env

    def start(self, timeout: float = 60.0):
        return self.launch().wait_ready(timeout)

    def launch(self):
        self.log = open(self.home / f"server-{self.port}.log", "ab")
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "claf",
                "server",
                "--db",
                self.db_url,
                "--port",
                str(self.port),
                "--log_level",
                "warning",
            ],
            env=self.env(),
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        return self

    def wait_ready(self, timeout: float = 60.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"server exited with {self.proc.returncode}: "
                    f"{(self.home / f'server-{self.port}.log').read_text()[-2000:]}"
                )
            try:
                if requests.get(f"{self.url}/api/v1/health", timeout=1).status_code == 200:
                    return self
            except requests.RequestException:
                time.sleep(0.2)
        self.proc.kill()  # never leave a server behind a failed start
        self.proc.wait()
        raise RuntimeError(f"server on {self.url} did not start within {timeout}s")

    def kill9(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if getattr(self, "log", None):
            self.log.close()


def auth(token: str = TOKEN) -> dict:
    return {"Authorization": f"Bearer {token}"}


DEMO = {
    "name": "demo",
    "title": "Demo benchmark",
    "tasks": [
        {"name": "acc", "title": "Acc", "metric": "accuracy"},
        {"name": "mrpc", "title": "MRPC", "metric": "f1", "display": ["f1", "accuracy"]},
        {"name": "ppl", "title": "Perplexity", "metric": "perplexity", "higher_is_better": False, "average_weight": 0},
    ],
    "references": [{"task": "acc", "label": "Published model", "metrics": {"accuracy": 99.0}}],
}

# model -> options; scores[(model, task)] = {step: [seed scores]}
MODELS = {
    "alpha": {"masking": "subword", "vocab_size": 32000},
    "beta": {"masking": "space", "vocab_size": 64000},
    "gamma": {"masking": "subword", "vocab_size": 64000},
}
SCORES = {
    ("alpha", "acc"): {1000: [80.0, 82.0, 84.0], 2000: [85.0, 87.0]},  # best step 2000 (median 86)
    ("beta", "acc"): {1000: [86.0], 2000: [84.0]},  # best step 1000: 86 -> ties alpha
    ("gamma", "acc"): {1000: [70.0], 3000: [75.0]},
    ("alpha", "mrpc"): {1000: [88.0], 2000: [89.5]},
    ("beta", "mrpc"): {1000: [90.25], 2000: [89.0]},
    # gamma has no mrpc result: a missing cell
    ("alpha", "ppl"): {1000: [12.0], 2000: [9.0]},
    ("beta", "ppl"): {1000: [10.0], 2000: [11.0]},
    ("gamma", "ppl"): {1000: [8.5], 3000: [8.0]},  # lower is better: gamma best
}
PRETRAIN_LOSS = {"alpha": {1000: 4.0, 2000: 3.1}, "beta": {1000: 4.2, 2000: 3.3}, "gamma": {1000: 4.5, 3000: 2.9}}


def result_body(model, task, step, seed, score, benchmark="demo"):
    metrics = {"accuracy": score, "f1": score, "perplexity": score}
    if task == "mrpc":
        metrics["accuracy"] = score - 2.0
    return {
        "benchmark": benchmark,
        "task": task,
        "checkpoint": {"model": model, "step": step},
        "seed": seed,
        "metrics": metrics,
        "history": [{"epoch": 1, "global_step": 10, f"valid/{task}": score}],
        "config": {
            "model": {"name": "bert", "bert": {"pretrained_model_name": f"{model}-{step}"}},
            "seed_num": seed,
            "task": task,
            "optimizer": {"learning_rate": 5e-5},
        },
        "provenance": {"claf_revision": "abc", "device": "cpu", "threads": 2},
    }


def seed_demo(url: str):
    """Define ``demo`` and post its checkpoints and results; asserts every write is stored."""
    r = requests.put(f"{url}/api/v1/benchmarks/demo", json=DEMO, headers=auth())
    assert r.status_code in (200, 201), r.text
    for model, options in MODELS.items():
        for step, loss in PRETRAIN_LOSS[model].items():
            r = requests.post(
                f"{url}/api/v1/checkpoints",
                headers=auth(),
                json={
                    "model": model,
                    "step": step,
                    "name": f"{model}-{step // 1000}k",
                    "model_options": options,
                    "metrics": {"mlm_loss": loss},
                },
            )
            assert r.status_code in (200, 201), r.text
    for (model, task), per_step in SCORES.items():
        for step, scores in per_step.items():
            for seed, score in enumerate(scores):
                r = requests.post(
                    f"{url}/api/v1/results", headers=auth(), json=result_body(model, task, step, seed, score)
                )
                assert r.status_code in (200, 201), r.text


def load_worker(url: str, worker: int, posts: int, stop_after_errors: int = 0) -> dict:
    """Post ``posts`` results, each sent twice (the retry of a client that missed the answer).

    Returns the status codes seen and the acknowledged (2xx) results as {id: (model, step, seed, score)}.
    With ``stop_after_errors``, gives up after that many connection errors in a row (server killed).
    """
    session = requests.Session()
    statuses, acked, errors = [], {}, 0
    for i in range(posts):
        # models and checkpoints are shared by all workers (racing to create them); seeds keep keys apart
        model, step, seed, score = f"load-{i % 4}", 1000 * (1 + i % 5), worker * posts + i, float(i % 97)
        body = result_body(model, "acc", step, seed, score)
        for _attempt in range(2):
            try:
                r = session.post(f"{url}/api/v1/results", json=body, headers=auth(), timeout=30)
            except requests.RequestException:
                errors += 1
                if stop_after_errors and errors >= stop_after_errors:
                    return {"statuses": statuses, "acked": acked}
                continue
            errors = 0
            statuses.append(r.status_code)
            if 200 <= r.status_code < 300:
                acked[r.json()["id"]] = (model, step, seed, score)
    return {"statuses": statuses, "acked": acked}


def count_results(db_url: str) -> int:
    from sqlalchemy import create_engine, func, select

    from claf.db.tables import Result

    engine = create_engine(db_url)
    with engine.connect() as conn:
        n = conn.execute(select(func.count()).select_from(Result)).scalar_one()
    engine.dispose()
    return n


# a small claf.latency/v1 report (what `claf bench latency` posts)
LATENCY_ENV = {
    "cpu": "Test CPU",
    "machine": "x86_64",
    "cores": 2,
    "threads": 1,
    "cpu_flags": ["avx2", "avx512_vnni"],
    "vnni": True,
    "native_bf16": False,
    "amx": False,
    "torch": "2.x",
    "python": "3.11",
    "loadavg": [1.5, 1.0, 0.5],
}


def latency_row(backend, batch, length, p50):
    return {
        "backend": backend,
        "batch": batch,
        "length": length,
        "iterations": 20,
        "avg_ms": p50 * 1.1,
        "p50_ms": p50,
        "p90_ms": p50 * 1.2,
        "p95_ms": p50 * 1.3,
        "p99_ms": p50 * 1.5,
        "throughput": batch * 1000 / (p50 * 1.1),
    }


def latency_report(created="2026-01-02T03:04:05+00:00", scale=1.0):
    """A small claf.latency/v1 report: torch and onnx at batch 1/8 x length 128/512."""
    p50 = {("torch", 1, 128): 40.0, ("onnx", 1, 128): 30.0, ("torch", 1, 512): 160.0, ("onnx", 1, 512): 120.0}
    p50.update({(b, 8, n): 6 * v for (b, _one, n), v in list(p50.items())})
    rows = [latency_row(b, batch, n, scale * v) for (b, batch, n), v in sorted(p50.items())]
    return {
        "schema": "claf.latency/v1",
        "created": created,
        "model": {"checkpoint": "runs/sst2/checkpoints/best", "type": "bert", "layers": 6, "hidden": 384, "heads": 12},
        "environment": LATENCY_ENV,
        "settings": {"backends": ["torch", "onnx"], "batches": [1, 8], "lengths": [128, 512], "threads": 1},
        "rows": rows,
        "budget": [
            {"backend": "torch", "batch": 1, "budget_ms": 100.0, "longest_length": 128, "p95_ms": 52.0},
            {"backend": "onnx", "batch": 1, "budget_ms": 100.0, "longest_length": 128, "p95_ms": 39.0},
        ],
    }


# A benchmark with pre-training replicas: "tiny" pre-trained with seeds 1..3 (models tiny-s1..s3), each at
# steps 1000 and 2000 with 2 fine-tuning seeds, and its random-init baseline. "acc" results carry per-example
# predictions and tiny is far better than random init there; "score" results are scores only, the same for both.
NOISE = {
    "name": "noise",
    "title": "Noise benchmark",
    "tasks": [
        {"name": "acc", "title": "Acc", "metric": "accuracy"},
        {"name": "score", "title": "Score", "metric": "f1"},
    ],
}
REPLICAS = ("tiny-s1", "tiny-s2", "tiny-s3")
N_EXAMPLES = 80


def noise_bodies() -> list[dict]:
    """The results of ``NOISE``, in the order they are posted (fixed RNG)."""
    import random

    rng = random.Random(5)
    truth = [rng.randint(0, 1) for _ in range(N_EXAMPLES)]
    bodies = []

    def add(model, step, seed, right_share, score):
        right = [rng.random() < right_share for _ in range(N_EXAMPLES)]
        examples = {
            "ids": [f"e{i}" for i in range(N_EXAMPLES)],
            "predictions": [t if ok else 1 - t for t, ok in zip(truth, right)],
            "references": truth,
            "metrics": ["accuracy"],
        }
        acc = result_body(model, "acc", step, seed, 100.0 * sum(right) / N_EXAMPLES, benchmark="noise")
        bodies.append(dict(acc, examples=examples))
        bodies.append(result_body(model, "score", step, seed, score, benchmark="noise"))

    for r, model in enumerate(REPLICAS):
        for step in (1000, 2000):
            for seed in (1, 2):
                add(model, step, seed, 0.7 + 0.05 * step / 1000 + 0.02 * r, 70.0 + rng.gauss(0, 1.5))
    for seed in (1, 2):
        add("tiny-random-init", 0, seed, 0.55, 70.0 + rng.gauss(0, 1.5))
    return bodies


def noise_compute(replica: int, step: int) -> float:
    """The pre-training CPU-seconds the noise benchmark's replica ``replica`` files at ``step``."""
    return 0.3 * step * (1 + 0.1 * replica)


def seed_noise(post) -> None:
    """Define ``noise`` and post its checkpoints and results through ``post(path, body, method)``."""
    r = post("/api/v1/benchmarks/noise", NOISE, "put")
    assert r.status_code in (200, 201), r.text
    for r_index, model in enumerate(REPLICAS):
        for step in (1000, 2000):
            loss = 5.0 - step / 1000 + 0.1 * r_index
            metrics = {"mlm_loss": loss, "pretrain_cpu_seconds": noise_compute(r_index, step)}
            body = {"model": model, "step": step, "metrics": metrics, "model_options": {"size": "tiny"}}
            r = post("/api/v1/checkpoints", body, "post")
            assert r.status_code in (200, 201), r.text
    for body in noise_bodies():
        r = post("/api/v1/results", body, "post")
        assert r.status_code in (200, 201), r.text


def rest_poster(session, base_url: str = ""):
    """``post(path, body, method)`` over a requests session or a FastAPI TestClient, with the token."""

    def post(path, body, method):
        return getattr(session, method)(f"{base_url}{path}", json=body, headers=auth())

    return post


CHROMIUM, DRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"


def chromium():
    """A headless Chromium driven by Selenium, with browser and network logs (a generator: yields the driver)."""
    if not (Path(CHROMIUM).is_file() and Path(DRIVER).is_file()):
        pytest.fail(
            "chromium/chromedriver missing: apt-get install chromium chromium-driver (or source .ci/services.sh)"
        )
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        pytest.fail("selenium missing: pip install -e '.[test]'")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--window-size=1300,1900",
        "--disable-background-networking",
        "--disable-component-update",
        "--no-first-run",
    ):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    yield driver
    driver.quit()


def open_page(browser, url):
    """Load ``url`` and wait until the page's script marks it ready (``document.body.dataset.ready``)."""
    browser.get(url)
    deadline = time.monotonic() + 60
    while browser.execute_script("return document.body && document.body.dataset.ready") != "1":
        assert time.monotonic() < deadline, "the dashboard did not finish loading"
        time.sleep(0.1)


def requested_urls(browser) -> list[str]:
    """The URLs the browser requested since the last call (the performance log)."""
    import json

    urls = []
    for entry in browser.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            urls.append(message["params"]["request"]["url"])
    return urls
