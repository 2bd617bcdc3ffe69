"""A Ray cluster of separate node processes on 127.0.0.1 and a chaos loop that kills worker nodes.

Each node is a raylet (with its own resources) started by ``ray.cluster_utils.Cluster``; the head holds no CPU,
so every task runs on a worker node. The chaos loop waits a random time, picks the node whose running job is
past its first checkpoint (when one shows up soon enough, else a random worker node whose job was not hit
before), SIGKILLs its raylet and every process under it (the Ray workers and their job subprocesses), then
starts a fresh node in its place. No job is hit twice, so none runs out of attempts.
"""

import random
import re
import shutil
import time
from pathlib import Path

import psutil

LOCAL = "127.0.0.1"
HEADER = re.compile(r"=== attempt (\d+) on \S+ pid (\d+) ===")
FAST_HEALTH_CHECKS = {  # a killed raylet is declared dead in seconds, not the default half minute
    "health_check_initial_delay_ms": 0,
    "health_check_period_ms": 1000,
    "health_check_timeout_ms": 1000,
    "health_check_failure_threshold": 3,
}


def start_cluster(workers: int):
    from ray.cluster_utils import Cluster

    shutil.rmtree("/tmp/ray/ray_current_cluster", ignore_errors=True)  # a stale address from an earlier run
    cluster = Cluster(
        initialize_head=True,
        head_node_args={"num_cpus": 0, "node_ip_address": LOCAL, "_system_config": FAST_HEALTH_CHECKS},
    )
    for _ in range(workers):
        cluster.add_node(num_cpus=1, node_ip_address=LOCAL)
    cluster.wait_for_nodes()
    return cluster


def raylet_pid(node) -> int:
    from ray._private import ray_constants

    return node.all_processes[ray_constants.PROCESS_TYPE_RAYLET][0].process.pid


def node_of(pid: int, nodes) -> object | None:
    """The node whose raylet is an ancestor of process ``pid`` (a Ray worker running a task), or None."""
    try:
        ancestors = {p.pid for p in psutil.Process(pid).parents()}
    except psutil.NoSuchProcess:
        return None
    return next((n for n in nodes if raylet_pid(n) in ancestors), None)


def running_attempt(job_dir: Path) -> tuple[int, int] | None:
    """(attempt, Ray worker pid) of the job folder's latest attempt, from its ``factory.log`` headers."""
    log = job_dir / "factory.log"
    if not log.is_file():
        return None
    found = HEADER.findall(log.read_text(encoding="utf-8", errors="replace"))
    return (int(found[-1][0]), int(found[-1][1])) if found else None


def targetable(job, hit: set) -> bool:
    """Whether a node running ``job`` ((node, job folder, attempt, checkpointed), None: idle) may be killed: a
    job not hit before and on its first attempt, so that no job needs more than two."""
    return job is None or (job[1] not in hit and job[2] < 2)


def running_jobs(work_dir: Path, nodes) -> list[tuple[object, Path, int, bool]]:
    """(node, job folder, attempt, past its first checkpoint) for every job running on a live worker node (its
    latest attempt's Ray worker is under that node's raylet) with no result yet."""
    from claf.factory.job import RESULT_FILE
    from claf.learn.checkpoint import STATE_FILE

    found = []
    for log in work_dir.glob("*/*/*/factory.log"):
        job_dir = log.parent
        seen = None if (job_dir / RESULT_FILE).exists() else running_attempt(job_dir)
        node = node_of(seen[1], nodes) if seen else None
        if node is not None:
            found.append((node, job_dir, seen[0], (job_dir / "checkpoints" / "last" / STATE_FILE).is_file()))
    return found


class Chaos:
    """Kill ``kills`` worker nodes at random times, starting a fresh node after each kill. ``run`` runs in the
    main thread (Ray starts a node's processes with signal handlers, which only the main thread may set)."""

    def __init__(self, cluster, work_dir: Path, kills: int = 3, seed: int = 0, wait_s: float = 60.0, claimed=None):
        self.cluster, self.work_dir, self.kills, self.wait_s = cluster, work_dir, kills, wait_s
        # claimed(): the keys of the jobs the store lists as running. The driver claims a job before Ray
        # starts it on a node, so a node can look idle while a claimed job is on its way there.
        self.claimed = claimed
        self.rng = random.Random(seed)
        self.log: list[dict] = []  # one entry per kill: when, which job (None: an idle node), past a checkpoint

    def workers(self):
        return list(self.cluster.worker_nodes)

    def run(self, busy) -> None:
        """Kill nodes while ``busy()`` (the driver still runs) until ``kills`` are done."""
        while len(self.log) < self.kills and busy():
            pause = time.monotonic() + self.rng.uniform(0.5, 3.0)
            while time.monotonic() < pause and busy():
                time.sleep(0.05)
            target, deadline = None, time.monotonic() + self.wait_s
            hit = {k["job_dir"] for k in self.log}  # each job is hit once: its attempts stay within max_attempts
            # A kill of a node that looked idle may have hit a job too young to show in its log: such a job is on
            # its second attempt now, so no job past its first attempt is a target either.
            while target is None and time.monotonic() < deadline and busy():
                running = [r for r in running_jobs(self.work_dir, self.workers()) if targetable(r, hit)]
                target = next((r for r in running if r[3]), None)
                if target is None:
                    time.sleep(0.05)
            if not busy():
                return
            if target is None:  # none got past a checkpoint in time: a node whose job (if any) was not hit yet
                seen = running_jobs(self.work_dir, self.workers())
                busy_nodes = {id(r[0]): r for r in seen}
                spare = [n for n in self.workers() if targetable(busy_nodes.get(id(n)), hit)]
                if self.unseen(seen):  # an idle-looking node may be about to start a claimed job
                    spare = [n for n in spare if id(n) in busy_nodes]
                if not spare:  # every node runs a job hit before (or may): killing one could cost a third attempt
                    continue
                node = self.rng.choice(spare)
                job = busy_nodes.get(id(node))
                target = (node, job[1], job[2], False) if job else (node, None, None, False)
            self.kill(*target)

    def unseen(self, seen) -> bool:
        """Whether a job the store lists as running shows on no live node yet (its Ray task not started)."""
        if self.claimed is None:
            return False
        shown = [r[1].name for r in seen]  # <task>-seed<seed>-<key[:12]>[-oom<k>]
        return any(not any(f"-{key[:12]}" in name for name in shown) for key in self.claimed())

    def kill(self, node, job_dir, attempt, checkpointed):
        began, at = time.monotonic(), time.time()
        under = psutil.Process(raylet_pid(node)).children(recursive=True)
        self.cluster.remove_node(node, allow_graceful=False)  # SIGKILL: the raylet and the node's own daemons
        for p in under:  # its Ray workers and their job processes, as when the machine is gone
            try:
                p.kill()
            except psutil.NoSuchProcess:
                pass
        self.cluster.add_node(num_cpus=1, node_ip_address=LOCAL)
        self.cluster.wait_for_nodes()
        self.log.append(
            {
                "job_dir": job_dir,
                "attempt": attempt,
                "checkpointed": checkpointed,
                "at": at,
                "killed": len(under),
                "replaced_s": time.monotonic() - began,
            }
        )
