"""Run claimed jobs: a job subprocess per job, heartbeats while it runs, the outcome back to the store.

    outcome = run_job_process(job, work_dir, threads, tick)   # the job in ``python -m claf.factory.job``
    Worker(store, "host-1", work_dir).loop(until_empty=True)  # claim -> run -> finish, until no job is left

A job's folder is ``<work_dir>/<recipe>/<checkpoint>/<task>-seed<seed>-<key[:12]>`` (``-oom<k>`` after an
out-of-memory retry), so a job taken again on the same machine resumes from its last checkpoint.
"""

import json
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

from claf.atomic import atomic_write_text
from claf.factory.job import EXIT_OOM, EXIT_PREEMPTED, RESULT_FILE
from claf.queue.jobs import LeaseLost

logger = logging.getLogger(__name__)
TAIL = 4000


def default_work_dir() -> Path:
    from claf.paths import user_dir

    return user_dir() / "factory"


def job_dir(job: dict, work_dir) -> Path:
    name = f"{job['task']}-seed{job['seed']}-{job['key'][:12]}"
    if job.get("oom_retries"):
        name += f"-oom{job['oom_retries']}"
    return Path(work_dir) / job["recipe"] / job["checkpoint"] / name


def _die_with_parent():  # runs in the child before exec: SIGKILL it when the worker dies (Linux)
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except Exception:
        pass


def tail(path: Path, size: int = TAIL) -> str:
    try:
        with open(path, "rb") as f:
            f.seek(max(0, f.seek(0, 2) - size))
            return f.read().decode("utf-8", "replace")
    except OSError:
        return ""


def job_env(threads: int | None = None, extra: dict[str, str] | None = None, environ=None) -> dict[str, str]:
    """A job process's environment: this one's, without the server URL (the worker posts the result), with
    the thread count and ``extra`` (e.g. the worker's ``CUDA_VISIBLE_DEVICES``)."""
    env = dict(os.environ if environ is None else environ)
    env.pop("CLAF_SERVER_URL", None)
    if threads:
        env.update(OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads))
    env.update(extra or {})
    return env


def run_job_process(
    job: dict,
    work_dir,
    threads: int | None = None,
    tick=None,
    tick_every: float = 10.0,
    stop: threading.Event | None = None,
    grace_s: float = 30.0,
    env: dict[str, str] | None = None,
) -> dict:
    """Run one job in a subprocess -> outcome {ok, result, error, log_tail, oom, preempted, wall_time}.

    ``tick()`` is called every ``tick_every`` seconds while the job runs (heartbeats); when it returns
    False the lease is lost: the job process is killed and the outcome says so. When ``stop`` is set
    the job process gets SIGTERM (it saves a checkpoint at its next step and exits) and is killed if
    it has not exited ``grace_s`` seconds later; the outcome then says ``preempted``. ``env`` is added to the
    job process's environment (the worker's GPU: ``claf.factory.executors.worker_env``).
    """
    log_dir = job_dir(job, work_dir)
    log_dir.mkdir(parents=True, exist_ok=True)
    job_file = log_dir / "factory_job.json"
    atomic_write_text(job_file, json.dumps(dict(job, log_dir=str(log_dir), threads=threads), ensure_ascii=False))
    env = job_env(threads, env)
    log_path = log_dir / "factory.log"
    started = time.time()
    with open(log_path, "ab") as log:
        log.write(f"\n=== attempt {job.get('attempts')} on {socket.gethostname()} pid {os.getpid()} ===\n".encode())
        log.flush()
        proc = subprocess.Popen(
            [sys.executable, "-m", "claf.factory.job", str(job_file)],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            preexec_fn=_die_with_parent,
        )
        lost, stopped_at = False, None
        next_tick = time.monotonic() + tick_every
        while proc.poll() is None:
            now = time.monotonic()
            if stop is not None and stop.is_set() and stopped_at is None:
                stopped_at = now
                proc.send_signal(signal.SIGTERM)
            if stopped_at is not None and now - stopped_at > grace_s:
                logger.warning("job %s did not stop within %.0fs of SIGTERM: killed", job["key"][:12], grace_s)
                proc.kill()
            elif now >= next_tick:
                next_tick = now + tick_every
                if tick is not None and not tick():
                    lost = True
                    proc.kill()
            try:
                proc.wait(timeout=0.2)
            except subprocess.TimeoutExpired:
                pass
    wall = round(time.time() - started, 3)
    text = tail(log_path)
    if lost:
        return {"ok": False, "lost": True, "error": "lease lost", "log_tail": text, "wall_time": wall}
    if proc.returncode == 0:
        result = json.loads((log_dir / RESULT_FILE).read_text(encoding="utf-8"))
        return {"ok": True, "result": result, "log_tail": text[-1000:], "wall_time": wall}
    stopping = stopped_at is not None or (stop is not None and stop.is_set())
    if stopping or proc.returncode == EXIT_PREEMPTED:  # told to stop (maybe by the same signal): not a failure
        saved = proc.returncode == EXIT_PREEMPTED
        return {
            "ok": False,
            "preempted": True,
            "saved": saved,
            "error": "preempted",
            "log_tail": text,
            "wall_time": wall,
        }
    oom = proc.returncode in (EXIT_OOM, -signal.SIGKILL)
    last = next((line for line in reversed(text.strip().splitlines()) if line.strip()), "")
    reason = ("out of memory" if oom else f"exit status {proc.returncode}") + (f": {last[:300]}" if last else "")
    return {"ok": False, "oom": oom, "error": reason, "log_tail": text, "wall_time": wall}


