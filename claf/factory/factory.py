"""The factory's verbs as library calls: queue a recipe's jobs, run them, watch the index, show the matrix.

recipe = load_recipe("factory/larva_kor_tiny_klue")
store = open_store_for(recipe)                # the benchmark database, or a server's API
queue(recipe, store)                          # checkpoints x tasks x seeds -> new jobs only
run(recipe, store)                            # executor until no job is left; notifications sent
watch(recipe, store, interval=60)             # also poll the model index for new checkpoints
print(status_text(store.jobs(name)))          # the checkpoint x task matrix
"""

import logging
import statistics
import threading
import time

from claf.factory.job_store import DbStore, open_jobs_store
from claf.factory.recipe import RANDOM, Checkpoint, discover, expand, load_recipe, recipe_name
from claf.notify import slack

logger = logging.getLogger(__name__)


def open_store_for(recipe, server: str | None = None, db: str | None = None):
    return open_jobs_store(server or recipe.benchmark.get("server"), db or recipe.benchmark.get("db"))


def queue(recipe, store, name: str | None = None, checkpoints: list[Checkpoint] | None = None) -> dict[str, int]:
    """Enqueue every job of the recipe's checkpoints -> {checkpoint name: jobs added}. For a checkpoint that
    got new jobs a 'published' notification is queued (once per checkpoint and recipe)."""
    name = name or recipe_name(recipe)
    checkpoints = discover(recipe) if checkpoints is None else checkpoints
    added: dict[str, int] = {}
    for ck in checkpoints:
        specs = expand(recipe, [ck], name)
        added[ck.name] = store.enqueue(specs) if specs else 0
        channel = (specs[0]["spec"].get("notify") or {}).get("channel") if specs else None
        if added[ck.name] and channel and not ck.source.startswith(RANDOM):
            store.notice(
                f"published:{name}:{ck.sha256}",
                channel,
                slack.published_message(ck.name, ck.step, ck.size, ck.url or ck.source, added[ck.name], name),
            )
        if added[ck.name]:
            logger.info("queued %d jobs for %s", added[ck.name], ck.name)
    return added


def _executor(recipe, store, name: str) -> dict:
    from claf.factory.executors import run_local, run_ray

    ex = recipe.executor
    common = dict(work_dir=ex.get("work_dir"), lease_s=float(ex.lease_seconds), heartbeat_s=float(ex.heartbeat_seconds))
    if ex.name == "ray":
        ray = ex.ray
        return run_ray(
            store,
            name,
            ray.get("address"),
            ray.get("num_cpus", 1),
            ray.get("num_gpus", 0),
            node_ip=ray.get("node_ip"),
            **common,
        )
    return run_local(store, name, ex.get("workers"), threads=ex.get("threads"), **common)


class _Notifications:
    """Deliver the outbox in the background while jobs run (embedded database only; a server's outbox
    is delivered by ``python -m claf factory notify --db ...`` next to it)."""

    def __init__(self, store):
        self.notifier = slack.Notifier(store.sessions) if isinstance(store, DbStore) else None
        self.stop = threading.Event()

    def __enter__(self):
        if self.notifier is not None:
            self.notifier.run_in_background(self.stop)
        return self

    def __exit__(self, *exc):
        self.stop.set()
        if self.notifier is not None:  # a bounded last flush: Slack never holds the factory up
            self.notifier.deliver(deadline=time.time() + 15)


def run(recipe, store, name: str | None = None, enqueue: bool = True) -> dict:
    name = name or recipe_name(recipe)
    added = queue(recipe, store, name) if enqueue else {}
    with _Notifications(store):
        counts = _executor(recipe, store, name)
    return dict(counts, queued=sum(added.values()))


def watch(recipe, store, name: str | None = None, interval: float | None = None, max_polls: int | None = None) -> dict:
    """Poll the model index; queue and run each new checkpoint's jobs. Stops after ``max_polls`` polls."""
    name = name or recipe_name(recipe)
    interval = float(interval or recipe.executor.poll_seconds)
    totals = {"done": 0, "failed": 0, "queued": 0}
    polls = 0
    with _Notifications(store):
        while max_polls is None or polls < max_polls:
            polls += 1
            try:
                totals["queued"] += sum(queue(recipe, store, name).values())
            except Exception as e:  # an unreachable index (S3 down) is retried at the next poll
                logger.warning("watch: cannot read the model index: %s: %s", type(e).__name__, e)
            counts = _executor(recipe, store, name)
            for k in ("done", "failed"):
                totals[k] += counts[k]
            if max_polls is None or polls < max_polls:
                time.sleep(interval)
    return totals


