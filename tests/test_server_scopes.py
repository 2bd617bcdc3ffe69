"""Scoped tokens on the real app over a real SQLite file (FastAPI's TestClient, no mocks): every route x
every scope, revocation at once, workers kept to their own jobs, and the token CLI."""

import json
import os
import stat

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import text

from claf.commands import main
from claf.server import tokens
from claf.server.app import create_app
from claf.server.auth import Need, scope_of

LEGACY = "legacy-shared-token"
# (method, path) -> the scope it needs (None: public). A route added without a declared scope, or with
# another one, fails test_every_route_declares_its_scope.
EXPECTED = {
    ("GET", "/api/v1/health"): None,
    ("GET", "/api/v1/benchmarks"): "read",
    ("PUT", "/api/v1/benchmarks/{name}"): "admin",
    ("GET", "/api/v1/benchmarks/{name}/table"): "read",
    ("GET", "/api/v1/benchmarks/{name}/table.csv"): "read",
    ("GET", "/api/v1/benchmarks/{name}/tasks/{task}/series"): "read",
    ("GET", "/api/v1/compare"): "read",
    ("POST", "/api/v1/checkpoints"): "write:results",
    ("POST", "/api/v1/results"): "write:results",
    ("GET", "/api/v1/results/{result_id}"): "read",
    ("GET", "/api/v1/results/{a}/diff/{b}"): "read",
    ("POST", "/api/v1/vocab"): "write:results",
    ("GET", "/api/v1/vocab"): "read",
    ("POST", "/api/v1/latency"): "write:results",
    ("GET", "/api/v1/latency"): "read",
    ("GET", "/api/v1/latency/{run_id}"): "read",
    ("GET", "/api/v1/latency/{run_id}/table"): "read",
    ("GET", "/api/v1/latency/{run_id}/table.csv"): "read",
    ("POST", "/api/v1/jobs"): "admin",
    ("POST", "/api/v1/jobs/claim"): "worker",
    ("POST", "/api/v1/jobs/{job_id}/heartbeat"): "worker",
    ("POST", "/api/v1/jobs/{job_id}/finish"): "worker",
    ("POST", "/api/v1/jobs/{job_id}/release"): "worker",
    ("POST", "/api/v1/jobs/requeue"): "admin",
    ("GET", "/api/v1/jobs"): "read",
    ("POST", "/api/v1/notifications"): "admin",
    ("GET", "/api/v1/notifications"): "read",
    ("GET", "/api/v1/tokens"): "admin",
    ("POST", "/api/v1/tokens"): "admin",
    ("POST", "/api/v1/tokens/{name}/revoke"): "admin",
    ("GET", "/"): "read",
    ("GET", "/benchmarks/{name}"): "read",
    ("GET", "/benchmarks/{name}/compare"): "read",
    ("GET", "/benchmarks/{name}/budget"): "read",
    ("GET", "/vocab"): "read",
    ("GET", "/speed"): "read",
    ("GET", "/vendor/{file}"): None,
    ("GET", "/static/{file}"): None,
}
PATH_VALUES = {
    "name": "klue",
    "task": "nsmc",
    "result_id": "1",
    "a": "1",
    "b": "1",
    "run_id": "1",
    "job_id": "1",
    "file": "dashboard.css",
}


def declared(app) -> dict:
    """(method, path) -> scope, read from each route's ``Need`` dependency; asserts exactly one per route."""
    out = {}
    for route in app.routes:
        if not isinstance(route, APIRoute):
            assert route.path == app.openapi_url, f"a route outside FastAPI's routing: {route.path}"
            continue
        needs = [d.call for d in route.dependant.dependencies if isinstance(d.call, Need)]
        assert len(needs) == 1, f"{route.methods} {route.path} declares {len(needs)} scopes; give it exactly one"
        assert scope_of(route) is needs[0]
        for method in route.methods:
            out[(method, route.path)] = needs[0].scope
    return out


@pytest.fixture
def server(tmp_path):
    url = f"sqlite:///{tmp_path / 'bench.sqlite'}"
    app = create_app(url, token=LEGACY, private=True)
    sessions = app.state.sessions
    secrets_ = {scope: tokens.create_token(sessions, scope.replace(":", "-"), [scope]) for scope in tokens.SCOPES}
    secrets_["worker+read"] = tokens.create_token(sessions, "worker-reader", ["worker", "read"])
    secrets_["revoked"] = tokens.create_token(sessions, "gone", ["admin"])
    tokens.revoke_token(sessions, "gone")
    with TestClient(app) as client:
        yield client, secrets_, url


def bearer(secret: str | None) -> dict:
    return {"Authorization": f"Bearer {secret}"} if secret else {}


