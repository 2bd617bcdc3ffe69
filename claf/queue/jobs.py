"""Evaluation-factory jobs in the benchmark database: a queue with leases, heartbeats and attempts.

One job = one fine-tuning of one checkpoint on one task with one seed and one config. Its key is
(checkpoint sha256, task, seed, config hash): enqueueing a key that exists changes nothing, so
running a recipe again or re-publishing a checkpoint queues nothing new.

    enqueue(sessions, [spec, ...])            -> number of new jobs
    claim(sessions, worker, lease_s)          -> the next job (newest checkpoint first, cheap tasks first) or None
    heartbeat(sessions, job_id, worker, lease_s)  extends the lease; False when the lease was lost
    release(sessions, job_id, worker)         gives a held job back at once (preemption), attempt not counted
    finish(sessions, job_id, worker, outcome) stores the result (claf.results.store) or the failure

A running job whose lease expires (its worker died) is claimed again; ``attempts`` counts claims.
An out-of-memory failure is retried once with half the batch (the runner doubles the accumulation).
Notifications (a finished suite, a job that failed for good) go to the outbox of ``claf.notify.slack``
in the same transaction as the state change, so each is queued exactly once.
"""

import fnmatch
import time

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session, sessionmaker

from claf.db.tables import Job
from claf.results.digest import sha256_of

STATES = ("queued", "running", "done", "failed")


class LeaseLost(Exception):
    """The worker no longer holds the job's lease (it expired and another worker took the job)."""


def job_key(checkpoint_sha256: str, task: str, seed: int, config_hash: str) -> str:
    return sha256_of([checkpoint_sha256, task, int(seed), config_hash])


def as_dict(job: Job) -> dict:
    return {c.name: getattr(job, c.name) for c in Job.__table__.columns}


def _write(sessions: sessionmaker, work):
    from claf.results.store import _retrying

    return _retrying(sessions, work)


FIELDS = (
    "recipe",
    "benchmark",
    "task",
    "seed",
    "config_hash",
    "checkpoint",
    "checkpoint_sha256",
    "model",
    "step",
    "cost",
    "spec",
    "max_attempts",
)


def enqueue(sessions: sessionmaker, specs: list[dict]) -> int:
    """Add the jobs whose key is new -> how many were added (existing keys are left as they are). A job
    whose benchmark task is unknown fails the whole call before anything is added (NotFound names the
    known tasks): otherwise it would train and then fail at storing its result, once per attempt."""
    from claf.results.store import find_task

    def work(session: Session) -> int:
        for benchmark, task in sorted({(spec.get("benchmark"), spec["task"]) for spec in specs}, key=str):
            find_task(session, benchmark, task)
        added = 0
        for spec in specs:
            key = job_key(spec["checkpoint_sha256"], spec["task"], spec["seed"], spec["config_hash"])
            if session.scalar(select(Job.id).where(Job.key == key)) is not None:
                continue
            session.add(Job(key=key, **{f: spec[f] for f in FIELDS if f in spec}))
            added += 1
        session.flush()
        return added

    return _write(sessions, work)


def claim(
    sessions: sessionmaker,
    worker: str,
    lease_s: float,
    recipe: str | None = None,
    single: bool = False,
    token: str | None = None,
) -> dict | None:
    """Take the next job: queued, or running with an expired lease. None when there is none.

    ``single``: the worker runs one job at a time, so a job it already holds is returned again (its
    lease renewed, no new attempt): a claim retried after its answer was lost does not strand a job.
    ``token``: the name of the server token that claimed it (heartbeat and finish may then insist on it).
    """

    def work(session: Session):
        now = time.time()
        if single:
            held = session.scalar(select(Job).where(Job.state == "running", Job.lease_owner == worker).limit(1))
            if held is not None and (token is None or held.lease_token == token):
                held.lease_expires, held.heartbeat_at = now + lease_s, now
                session.flush()
                return as_dict(held)
        while True:
            q = select(Job).where(or_(Job.state == "queued", and_(Job.state == "running", Job.lease_expires < now)))
            if recipe:
                q = q.where(Job.recipe == recipe)
            job = session.scalar(
                q.order_by(Job.step.desc(), Job.cost, Job.seed, Job.id).limit(1).with_for_update(skip_locked=True)
            )
            if job is None:
                return None
            if job.state == "running" and job.attempts >= job.max_attempts:
                _fail(session, job, f"lease expired after {job.attempts} attempts (worker {job.lease_owner} lost)")
                continue
            job.state, job.lease_owner, job.lease_expires, job.heartbeat_at = "running", worker, now + lease_s, now
            job.lease_token = token
            job.attempts += 1
            session.flush()
            return as_dict(job)

    return _write(sessions, work)


def _held(session: Session, job_id: int, worker: str, holder: str | None = None) -> Job:
    """The job, if ``worker`` holds its lease (and, given a ``holder``, claimed it with that token)."""
    job = session.get(Job, job_id)
    if job is None or job.state != "running" or job.lease_owner != worker:
        raise LeaseLost(f"job {job_id} is not leased to {worker}")
    if holder is not None and job.lease_token != holder:
        raise LeaseLost(f"job {job_id} was not claimed with token '{holder}'")
    return job


def heartbeat(sessions: sessionmaker, job_id: int, worker: str, lease_s: float, holder: str | None = None) -> bool:
    def work(session: Session) -> bool:
        try:
            job = _held(session, job_id, worker, holder)
        except LeaseLost:
            return False
        now = time.time()
        job.lease_expires, job.heartbeat_at = now + lease_s, now
        return True

    return _write(sessions, work)


