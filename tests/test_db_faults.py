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


def report(kind: str, load: Load, killed_at: float, restarted_at: float) -> str:
    first_ok = load.first_ok_after(restarted_at)
    unavailable = [p for p in load.probes if p[1] == 503]
    no_answer = [p for p in load.probes if p[1] is None]
    return (
        f"{kind}: 1 fault injected; {len(load.acked)} acknowledged posts and {JOBS} jobs, 0 lost; "
        f"{len(load.claims) - JOBS} repeated claims, 0 repeated attempts; {load.retries} client retries; "
        f"probes: {len(unavailable)} x 503, {len(no_answer)} unanswered; down {restarted_at - killed_at:.1f}s, "
        f"first answer {first_ok - restarted_at:.2f}s after the restart ({first_ok - killed_at:.1f}s after the kill)"
    )


def test_postgres_killed_under_load_503_then_recovers_without_losing_a_write(tmp_path):
    pg = ThrowawayPostgres().start_fresh()
    server = None
    try:
        server = ServerProcess(pg.url, tmp_path).start()
        prepare(server.url)
        load = Load(server.url).start()
        wait_until(lambda: len(load.finished) >= JOBS // 4 and len(load.acked) >= 20)
        acked_before = len(load.acked)
        killed_at = time.monotonic()
        stragglers = pg.kill9()
        wait_until(lambda: any(p[1] == 503 and p[0] > killed_at for p in load.probes))  # the server sees it
        restarted_at = time.monotonic()
        pg.start()
        wait_until(lambda: len(load.finished) >= JOBS, timeout=300)
        wait_until(lambda: len(load.acked) >= acked_before + 20)  # posts go on after the restart
        load.join()
        assert server.proc.poll() is None  # the same server process throughout
        check_nothing_lost(load, server.url)
        unavailable = [p for p in load.probes if p[1] == 503]
        assert unavailable and all(after == "2" for _t, _s, after in unavailable)
        assert load.first_ok_after(restarted_at) is not None
        print(
            report("postgres kill -9 of the postmaster", load, killed_at, restarted_at),
            f"({stragglers} backends killed)",
        )
    finally:
        if server is not None:
            server.stop()
        pg.stop()


def test_sqlite_server_killed_under_load_clients_retry_until_it_is_back(tmp_path):
    db_url = f"sqlite:///{tmp_path / 'bench.sqlite'}"
    server = ServerProcess(db_url, tmp_path).start()
    restarted = None
    try:
        prepare(server.url)
        load = Load(server.url).start()
        wait_until(lambda: len(load.finished) >= JOBS // 4 and len(load.acked) >= 20)
        acked_before = len(load.acked)
        killed_at = time.monotonic()
        server.kill9()
        wait_until(lambda: any(p[1] is None and p[0] > killed_at for p in load.probes))  # nobody answers
        restarted_at = time.monotonic()
        restarted = ServerProcess(db_url, tmp_path, port=server.port).start()
        wait_until(lambda: len(load.finished) >= JOBS, timeout=300)
        wait_until(lambda: len(load.acked) >= acked_before + 20)
        load.join()
        check_nothing_lost(load, restarted.url)
        assert load.first_ok_after(restarted_at) is not None
        print(report("sqlite kill -9 of the server", load, killed_at, restarted_at))
    finally:
        for s in (server, restarted):
            if s is not None:
                s.stop()