def publish_hook(factory: str, server: str | None = None, db: str | None = None):
    """A pre-training ``on_publish(entry)`` callback: queue the new checkpoint's jobs of ``factory`` (a
    factory recipe name or path). It never raises: pre-training goes on whatever happens here."""

    def on_publish(entry: dict) -> None:
        try:
            from claf.factory.recipe import _from_entry

            recipe = load_recipe(factory)
            store = open_store_for(recipe, server, db)
            ck = _from_entry(entry["name"], entry)
            checkpoints = [ck]
            from claf.factory.recipe import init_seeds, random_baselines

            checkpoints += random_baselines(ck, init_seeds(recipe.checkpoints.get("random_init")))
            added = queue(recipe, store, None, checkpoints)
            if isinstance(store, DbStore):
                slack.Notifier(store.sessions).deliver(deadline=time.time() + 5)
            logger.info("factory %s: queued %d jobs for %s", factory, added.get(ck.name, 0), ck.name)
        except Exception as e:
            logger.warning("factory %s: could not queue %s: %s: %s", factory, entry.get("name"), type(e).__name__, e)

    return on_publish


def seed_cell(scores: list[float]) -> str:
    """One cell over seeds: the median, and with several seeds its range and n (``78.10 [77.5-78.6] n=3``)."""
    median = statistics.median(scores)
    if len(scores) == 1:
        return f"{median:.2f}"
    return f"{median:.2f} [{min(scores):.1f}-{max(scores):.1f}] n={len(scores)}"


def status_rows(jobs: list[dict]) -> tuple[list[str], list[tuple[str, dict]]]:
    """(tasks in cost order, [(checkpoint, {task: cell text})] newest first)."""
    tasks = sorted({j["task"] for j in jobs}, key=lambda t: min(j["cost"] for j in jobs if j["task"] == t))
    order: dict[str, int] = {}
    cells: dict = {}
    for j in jobs:
        order[j["checkpoint"]] = j["step"]
        cells.setdefault(j["checkpoint"], {}).setdefault(j["task"], []).append(j)
    rows = []
    for ck in sorted(order, key=lambda c: (-order[c], c)):
        row = {}
        for t in tasks:
            group = cells[ck].get(t, [])
            states = [j["state"] for j in group]
            scores = [j["score"] for j in group if j["state"] == "done" and j["score"] is not None]
            if scores and len(scores) == len(group):
                row[t] = seed_cell(scores)
            elif "failed" in states and not any(s in ("queued", "running") for s in states):
                row[t] = "failed"
            elif "running" in states:
                row[t] = f"running {states.count('done')}/{len(group)}"
            elif group:
                row[t] = f"queued {states.count('done')}/{len(group)}" if scores else "queued"
            else:
                row[t] = "-"
        rows.append((ck, row))
    return tasks, rows


def status_text(jobs: list[dict]) -> str:
    if not jobs:
        return "no jobs"
    tasks, rows = status_rows(jobs)
    seconds: dict[str, float] = {}
    for j in jobs:  # the cost of a checkpoint: the wall time of its finished jobs
        if j["state"] == "done" and j.get("wall_time"):
            seconds[j["checkpoint"]] = seconds.get(j["checkpoint"], 0.0) + float(j["wall_time"])
    head = ["checkpoint"] + tasks + ["job seconds"]
    table = [head] + [
        [ck] + [row[t] for t in tasks] + [f"{seconds[ck]:.0f}" if ck in seconds else "-"] for ck, row in rows
    ]
    widths = [max(len(r[i]) for r in table) for i in range(len(head))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)) for r in table]
    counts = {s: sum(j["state"] == s for j in jobs) for s in ("queued", "running", "done", "failed")}
    lines.append(", ".join(f"{v} {k}" for k, v in counts.items()))
    for j in jobs:
        if j["state"] == "failed":
            lines.append(f"failed: {j['task']} on {j['checkpoint']} seed {j['seed']}: {j['error'][:200]}")
    return "\n".join(lines)