class Worker:
    """Claims jobs from a store and runs them one at a time.

    ``stop`` (set by ``handle_signals()`` on SIGTERM or SIGINT) ends the loop: a running job saves a
    checkpoint at its next step (``grace_s`` at most), its lease is released at once without counting
    the attempt, and the next worker to claim the job resumes it from that checkpoint.
    """

    def __init__(
        self,
        store,
        name: str | None = None,
        work_dir=None,
        lease_s: float = 120.0,
        heartbeat_s: float = 10.0,
        threads: int | None = None,
        recipe: str | None = None,
        grace_s: float = 30.0,
        env: dict[str, str] | None = None,
    ):
        self.store, self.lease_s, self.heartbeat_s, self.threads = store, lease_s, heartbeat_s, threads
        self.env = dict(env or {})  # added to each job process's environment (its GPU)
        self.name = name or f"{socket.gethostname()}-{os.getpid()}"
        self.work_dir = Path(work_dir) if work_dir else default_work_dir()
        self.recipe, self.grace_s = recipe, grace_s
        self.stop = threading.Event()
        self.done = self.failed = self.preempted = 0

    def handle_signals(self, signals=(signal.SIGTERM, signal.SIGINT)) -> None:
        """SIGTERM/SIGINT: stop after checkpointing the running job (main thread only)."""

        def on_signal(signum, _frame):
            logger.warning("%s: %s: stopping (grace %.0fs)", self.name, signal.Signals(signum).name, self.grace_s)
            self.stop.set()

        for sig in signals:
            signal.signal(sig, on_signal)

    def release(self, job: dict, why: str) -> None:
        try:
            self.store.release(job["id"], self.name)
            logger.warning("%s: %s; released job %s for another worker", self.name, why, job["id"])
        except Exception as e:  # the lease then expires as after a crash
            logger.warning("%s: %s; could not release job %s (%s): its lease expires", self.name, why, job["id"], e)

    def run_one(self) -> bool:
        """Claim and run one job -> False when no job was available."""
        job = self.store.claim(self.name, self.lease_s, self.recipe, single=True)
        if job is None:
            return False
        if self.stop.is_set():  # the signal came during the claim
            self.release(job, "stopping")
            return True
        logger.info(
            "%s: %s on %s (seed %s), attempt %d",
            self.name,
            job["task"],
            job["checkpoint"],
            job["seed"],
            job["attempts"],
        )

        def tick() -> bool:
            try:
                return self.store.heartbeat(job["id"], self.name, self.lease_s)
            except Exception as e:  # a missed heartbeat is not fatal: the lease has slack
                logger.warning("%s: heartbeat failed: %s", self.name, e)
                return True

        outcome = run_job_process(
            job, self.work_dir, self.threads, tick, self.heartbeat_s, self.stop, self.grace_s, env=self.env
        )
        if outcome.get("lost"):
            logger.warning("%s: lost the lease of job %s; another worker has it", self.name, job["id"])
            return True
        if outcome.get("preempted"):
            self.preempted += 1
            self.release(job, "preempted" + (" after saving a checkpoint" if outcome.get("saved") else ""))
            return True
        try:
            ended = self.store.finish(job["id"], self.name, outcome)
        except LeaseLost as e:
            logger.warning("%s: %s", self.name, e)
            return True
        if ended["state"] == "done":
            self.done += 1
        elif ended["state"] == "failed":
            self.failed += 1
        logger.info(
            "%s: %s on %s -> %s%s (%.1fs)",
            self.name,
            job["task"],
            job["checkpoint"],
            ended["state"],
            f" {ended['score']:.2f}"
            if ended.get("score") is not None
            else f" ({outcome.get('error')})"
            if not outcome.get("ok")
            else "",
            outcome["wall_time"],
        )
        return True

    def loop(self, until_empty: bool = True, poll_s: float = 10.0, stop: threading.Event | None = None) -> None:
        stop = stop or self.stop
        self.stop = stop
        while not stop.is_set():
            if not self.run_one():
                if until_empty:
                    return
                stop.wait(poll_s)