def call(client, method, path, secret):
    url = path.format(**PATH_VALUES)
    body = {} if method in ("POST", "PUT") else None
    return client.request(method, url, json=body, headers=bearer(secret), follow_redirects=False)


def test_every_route_declares_its_scope(server):
    client, _, _ = server
    assert declared(client.app) == EXPECTED


@pytest.mark.parametrize("holder", ["read", "write:results", "worker", "admin", "worker+read", "legacy"])
def test_every_route_times_every_scope(server, holder):
    client, secrets_, _ = server
    secret = LEGACY if holder == "legacy" else secrets_[holder]
    held = set(tokens.SCOPES) if holder in ("admin", "legacy") else set(holder.split("+"))
    allowed = denied = 0
    for (method, path), scope in EXPECTED.items():
        r = call(client, method, path, secret)
        if scope is None or scope in held:
            assert r.status_code not in (401, 403), (holder, method, path, r.status_code, r.text)
            allowed += 1
        else:
            assert r.status_code == 403, (holder, method, path, r.status_code, r.text)
            assert "\n" not in r.text and r.json()["scope"] == scope and scope in r.json()["detail"]
            denied += 1
    assert allowed and (denied or holder in ("admin", "legacy"))


@pytest.mark.parametrize("secret", [None, "", "not-a-token", "revoked"])
def test_missing_unknown_and_revoked_tokens_get_401_everywhere_but_public(server, secret):
    client, secrets_, _ = server
    secret = secrets_.get(secret, secret)
    for (method, path), scope in EXPECTED.items():
        r = call(client, method, path, secret)
        if scope is None:
            assert r.status_code not in (401, 403), (method, path, r.text)
        else:
            assert r.status_code == 401, (method, path, r.status_code, r.text)
            assert r.headers["www-authenticate"] == "Bearer"


def test_the_token_is_checked_before_a_body_that_is_no_json(server):
    client, secrets_, _ = server
    bad = {"content": b"{not json", "headers": {"Content-Type": "application/json"}}
    assert client.post("/api/v1/results", **bad).status_code == 401
    worker = {**bad["headers"], **bearer(secrets_["worker"])}
    r = client.post("/api/v1/results", content=bad["content"], headers=worker)
    assert r.status_code == 403 and r.json()["scope"] == "write:results"
    writer = {**bad["headers"], **bearer(secrets_["write:results"])}
    r = client.post("/api/v1/results", content=bad["content"], headers=writer)
    assert r.status_code == 422 and r.json()["detail"].startswith("body: JSON decode error")


def test_a_revoked_token_is_refused_on_its_next_request(server):
    client, secrets_, _ = server
    admin = bearer(secrets_["admin"])
    made = client.post("/api/v1/tokens", json={"name": "gpu-node-3", "scopes": ["worker", "read"]}, headers=admin)
    assert made.status_code == 201 and made.json()["token"].startswith(tokens.PREFIX)
    mine = bearer(made.json()["token"])
    assert client.get("/api/v1/jobs", headers=mine).status_code == 200
    assert client.post("/api/v1/jobs/claim", json={"worker": "w"}, headers=mine).status_code == 204
    assert client.post("/api/v1/tokens/gpu-node-3/revoke", headers=admin).json()["revoked"]
    assert client.get("/api/v1/jobs", headers=mine).status_code == 401  # the very next request, no cache
    assert client.post("/api/v1/jobs/claim", json={"worker": "w"}, headers=mine).status_code == 401
    listed = client.get("/api/v1/tokens", headers=admin).json()
    assert {t["name"] for t in listed} >= {"gpu-node-3", "gone"}
    assert made.json()["token"] not in json.dumps(listed)


def test_reads_are_open_on_a_public_server_and_writes_are_not(tmp_path):
    app = create_app(f"sqlite:///{tmp_path / 'open.sqlite'}", token=LEGACY, private=False)
    worker = tokens.create_token(app.state.sessions, "w1", ["worker"])
    with TestClient(app) as client:
        assert client.get("/api/v1/benchmarks").status_code == 200
        assert client.get("/api/v1/jobs", headers=bearer(worker)).status_code == 200
        r = client.post("/api/v1/results", json={}, headers=bearer(worker))
        assert r.status_code == 403 and r.json()["scope"] == "write:results"
        assert client.post("/api/v1/results", json={}).status_code == 401


def job_spec(task="nsmc", seed=42):
    return {
        "recipe": "r",
        "benchmark": "klue",
        "task": task,
        "seed": seed,
        "config_hash": "c" * 64,
        "checkpoint": "m-1k",
        "checkpoint_sha256": "1" * 64,
        "model": "m",
        "step": 1000,
    }


