"""Executors: how claimed jobs get CPUs.

    local   N worker threads in this process, each running one job subprocess at a time; the machine's
            cores are split between them (``executor.workers``; on CPU the default is 1 worker, on a GPU
            machine one per GPU). Worker i's jobs see one GPU, ``CUDA_VISIBLE_DEVICES`` round-robin over the
            visible ones (``worker_env``), so two workers never share ``cuda:0`` by accident
    ray     each job is a Ray core task with ``num_cpus``/``num_gpus``; ``ray.init()`` locally or
            ``executor.ray.address`` (``ray://head:10001``, ``auto`` or the head's ``host:port``) for a
            cluster; ``executor.ray.node_ip`` is this process's address as the cluster sees it, where the host
            has several interfaces and Ray would pick one the nodes cannot reach. This process claims,
            heartbeats and finishes the jobs; the task runs the job subprocess on whichever node Ray picks.
            A task lost with its node (a killed raylet, a preempted VM) counts as a failed attempt: the job is
            queued again and its next attempt resumes from the job folder's last checkpoint when ``work_dir``
            is shared by the nodes.

Both return when the recipe has no job left that could still run (queued, or running under a lease).
"""

import logging
import os
import threading
import time

from claf.factory.worker import Worker, run_job_process
from claf.queue.jobs import LeaseLost

logger = logging.getLogger(__name__)


def visible_devices(environ=None) -> list[str]:
    """The GPUs this process may hand out: the ids in ``CUDA_VISIBLE_DEVICES`` when it is set (up to the first
    invalid entry, where CUDA stops reading it), else ``0 .. n-1`` for the n GPUs torch sees; none on a CPU."""
    environ = os.environ if environ is None else environ
    given = environ.get("CUDA_VISIBLE_DEVICES")
    if given is not None:
        ids = []
        for item in given.split(","):
            item = item.strip()
            if not item or item.startswith("-"):
                break
            ids.append(item)
        return ids
    try:
        import torch

        return [str(i) for i in range(torch.cuda.device_count())] if torch.cuda.is_available() else []
    except ImportError:
        return []


def worker_env(index: int, devices: list[str]) -> dict[str, str]:
    """What worker ``index`` adds to its job processes' environment: its own GPU, round-robin over ``devices``,
    so each job sees one device as ``cuda:0``; nothing on a machine without GPUs."""
    if not devices:
        return {}
    return {"CUDA_VISIBLE_DEVICES": devices[index % len(devices)]}


def default_workers() -> int:
    """One worker per GPU, else one."""
    return len(visible_devices()) or 1


def open_jobs(store, recipe: str) -> list[dict]:
    return [j for j in store.jobs(recipe) if j["state"] in ("queued", "running")]


def wait_for_leases(store, recipe: str, poll_s: float = 2.0) -> bool:
    """Some jobs are still queued/running elsewhere: wait a little -> True to try again, False when done."""
    left = open_jobs(store, recipe)
    if not left:
        return False
    now = time.time()
    soonest = min((j["lease_expires"] or now) - now for j in left)
    time.sleep(max(0.2, min(poll_s, soonest + 0.1)))
    return True


def run_local(
    store,
    recipe: str,
    workers: int | None = None,
    work_dir=None,
    lease_s: float = 120.0,
    heartbeat_s: float = 10.0,
    name: str | None = None,
    threads: int | None = None,
) -> dict:
    workers = int(workers or default_workers())
    threads = int(threads or max(1, (os.cpu_count() or 1) // workers))
    prefix = name or f"{os.uname().nodename}-{os.getpid()}"
    devices = visible_devices()
    pool = [
        Worker(store, f"{prefix}-w{i}", work_dir, lease_s, heartbeat_s, threads, recipe, env=worker_env(i, devices))
        for i in range(workers)
    ]
    logger.info(
        "local executor: %d worker(s) x %d thread(s)%s",
        workers,
        threads,
        f", GPUs {', '.join(w.env['CUDA_VISIBLE_DEVICES'] for w in pool)}" if devices else "",
    )
    while True:
        running = [threading.Thread(target=w.loop, name=w.name, daemon=True) for w in pool]
        for t in running:
            t.start()
        for t in running:
            t.join()
        if not wait_for_leases(store, recipe):
            break
    return {"done": sum(w.done for w in pool), "failed": sum(w.failed for w in pool)}


def _ray_job(job: dict, work_dir: str | None, threads: int) -> dict:
    """The body of a Ray task: run the job subprocess on this node."""
    from claf.factory.worker import default_work_dir

    return run_job_process(job, work_dir or default_work_dir(), threads)


def run_ray(
    store,
    recipe: str,
    address: str | None = None,
    num_cpus: float = 1,
    num_gpus: float = 0,
    work_dir=None,
    lease_s: float = 120.0,
    heartbeat_s: float = 10.0,
    max_in_flight: int | None = None,
    name: str | None = None,
    node_ip: str | None = None,
) -> dict:
    try:
        import ray
    except ImportError:
        from claf.errors import UserError

        raise UserError("executor.name ray needs Ray: pip install 'claf[factory]'") from None
    started_here = not ray.is_initialized()
    if started_here:
        env = {k: v for k, v in os.environ.items() if k.startswith(("CLAF_", "PYTHONPATH", "HF_", "TOKENIZERS"))}
        ray.init(
            address=address or None,
            include_dashboard=False,
            log_to_driver=False,
            runtime_env={"env_vars": env} if address else None,
            **({"_node_ip_address": node_ip} if node_ip else {}),
            **({} if address else {"num_cpus": max(1, int(os.cpu_count() or 1))}),
        )
    task = ray.remote(num_cpus=num_cpus, num_gpus=num_gpus, max_retries=0)(_ray_job)
    capacity = max_in_flight or max(1, int(ray.cluster_resources().get("CPU", 1) // max(num_cpus, 1e-9)))
    worker = name or f"ray-{os.uname().nodename}-{os.getpid()}"
    threads = max(1, int(num_cpus))
    in_flight: dict = {}  # ObjectRef -> job
    counts = {"done": 0, "failed": 0}
    logger.info("ray executor: up to %d jobs at once, %g CPU / %g GPU each", capacity, num_cpus, num_gpus)
    try:
        while True:
            while len(in_flight) < capacity:
                job = store.claim(worker, lease_s, recipe)
                if job is None:
                    break
                in_flight[task.remote(job, str(work_dir) if work_dir else None, threads)] = job
            if not in_flight:
                if wait_for_leases(store, recipe):
                    continue
                break
            ready, _ = ray.wait(list(in_flight), num_returns=1, timeout=heartbeat_s)
            for ref in ready:
                job = in_flight.pop(ref)
                try:
                    outcome = ray.get(ref)
                except Exception as e:  # the task itself died (node lost, worker crash)
                    outcome = {
                        "ok": False,
                        "error": f"ray task failed: {type(e).__name__}: {e}"[:2000],
                        "log_tail": "",
                        "wall_time": None,
                    }
                try:
                    ended = store.finish(job["id"], worker, outcome)
                    counts[ended["state"]] = counts.get(ended["state"], 0) + 1
                    logger.info("ray: %s on %s -> %s", job["task"], job["checkpoint"], ended["state"])
                except LeaseLost as e:
                    logger.warning("ray: %s", e)
            for job in in_flight.values():
                store.heartbeat(job["id"], worker, lease_s)
    finally:
        if started_here:
            ray.shutdown()
    return {"done": counts.get("done", 0), "failed": counts.get("failed", 0)}