def release(sessions: sessionmaker, job_id: int, worker: str, holder: str | None = None) -> dict:
    """Give a held job back at once (its worker was preempted): queued again for the next worker, and
    the attempt is not counted. Releasing a job no longer held (or, given a ``holder`` token, claimed with
    another token) changes nothing (a retried call)."""

    def work(session: Session) -> dict:
        job = session.get(Job, job_id)
        if job is None:
            raise LeaseLost(f"job {job_id} does not exist")
        mine = holder is None or job.lease_token == holder
        if job.state == "running" and job.lease_owner == worker and mine:
            job.state, job.lease_owner, job.lease_expires = "queued", None, None
            job.attempts = max(0, job.attempts - 1)
            job.error = f"preempted on {worker}; released"
            session.flush()
        return as_dict(job)

    return _write(sessions, work)


def finish(sessions: sessionmaker, job_id: int, worker: str, outcome: dict, holder: str | None = None) -> dict:
    """Record a job's end. ``outcome``: ok, result (a result payload), error, log_tail, oom, wall_time.

    A result is stored first (idempotent); then the job becomes done, queued again (attempts left, or
    an out-of-memory failure's one retry at half the batch) or failed. Raises LeaseLost if the job
    was taken by another worker meanwhile, ValueError (naming the field) if the result is not this job's.
    """
    from claf.queue.outcome import job_result
    from claf.results.store import Conflict, put_result

    stored = None
    if outcome.get("ok"):
        with sessions() as session:
            job = session.get(Job, job_id)
            if job is not None and job.state == "done":  # a finish retried after its answer was lost
                return as_dict(job)
            result = job_result(as_dict(_held(session, job_id, worker, holder)), outcome.get("result"))
        try:
            stored, _ = put_result(sessions, result)
        except Conflict as e:  # an earlier attempt stored it already (killed before it could say so)
            stored = {"id": None, "note": str(e)}

    def work(session: Session) -> dict:
        job = _held(session, job_id, worker, holder)
        job.lease_owner = job.lease_expires = job.lease_token = None
        job.wall_time = outcome.get("wall_time")
        job.log_tail = (outcome.get("log_tail") or "")[-4000:]
        if stored is not None:
            job.state, job.result_id, job.finished_at, job.error = "done", stored.get("id"), time.time(), ""
            metric = outcome["result"]["metrics"]  # checked by job_result above
            job.score = _primary(session, job, metric)
        elif outcome.get("oom") and job.oom_retries < 1:
            job.oom_retries += 1
            job.state, job.error = "queued", f"out of memory: {outcome.get('error', '')}"[:2000]
        elif job.attempts < job.max_attempts:
            job.state, job.error = "queued", str(outcome.get("error", ""))[:2000]
        else:
            _fail(session, job, str(outcome.get("error", "")))
        if job.state in ("done", "failed"):
            _suite_check(session, job)
        session.flush()
        return as_dict(job)

    return _write(sessions, work)


def _primary(session: Session, job: Job, metrics: dict) -> float | None:
    from claf.results.store import find_task

    task = find_task(session, job.benchmark, job.task)
    value = metrics.get(task.metric)
    return float(value) if isinstance(value, (int, float)) else None


def _fail(session: Session, job: Job, reason: str) -> None:
    from claf.notify import slack

    job.state, job.error, job.finished_at = "failed", reason[:2000], time.time()
    job.lease_owner = job.lease_expires = job.lease_token = None
    channel = (job.spec.get("notify") or {}).get("channel")
    if channel:
        slack.queue(session, f"failed:{job.key}", channel, slack.failure_message(as_dict(job)))
    _suite_check(session, job)


def _suite_check(session: Session, job: Job) -> None:
    """When every job of this checkpoint in this recipe has ended, queue the 'suite complete' message."""
    from claf.notify import slack

    channel = (job.spec.get("notify") or {}).get("channel")
    if not channel:
        return
    mine = select(Job).where(Job.recipe == job.recipe, Job.checkpoint_sha256 == job.checkpoint_sha256)
    if any(j.state not in ("done", "failed") for j in session.scalars(mine)):
        return
    from claf.queue.suite import suite_summary

    summary = suite_summary(session, job.recipe, job.checkpoint_sha256)
    summary["dashboard_url"] = (job.spec.get("notify") or {}).get("dashboard_url")
    slack.queue(session, f"suite:{job.recipe}:{job.checkpoint_sha256}", channel, slack.suite_message(summary))


def requeue_failed(sessions: sessionmaker, recipe: str, checkpoint: str | None = None) -> int:
    """Queue the recipe's failed jobs again with fresh attempts (after the cause is fixed); ``checkpoint``
    (a glob) limits them to those checkpoints. -> how many. Done and running jobs are left alone."""

    def work(session: Session) -> int:
        q = select(Job).where(Job.recipe == recipe, Job.state == "failed")
        n = 0
        for job in session.scalars(q):
            if checkpoint and not fnmatch.fnmatchcase(job.checkpoint, checkpoint):
                continue
            job.state, job.attempts, job.oom_retries, job.finished_at = "queued", 0, 0, None
            job.error = f"requeued after failing: {job.error or ''}"[:2000]
            n += 1
        session.flush()
        return n

    return _write(sessions, work)


def list_jobs(session: Session, recipe: str | None = None) -> list[dict]:
    q = select(Job).order_by(Job.step.desc(), Job.cost, Job.task, Job.seed)
    if recipe:
        q = q.where(Job.recipe == recipe)
    return [as_dict(j) for j in session.scalars(q)]
