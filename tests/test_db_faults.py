"""The database goes away under a load of result posts and job claims: PostgreSQL's postmaster killed -9
and restarted (the server keeps running), or the SQLite server process killed -9 and restarted.

Pass: 503 with Retry-After while PostgreSQL is down, never another 5xx; every acknowledged write is
stored; every job ran once (one claim, one attempt, one result); the server recovers by itself."""

import time

import pytest
import requests

from tests.bench_support import DEMO, ServerProcess, auth
from tests.chaos_support import Load, ThrowawayPostgres, job_specs

pytestmark = pytest.mark.slow  # real server and database processes
JOBS = 24
FAULTS = 2  # each test kills twice: after a quarter and after half of the jobs


def prepare(url: str):
    from claf.factory.job_store import RestStore
    from tests.bench_support import TOKEN

    assert requests.put(f"{url}/api/v1/benchmarks/demo", json=DEMO, headers=auth()).status_code in (200, 201)
    assert RestStore(url, TOKEN).enqueue(job_specs(JOBS)) == JOBS


def wait_until(condition, timeout: float = 120.0):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the load made no progress"
        time.sleep(0.05)


def check_nothing_lost(load: Load, url: str):
    assert not load.bad, load.bad[:5]
    jobs = requests.get(f"{url}/api/v1/jobs", params={"recipe": "chaos"}, timeout=30).json()
    assert len(jobs) == JOBS and all(j["state"] == "done" and j["result_id"] for j in jobs)
    assert all(j["attempts"] == 1 for j in jobs), [(j["id"], j["attempts"]) for j in jobs if j["attempts"] != 1]
    claimed = {}
    for worker, job_id, _attempts in load.claims:
        claimed.setdefault(job_id, set()).add(worker)
    assert len(claimed) == JOBS and all(len(w) == 1 for w in claimed.values())  # no job ran on two workers
    assert sorted(job_id for _w, job_id, state in load.finished if state == "done") == sorted(claimed)
    assert len({j["result_id"] for j in jobs}) == JOBS  # one result per job
    for result_id, (model, step, seed, score) in load.acked.items():
        r = requests.get(f"{url}/api/v1/results/{result_id}", timeout=30)
        assert r.status_code == 200, (result_id, r.text)
        got = r.json()
        assert (got["model"], got["step"], got["seed"], got["metrics"]["accuracy"]) == (model, step, seed, score)


def report(kind: str, load: Load, downs: list) -> str:
    recoveries = [
        f"down {restarted - killed:.1f}s, answering {load.first_ok_after(restarted) - restarted:.2f}s after the restart"
        + (f" ({stragglers} backends killed by hand)" if stragglers else "")
        for killed, restarted, stragglers in downs
    ]
    unavailable = [p for p in load.probes if p[1] == 503]
    no_answer = [p for p in load.probes if p[1] is None]
    return (
        f"{kind}: {len(downs)} faults injected; {len(load.acked)} acknowledged posts and {JOBS} jobs, 0 lost; "
        f"{len(load.claims) - JOBS} repeated claims, 0 repeated attempts; {load.retries} client retries; "
        f"probes: {len(unavailable)} x 503, {len(no_answer)} unanswered; " + "; ".join(recoveries)
    )


def under_faults(load: Load, kill, restart, down) -> list:
    """Inject FAULTS faults while the load runs -> [(killed at, restarted at, stragglers)]."""
    downs = []
    for fault in range(1, FAULTS + 1):
        wait_until(lambda f=fault: len(load.finished) >= JOBS * f // 4 and len(load.acked) >= 20 * f)
        killed_at = time.monotonic()
        stragglers = kill()
        wait_until(lambda k=killed_at: sum(down(p) and p[0] > k for p in load.probes) >= 10)  # clients hit the fault
        restarted_at = time.monotonic()
        restart()
        wait_until(lambda r=restarted_at: load.first_ok_after(r) is not None)
        downs.append((killed_at, restarted_at, stragglers))
    acked_before = len(load.acked)
    wait_until(lambda: len(load.finished) >= JOBS, timeout=300)
    wait_until(lambda: len(load.acked) >= acked_before + 20)  # posts go on after the last restart
    load.join()
    return downs


def test_postgres_killed_under_load_503_then_recovers_without_losing_a_write(tmp_path):
    pg = ThrowawayPostgres().start_fresh()
    server = None
    try:
        server = ServerProcess(pg.url, tmp_path).start()
        prepare(server.url)
        load = Load(server.url).start()
        downs = under_faults(load, pg.kill9, pg.start, lambda probe: probe[1] == 503)
        assert server.proc.poll() is None  # the same server process throughout
        check_nothing_lost(load, server.url)
        unavailable = [p for p in load.probes if p[1] == 503]
        assert all(after == "2" for _t, _s, after in unavailable)
        print(report("postgres kill -9 of the postmaster", load, downs))
    finally:
        if server is not None:
            server.stop()
        pg.stop()


def test_sqlite_server_killed_under_load_clients_retry_until_it_is_back(tmp_path):
    db_url = f"sqlite:///{tmp_path / 'bench.sqlite'}"
    servers = [ServerProcess(db_url, tmp_path).start()]
    url, port = servers[0].url, servers[0].port

    def kill():
        servers[-1].kill9()
        return 0

    def restart():
        servers.append(ServerProcess(db_url, tmp_path, port=port).start())

    try:
        prepare(url)
        load = Load(url).start()
        downs = under_faults(load, kill, restart, lambda probe: probe[1] is None)
        check_nothing_lost(load, url)
        print(report("sqlite kill -9 of the server", load, downs))
    finally:
        for server in servers:
            server.stop()
