"""Slack notifications through the outbox, against a real webhook receiver on 127.0.0.1 that answers
200, 429 with Retry-After, 500, or hangs."""

import http.server
import json
import logging
import threading
import time

import pytest

from claf.db.engine import migrate, open_engine, session_factory, write_session
from claf.notify import slack as notify

CHANNEL = "CLAF_TEST_SLACK_WEBHOOK"


class Receiver:
    """Answers each POST with the next scripted reply ("200", "500", "hang", ("429", seconds)); then 200."""

    def __init__(self):
        self.script, self.requests = [], []
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                receiver.requests.append((time.time(), body))
                reply = receiver.script.pop(0) if receiver.script else "200"
                if reply == "hang":
                    time.sleep(3)
                    return
                code, headers = (429, {"Retry-After": str(reply[1])}) if isinstance(reply, tuple) else (int(reply), {})
                self.send_response(code)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(b"ok" if code == 200 else b"error")

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/services/T000/B000/secret-token"
        threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def slack(monkeypatch):
    receiver = Receiver()
    monkeypatch.setenv(CHANNEL, receiver.url)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    yield receiver
    receiver.close()


def outbox(path):
    engine = open_engine(f"sqlite:///{path}")
    migrate(engine)  # the schema only: no catalog
    return session_factory(engine)


def put(sessions, key, text="hello"):
    with write_session(sessions) as s:
        return notify.queue(s, key, CHANNEL, {"text": text, "blocks": [notify._section(text)]})


def states(sessions):
    with sessions() as s:
        return {n["dedupe_key"]: n for n in notify.pending(s)}


def test_rate_limit_and_retry_after(tmp_path, slack, monkeypatch):
    sessions = outbox(tmp_path / "bench.sqlite")
    for i in range(3):
        put(sessions, f"m{i}", f"message {i}")
    slack.script = ["200", ("429", 2), "200", "200"]
    # the pacing rule is about when the notifier sends: record each real POST's start (the receiver's arrival
    # times shrink a gap whenever a loaded machine delays one request more than the next)
    sends, post = [], notify.post_webhook

    def timed_post(*args, **kwargs):
        sends.append(time.time())
        return post(*args, **kwargs)

    monkeypatch.setattr(notify, "post_webhook", timed_post)
    # a generous timeout and deadline: the local stub answers at once, and a loaded machine must not turn a slow
    # answer into a failed attempt; the spacing checks below are lower bounds, which load cannot break
    sent = notify.Notifier(sessions, min_interval=1.0, timeout=30).deliver(deadline=time.time() + 120)
    assert sent == 3
    assert [b["text"] for _, b in slack.requests] == ["message 0", "message 1", "message 1", "message 2"]
    assert len(sends) == 4 and all(b - a >= 0.99 for a, b in zip(sends, sends[1:]))  # at most one per second
    assert sends[2] - sends[1] >= 2.0  # Retry-After honoured
    assert {k: v["state"] for k, v in states(sessions).items()} == {"m0": "sent", "m1": "sent", "m2": "sent"}
    assert states(sessions)["m1"]["attempts"] == 0  # a 429 is a wait, not a failed attempt


def test_500_and_hang_are_retried_and_never_block(tmp_path, slack, caplog):
    sessions = outbox(tmp_path / "bench.sqlite")
    put(sessions, "a")
    slack.script = ["500", "hang", "200"]
    notifier = notify.Notifier(sessions, min_interval=0.1, timeout=1, backoff=(0.2, 0.2))
    caplog.set_level(logging.DEBUG)
    assert notifier.deliver() == 0  # nothing due after the 500: returns without waiting out the backoff
    assert states(sessions)["a"]["state"] == "pending" and len(slack.requests) == 1
    assert notifier.deliver(deadline=time.time() + 10) == 1  # hang (timeout), then 200
    row = states(sessions)["a"]
    assert row["state"] == "sent" and row["attempts"] == 2 and len(slack.requests) == 3
    assert slack.url not in caplog.text and "secret-token" not in json.dumps(states(sessions))


def test_dedupe_across_restart(tmp_path, slack):
    db = tmp_path / "bench.sqlite"
    first = outbox(db)
    assert put(first, "suite:r:abc") and not put(first, "suite:r:abc")
    assert notify.Notifier(first, min_interval=0).deliver() == 1
    second = outbox(db)  # a new process: new engine, same database
    assert not put(second, "suite:r:abc")
    assert notify.Notifier(second, min_interval=0).deliver() == 0
    assert len(slack.requests) == 1


def test_unset_webhook_and_refused_message(tmp_path, slack, monkeypatch):
    sessions = outbox(tmp_path / "bench.sqlite")
    put(sessions, "x")
    monkeypatch.delenv(CHANNEL)
    assert notify.Notifier(sessions).deliver() == 0
    assert "is not set" in states(sessions)["x"]["last_error"] and not slack.requests
    monkeypatch.setenv(CHANNEL, slack.url)
    put(sessions, "y")
    slack.script = ["400"]
    assert notify.Notifier(sessions, min_interval=0).deliver() == 0
    assert states(sessions)["y"]["state"] == "dropped"  # Slack refuses it for good: not retried forever


def test_message_contents_fit_slack_limits(tmp_path, slack):
    tasks = [
        {
            "task": f"task{i:02d}-" + "x" * 80,
            "score": 50.0 + i,
            "delta": 0.5 if i % 2 else -0.25,
            "best_so_far": i % 3 == 0,
            "failed": 0,
        }
        for i in range(120)
    ]
    summary = {
        "recipe": "r",
        "benchmark": "klue",
        "checkpoint": "larva-kor-tiny-4k" + "-long" * 40,
        "model": "larva-kor-tiny",
        "step": 4000,
        "previous": "larva-kor-tiny-2k",
        "tasks": tasks,
        "average": 109.5,
        "dashboard_url": "http://127.0.0.1:8765/benchmarks/klue",
    }
    message = notify.suite_message(summary)
    assert len(message["blocks"]) <= notify.MAX_BLOCKS and message["text"]
    for b in message["blocks"]:
        limit = notify.MAX_HEADER if b["type"] == "header" else notify.MAX_SECTION
        assert len(b["text"]["text"]) <= limit
    body = "\n".join(b["text"]["text"] for b in message["blocks"])
    assert "+0.50" in body and "-0.25" in body and "★ best so far" in body and "109.50" in body
    assert "dashboard" in body and "larva-kor-tiny-2k" in body
    small = notify.suite_message(dict(summary, tasks=tasks[:4], checkpoint="larva-kor-tiny-4k"))
    assert "larva-kor-tiny-4k" in small["text"] and "task00" in small["text"]
    published = notify.published_message("larva-kor-tiny-4k", 4000, 5 * 2**20, "s3://models/x.tar.gz", 16, "r")
    assert "5.0 MB" in published["text"] and "16" in published["text"]
    sessions = outbox(tmp_path / "bench.sqlite")
    with write_session(sessions) as s:
        notify.queue(s, "big", CHANNEL, message)
    assert notify.Notifier(sessions, min_interval=0).deliver() == 1
    got = slack.requests[0][1]
    assert got["text"] == message["text"] and len(got["blocks"]) == len(message["blocks"])
