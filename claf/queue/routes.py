"""REST routes of the evaluation factory's job queue (pull workers talk to these).

    POST /api/v1/jobs                     {"jobs": [spec, ...]}           -> {"added": n}
    POST /api/v1/jobs/claim               {"worker", "lease_seconds", "recipe"?} -> a job, or 204
    POST /api/v1/jobs/{id}/heartbeat      {"worker", "lease_seconds"}     -> 200, or 409 lease lost
    POST /api/v1/jobs/{id}/finish         {"worker", "outcome"}           -> the job, or 409 lease lost
    POST /api/v1/jobs/{id}/release        {"worker"}                      -> the job (queued again if it was held)
    GET  /api/v1/jobs?recipe=NAME                                          -> every job (status matrix)
    POST /api/v1/notifications            {"dedupe_key", "channel", "message"} -> {"added": bool}
    GET  /api/v1/notifications                                             -> the outbox (no webhook URLs)

Writes need the server token like every other write.
"""

from typing import Any

from fastapi import Depends, FastAPI
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field

from claf.db.engine import write_session
from claf.notify import slack
from claf.queue import jobs


class Claim(BaseModel):
    worker: str = Field(min_length=1, max_length=200)
    lease_seconds: float = Field(default=120.0, gt=0, le=86400)
    recipe: str | None = None
    single: bool = False  # the worker runs one job at a time: a retried claim gets the job it holds


class Release(BaseModel):
    worker: str = Field(min_length=1, max_length=200)


class Finish(BaseModel):
    worker: str = Field(min_length=1, max_length=200)
    outcome: dict[str, Any]


class Enqueue(BaseModel):
    jobs: list[dict[str, Any]]


class NoticeIn(BaseModel):
    dedupe_key: str = Field(min_length=1, max_length=200)
    channel: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    message: dict[str, Any]


def add_job_routes(app: FastAPI, factory, check_token, check_read) -> None:
    reads, writes = [Depends(check_read)], [Depends(check_token)]

    @app.post("/api/v1/jobs", dependencies=writes)
    def enqueue(body: Enqueue):
        missing = [
            k
            for k in (
                "checkpoint_sha256",
                "task",
                "seed",
                "config_hash",
                "recipe",
                "benchmark",
                "checkpoint",
                "model",
                "step",
            )
            if any(k not in j for j in body.jobs)
        ]
        if missing:
            raise ValueError(f"jobs: every job needs {', '.join(missing)}")
        return JSONResponse({"added": jobs.enqueue(factory, body.jobs)}, status_code=201)

    @app.post("/api/v1/jobs/claim", dependencies=writes)
    def claim(body: Claim):
        job = jobs.claim(factory, body.worker, body.lease_seconds, body.recipe, body.single)
        return Response(status_code=204) if job is None else job

    @app.post("/api/v1/jobs/{job_id}/heartbeat", dependencies=writes)
    def heartbeat(job_id: int, body: Claim):
        if not jobs.heartbeat(factory, job_id, body.worker, body.lease_seconds):
            return JSONResponse({"detail": f"job {job_id} is not leased to {body.worker}"}, status_code=409)
        return {"ok": True}

    @app.post("/api/v1/jobs/{job_id}/finish", dependencies=writes)
    def finish(job_id: int, body: Finish):
        try:
            return jobs.finish(factory, job_id, body.worker, body.outcome)
        except jobs.LeaseLost as e:
            return JSONResponse({"detail": str(e)}, status_code=409)

    @app.post("/api/v1/jobs/{job_id}/release", dependencies=writes)
    def release(job_id: int, body: Release):
        try:
            return jobs.release(factory, job_id, body.worker)
        except jobs.LeaseLost as e:
            return JSONResponse({"detail": str(e)}, status_code=404)

    @app.get("/api/v1/jobs", dependencies=reads)
    def list_jobs(recipe: str | None = None):
        with factory() as s:
            return jobs.list_jobs(s, recipe)

    @app.post("/api/v1/notifications", dependencies=writes)
    def queue_notice(body: NoticeIn):
        with write_session(factory) as s:
            added = slack.queue(s, body.dedupe_key, body.channel, body.message)
        return JSONResponse({"added": added}, status_code=201 if added else 200)

    @app.get("/api/v1/notifications", dependencies=reads)
    def outbox():
        with factory() as s:
            return slack.pending(s)