def outcome(task="nsmc", seed=42, checkpoint="m-1k"):
    result = {
        "benchmark": "klue",
        "task": task,
        "seed": seed,
        "checkpoint": {"model": "m", "step": 1000, "name": checkpoint},
        "metrics": {"accuracy": 80.0},
        "config": {"seed_num": seed},
    }
    return {"ok": True, "wall_time": 1.0, "result": result}


def test_a_worker_token_finishes_only_its_own_job_with_that_jobs_result(server):
    client, secrets_, _ = server
    admin, mine, other = bearer(secrets_["admin"]), bearer(secrets_["worker"]), bearer(secrets_["worker+read"])
    assert client.post("/api/v1/jobs", json={"jobs": [job_spec()]}, headers=admin).status_code == 201
    job = client.post("/api/v1/jobs/claim", json={"worker": "node-a"}, headers=mine).json()
    # another worker token using the same worker name cannot touch the lease
    r = client.post(f"/api/v1/jobs/{job['id']}/heartbeat", json={"worker": "node-a"}, headers=other)
    assert r.status_code == 409 and "worker-reader" in r.json()["detail"]
    r = client.post(f"/api/v1/jobs/{job['id']}/finish", json={"worker": "node-a", "outcome": outcome()}, headers=other)
    assert r.status_code == 409
    # the holder cannot store another job's result under its lease
    for wrong, field in (
        (outcome(task="ynat"), "task"),
        (outcome(seed=7), "seed"),
        (outcome(checkpoint="x-9k"), "checkpoint.name"),
    ):
        r = client.post(f"/api/v1/jobs/{job['id']}/finish", json={"worker": "node-a", "outcome": wrong}, headers=mine)
        assert r.status_code == 422 and r.json()["detail"].startswith(f"outcome.result.{field}:"), r.text
    # nor post a result directly, change the catalog or read a private server
    assert client.post("/api/v1/results", json=outcome()["result"], headers=mine).status_code == 403
    assert client.put("/api/v1/benchmarks/klue", json={"name": "klue", "tasks": []}, headers=mine).status_code == 403
    assert client.get(f"/api/v1/results/{1}", headers=mine).status_code == 403
    r = client.post(f"/api/v1/jobs/{job['id']}/finish", json={"worker": "node-a", "outcome": outcome()}, headers=mine)
    assert r.status_code == 200 and r.json()["state"] == "done" and r.json()["lease_token"] is None
    stored = client.get(f"/api/v1/results/{r.json()['result_id']}", headers=other)
    assert stored.status_code == 200 and stored.json()["task"] == "nsmc"


def test_token_cli_create_list_revoke_and_the_database_keeps_only_hashes(tmp_path, capsys):
    url = f"sqlite:///{tmp_path / 'cli.sqlite'}"
    assert main(["server", "token", "create", "--scope", "worker", "--name", "gpu-node-3", "--db", url]) == 0
    secret = capsys.readouterr().out.strip()
    assert secret.startswith(tokens.PREFIX) and len(secret) > 40
    out = tmp_path / "keys" / "reader.token"
    assert (
        main(
            [
                "server",
                "token",
                "create",
                "--scope",
                "read,write:results",
                "--name",
                "ci",
                "--out",
                str(out),
                "--db",
                url,
            ]
        )
        == 0
    )
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o600
    assert main(["server", "token", "create", "--scope", "root", "--name", "x", "--db", url]) == 1
    assert "unknown scope 'root'" in capsys.readouterr().err
    assert main(["server", "token", "create", "--scope", "read", "--name", "gpu-node-3", "--db", url]) == 1
    assert main(["server", "token", "revoke", "gpu-node-3", "--db", url]) == 0
    capsys.readouterr()
    assert main(["server", "token", "list", "--db", url]) == 0
    listing = capsys.readouterr().out
    assert secret not in listing and out.read_text().strip() not in listing
    rows = {line.split()[0]: line.split() for line in listing.splitlines()[1:]}
    assert rows["ci"][1] == "read,write:results" and rows["ci"][-1] == "-" and rows["gpu-node-3"][-1] != "-"
    app = create_app(url, token=None)
    with app.state.engine.connect() as conn:
        dump = json.dumps([list(map(str, row)) for row in conn.execute(text("SELECT * FROM api_tokens"))])
    assert secret not in dump and tokens.digest(secret) in dump
    with TestClient(app) as client:
        assert client.get("/api/v1/tokens", headers=bearer(out.read_text().strip())).status_code == 403
        assert client.post("/api/v1/jobs/claim", json={"worker": "w"}, headers=bearer(secret)).status_code == 401
    assert main(["server", "token", "revoke", "nobody", "--db", url]) == 1
    assert "no token named 'nobody'" in capsys.readouterr().err
