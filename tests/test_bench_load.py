"""Concurrent writers and a killed server: every acknowledged write is stored exactly once."""

import multiprocessing
import time
from concurrent.futures import ProcessPoolExecutor

import pytest
import requests
from bench_support import DEMO, ServerProcess, auth, count_results, database_url, load_worker

pytestmark = pytest.mark.slow  # real server processes

WORKERS, POSTS = 8, 250


def define_demo(url):
    assert requests.put(f"{url}/api/v1/benchmarks/demo", json=DEMO, headers=auth()).status_code in (200, 201)


@pytest.mark.parametrize("kind,posts", [("sqlite", POSTS), ("postgres", 60)])  # PostgreSQL: the races, shorter
def test_8_clients_x_250_posts_retried_once_give_2000_rows_and_no_5xx(kind, posts, tmp_path):
    db_url = database_url(kind, tmp_path)
    server = ServerProcess(db_url, tmp_path).start()
    try:
        define_demo(server.url)
        with ProcessPoolExecutor(WORKERS, mp_context=multiprocessing.get_context("spawn")) as pool:
            outcomes = list(pool.map(load_worker, [server.url] * WORKERS, range(WORKERS), [posts] * WORKERS))
    finally:
        server.stop()
    statuses = [s for o in outcomes for s in o["statuses"]]
    assert len(statuses) == 2 * WORKERS * posts
    assert not [s for s in statuses if s >= 500]
    assert statuses.count(201) == WORKERS * posts and statuses.count(200) == WORKERS * posts
    assert count_results(db_url) == WORKERS * posts
    print(
        f"{kind}: {WORKERS} clients x {posts} posts x 2 sends: {len(statuses)} answers, "
        f"{statuses.count(201)} x 201, {statuses.count(200)} x 200, 0 x 5xx, {WORKERS * posts} rows"
    )


def test_kill_9_during_load_loses_no_acknowledged_write(tmp_path):
    db_url = database_url("sqlite", tmp_path)
    server = ServerProcess(db_url, tmp_path).start()
    define_demo(server.url)
    with ProcessPoolExecutor(WORKERS, mp_context=multiprocessing.get_context("spawn")) as pool:
        futures = [pool.submit(load_worker, server.url, w, POSTS, 3) for w in range(WORKERS)]
        deadline = time.monotonic() + 60
        # Each client may have one write stored but not yet answered when the kill lands: wait for WORKERS
        # rows more than the acknowledged writes the test asks for.
        while count_results(db_url) < WORKERS * POSTS // 3 + WORKERS and time.monotonic() < deadline:
            time.sleep(0.05)
        server.kill9()
        outcomes = [f.result() for f in futures]
    acked = {k: v for o in outcomes for k, v in o["acked"].items()}
    assert len(acked) >= WORKERS * POSTS // 3
    stored_at_kill = count_results(db_url)
    assert stored_at_kill < WORKERS * POSTS  # the kill landed mid-load
    print(f"kill -9 after {len(acked)} acknowledged writes ({stored_at_kill} rows on disk): all found after restart")
    restarted = ServerProcess(db_url, tmp_path, port=server.port).start()
    try:
        for result_id, (model, step, seed, score) in acked.items():
            r = requests.get(f"{restarted.url}/api/v1/results/{result_id}")
            assert r.status_code == 200, (result_id, r.text)
            got = r.json()
            assert (got["model"], got["step"], got["seed"], got["metrics"]["accuracy"]) == (model, step, seed, score)
    finally:
        restarted.stop()


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
def test_servers_starting_at_once_migrate_one_database(kind, tmp_path):
    db_url = database_url(kind, tmp_path)
    servers = [ServerProcess(db_url, tmp_path).launch() for _ in range(3)]
    try:
        for server in servers:
            server.wait_ready()
        for server in servers:  # each serves the one schema and catalog
            names = [b["name"] for b in requests.get(f"{server.url}/api/v1/benchmarks").json()]
            assert {"glue", "jglue", "klue"} <= set(names)
            define_demo(server.url)
    finally:
        for server in servers:
            server.stop()
    from alembic.script import ScriptDirectory
    from sqlalchemy import create_engine, text

    from claf.db.engine import MIGRATIONS

    head = ScriptDirectory(str(MIGRATIONS)).get_current_head()  # the newest revision shipped
    engine = create_engine(db_url)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all() == [head]
        assert conn.execute(text("SELECT count(*) FROM benchmarks")).scalar_one() == 4
    engine.dispose()
