"""Where the factory keeps its jobs: the benchmark database itself (embedded) or a server's REST API.

Both offer the same calls: ``enqueue(specs)``, ``claim(worker, lease_s, recipe, single)``,
``heartbeat(id, worker, lease_s)``, ``finish(id, worker, outcome)``, ``release(id, worker)``, ``jobs(recipe)``,
``notice(key, channel, message)``. The REST store retries each call while the server or its database is
away (``retry_s``, 5 minutes by default); every call is idempotent, so a retry never runs a job twice.
"""

import os

from claf.errors import UserError
from claf.queue.jobs import LeaseLost


class ServerError(UserError):
    """The benchmark server refused a factory call."""


class DbStore:
    """Jobs in the benchmark database through ``claf.queue`` (SQLite file or PostgreSQL)."""

    def __init__(self, url: str | None = None):
        from claf.db.engine import default_url, open_engine, session_factory
        from claf.results.catalog import migrate

        self.url = url or default_url()
        self.engine = open_engine(self.url)
        migrate(self.engine)
        self.sessions = session_factory(self.engine)

    def __repr__(self):
        return f"database {self.engine.url.render_as_string(hide_password=True)}"

    def enqueue(self, specs: list[dict]) -> int:
        from claf.queue.jobs import enqueue

        return enqueue(self.sessions, specs)

    def claim(self, worker: str, lease_s: float, recipe: str | None = None, single: bool = False) -> dict | None:
        from claf.queue.jobs import claim

        return claim(self.sessions, worker, lease_s, recipe, single)

    def heartbeat(self, job_id: int, worker: str, lease_s: float) -> bool:
        from claf.queue.jobs import heartbeat

        return heartbeat(self.sessions, job_id, worker, lease_s)

    def finish(self, job_id: int, worker: str, outcome: dict) -> dict:
        from claf.queue.jobs import finish

        return finish(self.sessions, job_id, worker, outcome)

    def release(self, job_id: int, worker: str) -> dict:
        from claf.queue.jobs import release

        return release(self.sessions, job_id, worker)

    def requeue_failed(self, recipe: str, checkpoint: str | None = None) -> int:
        from claf.queue.jobs import requeue_failed

        return requeue_failed(self.sessions, recipe, checkpoint)

    def jobs(self, recipe: str | None = None) -> list[dict]:
        from claf.queue.jobs import list_jobs

        with self.sessions() as session:
            return list_jobs(session, recipe)

    def notice(self, key: str, channel: str, message: dict) -> bool:
        from claf.db.engine import write_session
        from claf.notify import slack

        with write_session(self.sessions) as session:
            return slack.queue(session, key, channel, message)


class RestStore:
    """Jobs through a benchmark server (``/api/v1/jobs``): for machines that reach only the server."""

    def __init__(self, url: str, token: str | None = None, timeout: float = 30.0, retry_s: float = 300.0):
        from claf.results.client import BenchClient

        self.url = url.rstrip("/")
        self.client = BenchClient(self.url, token, timeout, retry_s)

    def __repr__(self):
        return f"server {self.url}"

    def _call(self, method: str, path: str, body=None, ok=(200, 201), retry_s: float | None = None):
        status, data = self.client._call(method, path, body, retry_s=retry_s)
        if status not in ok:
            raise ServerError(f"{self.url}{path}: HTTP {status}: {data}")
        return status, data

    def enqueue(self, specs: list[dict]) -> int:
        return self._call("POST", "/jobs", {"jobs": specs})[1]["added"]

    def claim(self, worker: str, lease_s: float, recipe: str | None = None, single: bool = False) -> dict | None:
        body = {"worker": worker, "lease_seconds": lease_s, "recipe": recipe, "single": single}
        status, data = self._call("POST", "/jobs/claim", body, ok=(200, 204))
        return data if status == 200 and data else None

    def heartbeat(self, job_id: int, worker: str, lease_s: float) -> bool:
        body = {"worker": worker, "lease_seconds": lease_s}
        # a short retry: the lease has slack, and the worker must keep watching its job
        status, _ = self._call("POST", f"/jobs/{job_id}/heartbeat", body, ok=(200, 409), retry_s=min(5.0, lease_s / 4))
        return status == 200

    def finish(self, job_id: int, worker: str, outcome: dict) -> dict:
        status, data = self._call(
            "POST", f"/jobs/{job_id}/finish", {"worker": worker, "outcome": outcome}, ok=(200, 409)
        )
        if status == 409:
            raise LeaseLost(str(data))
        return data

    def release(self, job_id: int, worker: str) -> dict:
        return self._call("POST", f"/jobs/{job_id}/release", {"worker": worker}, retry_s=30.0)[1]

    def requeue_failed(self, recipe: str, checkpoint: str | None = None) -> int:
        return self._call("POST", "/jobs/requeue", {"recipe": recipe, "checkpoint": checkpoint})[1]["requeued"]

    def jobs(self, recipe: str | None = None) -> list[dict]:
        status, data = self.client.get("/jobs", **({"recipe": recipe} if recipe else {}))
        if status != 200:
            raise ServerError(f"{self.url}/api/v1/jobs: HTTP {status}: {data}")
        return data

    def notice(self, key: str, channel: str, message: dict) -> bool:
        return self._call("POST", "/notifications", {"dedupe_key": key, "channel": channel, "message": message})[1][
            "added"
        ]


def open_jobs_store(server: str | None = None, db: str | None = None):
    """A server URL (argument, recipe or ``CLAF_SERVER_URL``) -> RestStore; else the database (embedded)."""
    server = server or os.environ.get("CLAF_SERVER_URL")
    if server and not db:
        return RestStore(server)
    return DbStore(db)
