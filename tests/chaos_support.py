"""Database faults for the tests: a throwaway PostgreSQL cluster (its own folder and port, never the
shared one) whose postmaster can be killed, and a load of result posts and job claims through a real server."""

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest
import requests

from tests.bench_support import TOKEN, auth, free_port, result_body


def _pg_bin() -> Path:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parent.parent.name))
    if not found:
        pytest.fail("no PostgreSQL server binaries under /usr/lib/postgresql (run 'source .ci/services.sh')")
    return found[-1].parent


class ThrowawayPostgres:
    """``initdb`` + ``pg_ctl`` in a temporary folder on a free port (as the postgres user when root)."""

    def __init__(self):
        self.bin, self.port = _pg_bin(), free_port()
        self.root = Path(tempfile.mkdtemp(prefix="claf-chaos-pg-"))
        self.data, self.log = self.root / "data", self.root / "postgres.log"
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/claf_chaos"

    def _run(self, *cmd, check=True, timeout=120):
        if os.geteuid() == 0:  # initdb refuses root
            cmd = ("runuser", "-u", "postgres", "--", *cmd)
        return subprocess.run(cmd, check=check, timeout=timeout, capture_output=True, text=True)

    def start_fresh(self):
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres")
        self._run(str(self.bin / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync")
        self.start()
        self._run(str(self.bin / "createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "claf_chaos")
        return self

    def start(self, timeout: float = 60.0):
        """The postmaster under a reaper of ours: it reaps the postmaster and its orphaned backends when the
        postmaster is killed (this machine's PID 1 may not), so no zombie holds the data folder's lock."""
        options = ["-p", str(self.port), "-k", str(self.root), "-c", "listen_addresses=127.0.0.1"]
        command = [str(self.bin / "postgres"), "-D", str(self.data), *options]
        self.reaper = subprocess.Popen(
            [sys.executable, "-c", REAPER, *command], stdout=open(self.log, "ab"), stderr=subprocess.STDOUT
        )
        ready = [str(self.bin / "pg_isready"), "-q", "-h", "127.0.0.1", "-p", str(self.port)]
        deadline = time.monotonic() + timeout
        while subprocess.run(ready).returncode != 0:
            assert self.reaper.poll() is None, self.log.read_text()[-2000:]
            assert time.monotonic() < deadline, self.log.read_text()[-2000:]
            time.sleep(0.1)

    def postmaster_pid(self) -> int:
        return int((self.data / "postmaster.pid").read_text().split()[0])

    def kill9(self, timeout: float = 20.0) -> int:
        """SIGKILL the postmaster; its backends see it gone and exit. Returns how many had to be killed too."""
        os.kill(self.postmaster_pid(), signal.SIGKILL)
        try:
            self.reaper.wait(timeout)
            return 0
        except subprocess.TimeoutExpired:  # a backend that has not noticed (none, usually)
            left = subprocess.run(["pgrep", "-P", str(self.reaper.pid)], capture_output=True, text=True).stdout.split()
            for pid in left:
                os.kill(int(pid), signal.SIGKILL)
            self.reaper.wait(timeout)
            return len(left)

    def stop(self):
        if getattr(self, "reaper", None) is not None and self.reaper.poll() is None:
            try:
                os.kill(self.postmaster_pid(), signal.SIGQUIT)  # immediate shutdown
                self.reaper.wait(30)
            except (OSError, ValueError, subprocess.TimeoutExpired):
                self.reaper.kill()
                self.reaper.wait()
        shutil.rmtree(self.root, ignore_errors=True)


# argv[1:]: the postgres command. Fork it as the postgres user; become the subreaper of its processes
# and reap every one until none is left (PR_SET_CHILD_SUBREAPER = 36).
REAPER = """
import ctypes, os, pwd, sys
ctypes.CDLL("libc.so.6").prctl(36, 1, 0, 0, 0)
child = os.fork()
if child == 0:
    if os.geteuid() == 0:
        user = pwd.getpwnam("postgres")
        os.setgid(user.pw_gid)
        os.setuid(user.pw_uid)
    os.execv(sys.argv[1], sys.argv[1:])
while True:
    try:
        os.wait()
    except ChildProcessError:
        break
"""


def job_specs(count: int) -> list[dict]:
    return [
        {
            "recipe": "chaos",
            "benchmark": "demo",
            "task": "acc",
            "seed": 10_000 + i,
            "config_hash": "chaos",
            "checkpoint": "jobs-1000",  # the name a result of model jobs at step 1000 resolves to
            "checkpoint_sha256": "c" * 64,
            "model": "jobs",
            "step": 1000,
            "spec": {},
        }
        for i in range(count)
    ]


class Load:
    """Result posters and pull-worker-like claimers against ``url``, plus a probe of the server's reads.

    ``acked``: result id -> (model, step, seed, score) for every post the server acknowledged;
    ``claims``: (worker, job id, attempts) for every claim answered; ``probes``: (time, status or
    None for no answer, Retry-After); ``bad``: any 5xx other than 503, or an error a client gave up on.
    """

    def __init__(self, url: str, posters: int = 2, claimers: int = 2, job_s: float = 0.2):
        self.url, self.job_s = url, job_s
        self.stop, self.lock = threading.Event(), threading.Lock()
        self.acked, self.claims, self.finished, self.probes, self.bad = {}, [], [], [], []
        self.retries = 0
        self.threads = [threading.Thread(target=self._post, args=(i,), daemon=True) for i in range(posters)]
        self.threads += [threading.Thread(target=self._work, args=(f"w{i}",), daemon=True) for i in range(claimers)]
        self.threads.append(threading.Thread(target=self._probe, daemon=True))

    def start(self):
        for t in self.threads:
            t.start()
        return self

    def join(self, timeout: float = 300.0):
        self.stop.set()
        for t in self.threads:
            t.join(timeout)
        assert not [t for t in self.threads if t.is_alive()], "a load thread is stuck"

    def _guard(self, work):
        try:
            work()
        except Exception as e:  # the test fails on it
            with self.lock:
                self.bad.append(f"{type(e).__name__}: {e}")

    def _post(self, index: int):
        from claf.results.client import BenchClient

        client = BenchClient(self.url, TOKEN, timeout=10, retry_s=120)

        def work():
            seed = index * 100_000
            while not self.stop.is_set():
                body = result_body("poster", "acc", 1000, seed, float(seed % 97))
                status, data = client.post_result(body)
                if 200 <= status < 300:
                    with self.lock:
                        self.acked[data["id"]] = ("poster", 1000, seed, float(seed % 97))
                else:
                    with self.lock:
                        self.bad.append(f"post: HTTP {status}: {data}")
                seed += 1
                time.sleep(0.02)

        self._guard(work)
        with self.lock:
            self.retries += client.retries

    def _work(self, name: str):
        from claf.factory.job_store import RestStore

        store = RestStore(self.url, TOKEN, timeout=10, retry_s=120)

        def work():
            while True:
                job = store.claim(name, 60, "chaos", single=True)
                if job is None:
                    return
                with self.lock:
                    self.claims.append((name, job["id"], job["attempts"]))
                time.sleep(self.job_s)  # the job "runs"
                store.heartbeat(job["id"], name, 60)
                result = result_body("jobs", "acc", 1000, job["seed"], float(job["seed"] % 89))
                ended = store.finish(job["id"], name, {"ok": True, "result": result, "wall_time": self.job_s})
                with self.lock:
                    self.finished.append((name, job["id"], ended["state"]))

        self._guard(work)
        with self.lock:
            self.retries += store.client.retries

    def _probe(self):
        session = requests.Session()
        while not self.stop.is_set():
            try:
                r = session.get(f"{self.url}/api/v1/jobs", params={"recipe": "chaos"}, headers=auth(), timeout=5)
                status, after = r.status_code, r.headers.get("retry-after")
                if status >= 500 and status != 503:
                    with self.lock:
                        self.bad.append(f"probe: HTTP {status}: {r.text[:300]}")
            except requests.RequestException:
                status, after = None, None
            with self.lock:
                self.probes.append((time.monotonic(), status, after))
            time.sleep(0.05)

    def first_ok_after(self, moment: float) -> float | None:
        return next((t for t, status, _ in self.probes if t > moment and status == 200), None)
