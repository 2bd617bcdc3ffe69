"""Load test on loopback: p50/p99 latency and throughput of ``POST /predict`` against concurrency.

``concurrency`` clients each send their next request as soon as the previous one is answered
(closed loop), each over its own keep-alive connection (a minimal HTTP/1.1 writer, so that the load
generator takes little of the CPU it shares with the server). Servers to test: ``ServerThread`` (an app in this
process) or ``ServerProcess`` (``python -m claf serve`` in a subprocess).
"""

import asyncio
import contextlib
import itertools
import os
import socket
import subprocess
import sys
import threading
import time

import numpy as np


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_healthy(url, timeout=180.0, process=None):
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"the server exited with status {process.returncode} before answering {url}/health")
        try:
            if httpx.get(url + "/health", timeout=2.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise TimeoutError(f"{url}/health did not answer within {timeout:.0f} s")


@contextlib.contextmanager
def server_thread(app):
    """Run a FastAPI app with uvicorn on a free loopback port in a thread; yields its base URL."""
    import uvicorn

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, timeout=60)
        yield url
    finally:
        server.should_exit = True
        thread.join(timeout=30)


@contextlib.contextmanager
def server_process(
    checkpoint, backend="torch", max_batch=16, max_wait_ms=None, threads=None, env=None, model_batch=None, workers=1
):
    """``python -m claf serve`` in a subprocess on a free port; yields its base URL, then stops it."""
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "claf",
        "serve",
        str(checkpoint),
        "--backend",
        backend,
        "--port",
        str(port),
        "--max_batch",
        str(max_batch),
    ]
    if max_wait_ms is not None:
        command += ["--max_wait_ms", str(max_wait_ms)]
    if threads:
        command += ["--threads", str(threads)]
    if model_batch:
        command += ["--model_batch", str(model_batch)]
    if workers > 1:
        command += ["--workers", str(workers)]
    process = subprocess.Popen(
        command, env={**os.environ, **(env or {})}, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    url = f"http://127.0.0.1:{port}"
    try:
        try:
            wait_healthy(url, process=process)
        except Exception:
            process.kill()
            raise RuntimeError(f"server did not start: {process.communicate()[1][-2000:]}") from None
        yield url
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


class _Connection:
    """One keep-alive HTTP/1.1 connection that POSTs ready-made JSON bodies: a load generator that costs
    the shared CPU little (an httpx client spent about a fifth of a core at 120 requests/s)."""

    def __init__(self, url, timeout):
        from urllib.parse import urlsplit

        parts = urlsplit(url)
        self.host, self.port, self.timeout = parts.hostname, parts.port or 80, timeout
        self.reader = self.writer = None

    async def post(self, path, body: bytes) -> int:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        head = (
            f"POST {path} HTTP/1.1\r\nHost: {self.host}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        ).encode()
        self.writer.write(head + body)
        await self.writer.drain()
        raw = await asyncio.wait_for(self.reader.readuntil(b"\r\n\r\n"), self.timeout)
        lines = raw.decode("latin-1").split("\r\n")
        headers = dict(line.lower().split(": ", 1) for line in lines[1:] if ": " in line)
        await self.reader.readexactly(int(headers.get("content-length", 0)))
        if headers.get("connection") == "close":
            await self.close()
        return int(lines[0].split()[1])

    async def close(self):
        if self.writer is not None:
            self.writer.close()
            self.reader = self.writer = None


async def _level(url, records, concurrency, total, timeout):
    import json

    import httpx

    latencies, errors = [], []
    counter = itertools.count()
    bodies = [json.dumps(r).encode() for r in records]
    async with httpx.AsyncClient(base_url=url, timeout=timeout) as client:
        before = await _batching(client)

        async def client_loop():
            connection = _Connection(url, timeout)
            try:
                while (i := next(counter)) < total:
                    start = time.perf_counter()
                    status = await connection.post("/predict", bodies[i % len(bodies)])
                    latencies.append((time.perf_counter() - start) * 1000)
                    if status != 200:
                        errors.append(status)
            finally:
                await connection.close()

        start, cpu = time.perf_counter(), time.process_time()
        await asyncio.gather(*(client_loop() for _ in range(concurrency)))
        wall, cpu = time.perf_counter() - start, time.process_time() - cpu
        after = await _batching(client)
    t = np.asarray(latencies)
    where = {}
    if before and after and before.get("process") == after.get("process"):  # one worker's view
        batches = after["batches"] - before["batches"]
        where = {
            "mean_batch": (after["requests"] - before["requests"]) / batches if batches else 0.0,
            "model_busy": (after["model_seconds"] - before["model_seconds"]) / wall,
            "gather_share": (after["gather_seconds"] - before["gather_seconds"]) / wall,
        }
    return {
        "concurrency": concurrency,
        "requests": total,
        "errors": len(errors),
        "seconds": wall,
        "p50_ms": float(np.percentile(t, 50)),
        "p99_ms": float(np.percentile(t, 99)),
        "avg_ms": float(t.mean()),
        "throughput": total / wall,
        "client_cpu_share": cpu / wall,  # the load generator's own CPU (it shares the machine)
        **where,
    }


async def _batching(client):
    """The server's batching counters (``/metadata``), with the answering process id; None if absent."""
    try:
        meta = (await client.get("/metadata")).json()
        return {**meta["batching"], "process": meta.get("process")}
    except Exception:
        return None


def load_test(url, records, concurrencies=(1, 4, 16, 64), requests=200, warmup=20, timeout=120.0) -> list[dict]:
    """One row per concurrency level: p50/p99 latency (ms) and throughput (requests/s)."""
    if not records:
        raise ValueError("the load test needs at least one input record")
    import logging

    logging.getLogger("httpx").setLevel(logging.WARNING)  # a log line per request would load the client
    asyncio.run(_level(url, records, 4, warmup, timeout))
    return [asyncio.run(_level(url, records, c, max(requests, 4 * c), timeout)) for c in concurrencies]


def format_load(rows) -> str:
    lines = [
        f"{'concurrency':>11}{'requests':>10}{'errors':>8}{'p50 ms':>9}{'p99 ms':>9}{'req/s':>9}"
        f"{'batch':>7}{'model busy':>12}{'client cpu':>12}"
    ]
    lines += [
        f"{r['concurrency']:>11}{r['requests']:>10}{r['errors']:>8}{r['p50_ms']:>9.1f}{r['p99_ms']:>9.1f}"
        f"{r['throughput']:>9.1f}{r.get('mean_batch', float('nan')):>7.1f}{r.get('model_busy', float('nan')):>12.0%}"
        f"{r['client_cpu_share']:>12.0%}"
        for r in rows
    ]
    return "\n".join(lines)
