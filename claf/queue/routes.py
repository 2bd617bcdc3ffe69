"""REST routes of the evaluation factory's job queue (pull workers talk to these).

    POST /api/v1/jobs                     {"jobs": [spec, ...]}           -> {"added": n}
    POST /api/v1/jobs/claim               {"worker", "lease_seconds", "recipe"?} -> a job, or 204
    POST /api/v1/jobs/{id}/heartbeat      {"worker", "lease_seconds"}     -> 200, or 409 lease lost
    POST /api/v1/jobs/{id}/finish         {"worker", "outcome"}           -> the job, or 409 lease lost
    POST /api/v1/jobs/{id}/release        {"worker"}                      -> the job (queued again if it was held)
    POST /api/v1/jobs/requeue             {"recipe", "checkpoint"?}       -> {"requeued": n} (failed jobs again)
    GET  /api/v1/jobs?recipe=NAME                                          -> every job (status matrix)
    POST /api/v1/notifications            {"dedupe_key", "channel", "message"} -> {"added": bool}
    GET  /api/v1/notifications                                             -> the outbox (no webhook URLs)

Scopes (``claf.server.auth``): claim, heartbeat and finish need ``worker``, and a worker token heartbeats
and finishes only the jobs it claimed itself (the job records the token's name); a finished job's result
must be that job's (benchmark, task, checkpoint, seed). Adding or requeueing jobs and notices needs ``admin``; the
lists need ``read`` on a private server.
"""

from typing import Annotated

from fastapi import Depends, FastAPI, Path
from fastapi.responses import JSONResponse, Response

from claf.db.engine import write_session
from claf.errors import one_line
from claf.notify import slack
from claf.queue import jobs
from claf.queue.payloads import Claim, Enqueue, Finish, NoticeIn, Release, Requeue
from claf.results.payloads import INT64

JobId = Annotated[int, Path(ge=1, le=INT64)]


def add_job_routes(app: FastAPI, factory, auth) -> None:
    """``auth`` is the server's ``claf.server.auth.Auth`` (passed in: this layer sits below the server)."""
    reads, admin, worker = auth.needs("read"), auth.needs("admin"), Depends(auth.need("worker"))

    @app.post("/api/v1/jobs", dependencies=admin)
    def enqueue(body: Enqueue):
        specs = [job.model_dump() for job in body.jobs]
        return JSONResponse({"added": jobs.enqueue(factory, specs)}, status_code=201)

    @app.post("/api/v1/jobs/claim")
    def claim(body: Claim, who=worker):
        job = jobs.claim(factory, body.worker, body.lease_seconds, body.recipe, body.single, token=who.name)
        return Response(status_code=204) if job is None else job

    @app.post("/api/v1/jobs/{job_id}/heartbeat")
    def heartbeat(job_id: JobId, body: Claim, who=worker):
        if not jobs.heartbeat(factory, job_id, body.worker, body.lease_seconds, holder=who.lease_holder):
            detail = f"job {job_id} is not leased to {body.worker} with token '{who.name}'"
            return JSONResponse({"detail": one_line(detail)}, status_code=409)
        return {"ok": True}

    @app.post("/api/v1/jobs/{job_id}/finish")
    def finish(job_id: JobId, body: Finish, who=worker):
        try:
            return jobs.finish(factory, job_id, body.worker, body.outcome.model_dump(), holder=who.lease_holder)
        except jobs.LeaseLost as e:
            return JSONResponse({"detail": one_line(str(e))}, status_code=409)

    @app.post("/api/v1/jobs/{job_id}/release")
    def release(job_id: JobId, body: Release, who=worker):
        try:
            return jobs.release(factory, job_id, body.worker, holder=who.lease_holder)
        except jobs.LeaseLost as e:
            return JSONResponse({"detail": one_line(str(e))}, status_code=404)

    @app.post("/api/v1/jobs/requeue", dependencies=admin)
    def requeue(body: Requeue):
        return {"requeued": jobs.requeue_failed(factory, body.recipe, body.checkpoint)}

    @app.get("/api/v1/jobs", dependencies=reads)
    def list_jobs(recipe: str | None = None):
        with factory() as s:
            return jobs.list_jobs(s, recipe)

    @app.post("/api/v1/notifications", dependencies=admin)
    def queue_notice(body: NoticeIn):
        with write_session(factory) as s:
            added = slack.queue(s, body.dedupe_key, body.channel, body.message)
        return JSONResponse({"added": added}, status_code=201 if added else 200)

    @app.get("/api/v1/notifications", dependencies=reads)
    def outbox():
        with factory() as s:
            return slack.pending(s)
