"""Talk to the benchmark server over REST, with a local outbox so that no result is ever lost.

    client = BenchClient("http://127.0.0.1:8765")          # token from CLAF_SERVER_TOKEN
    client.post_result(payload)                             # -> (status, body); raises ServerUnreachable
    post_run_folder("logs/klue/nsmc_bert")                  # training's hook: never raises on network
                                                            # errors or refusals; queues to the outbox
    flush_outbox()                                          # retry what is queued

Every call is retried with exponential backoff (honouring ``Retry-After``) while the server is
unreachable or answers 502/503/504 (its database restarting), for ``retry_s`` seconds in all; every
write the server takes is idempotent (a key per result, job and notice), so a retry never doubles one.

The server URL comes from the argument, the config's ``benchmark.server``, or ``CLAF_SERVER_URL``.
The outbox is ``$CLAF_HOME/outbox/`` (one JSON file per pending post, written atomically).
"""

import json
import logging
import os
import time
from pathlib import Path

import requests

from claf.atomic import atomic_write_text
from claf.paths import user_dir
from claf.results.digest import sha256_of

logger = logging.getLogger(__name__)
API = "/api/v1"
RETRY_STATUSES = (502, 503, 504)
MAX_DELAY = 8.0


class ServerUnreachable(Exception):
    """The server did not answer (down, refused connection, timeout)."""


class BenchClient:
    """A thin REST client. Writes send ``Authorization: Bearer <token>``. ``retries`` counts the
    calls sent again (after a connection error or a 502/503/504)."""

    def __init__(self, url: str, token: str | None = None, timeout: float = 10.0, retry_s: float = 5.0):
        self.url = url.rstrip("/")
        self.token = token if token is not None else local_token()
        self.timeout, self.retry_s = timeout, retry_s
        self.http = requests.Session()
        self.retries = 0

    def _call(self, method: str, path: str, body=None, params=None, retry_s: float | None = None):
        """-> (status, body): retried while the server is away or unavailable, ``retry_s`` seconds at most."""
        deadline = time.monotonic() + (self.retry_s if retry_s is None else retry_s)
        delay = 0.25
        while True:
            try:
                status, data, wait = self._once(method, path, body, params)
            except ServerUnreachable:
                if time.monotonic() + delay > deadline:
                    raise
                wait = delay
            else:
                if status not in RETRY_STATUSES or time.monotonic() + delay > deadline:
                    return status, data
                wait = max(delay, min(wait or 0.0, MAX_DELAY))
            time.sleep(max(0.0, min(wait, deadline - time.monotonic())))
            self.retries += 1
            delay = min(2 * delay, MAX_DELAY)

    def _once(self, method: str, path: str, body, params) -> tuple[int, object, float | None]:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        try:
            r = self.http.request(
                method, f"{self.url}{API}{path}", json=body, params=params, headers=headers, timeout=self.timeout
            )
        except requests.RequestException as e:
            raise ServerUnreachable(f"{self.url}: {type(e).__name__}: {e}") from None
        after = r.headers.get("retry-after", "")
        wait = float(after) if after.replace(".", "", 1).isdigit() else None
        try:
            return r.status_code, r.json(), wait
        except ValueError:
            return r.status_code, r.text, wait

    def post_result(self, payload: dict) -> tuple[int, object]:
        return self._call("POST", "/results", payload)

    def post_checkpoint(self, payload: dict) -> tuple[int, object]:
        return self._call("POST", "/checkpoints", payload)

    def post_vocab(self, rows: list[dict]) -> tuple[int, object]:
        return self._call("POST", "/vocab", rows)

    def post_latency(self, report: dict) -> tuple[int, object]:
        return self._call("POST", "/latency", report)

    def put_benchmark(self, spec: dict) -> tuple[int, object]:
        return self._call("PUT", f"/benchmarks/{spec['name']}", spec)

    def get(self, path: str, **params) -> tuple[int, object]:
        return self._call("GET", path, params=params or None)


def local_token() -> str | None:
    """``CLAF_SERVER_TOKEN``, else the token a local server made in ``$CLAF_HOME/server_token``."""
    token = os.environ.get("CLAF_SERVER_TOKEN")
    if token:
        return token
    path = user_dir() / "server_token"
    try:
        return path.read_text(encoding="utf-8").strip() or None
    except OSError:
        return None


def server_url(config: dict | None = None, url: str | None = None) -> str | None:
    """The configured server: ``url``, else the config's ``benchmark.server``, else ``CLAF_SERVER_URL``."""
    block = (config or {}).get("benchmark") or {}
    return url or block.get("server") or os.environ.get("CLAF_SERVER_URL") or None


def outbox_dir() -> Path:
    return user_dir() / "outbox"


def _queue(url: str, kind: str, payload, reason: str) -> Path:
    path = outbox_dir() / f"{kind}-{sha256_of(payload)[:24]}.json"
    atomic_write_text(
        path, json.dumps({"server": url, "kind": kind, "payload": payload, "reason": reason}, ensure_ascii=False)
    )
    return path


def send(url: str, kind: str, payload, client: BenchClient | None = None) -> tuple[bool, str]:
    """Post one payload; on anything but success it goes to the outbox -> (delivered, message)."""
    client = client or BenchClient(url)
    call = {"result": client.post_result, "checkpoint": client.post_checkpoint, "vocab": client.post_vocab}[kind]
    try:
        status, body = call(payload)
    except ServerUnreachable as e:
        path = _queue(url, kind, payload, str(e))
        return False, f"server unreachable ({e}); queued in {path}"
    if 200 <= status < 300:
        return True, f"{kind} stored ({status}): {body}"
    path = _queue(url, kind, payload, f"HTTP {status}: {body}")
    return False, f"server refused the {kind} (HTTP {status}: {body}); queued in {path}"


def flush_outbox(url: str | None = None) -> tuple[int, int]:
    """Retry every queued post (to ``url`` or the server it was meant for) -> (delivered, still queued)."""
    delivered = left = 0
    for path in sorted(outbox_dir().glob("*.json")):
        try:
            item = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            left += 1
            continue
        ok, message = send(url or item["server"], item["kind"], item["payload"])
        if ok:
            path.unlink(missing_ok=True)
            delivered += 1
        else:
            left += 1
            logger.warning("outbox %s: %s", path.name, message)
    return delivered, left


def post_run_folder(log_dir, server_url_: str | None = None, config: dict | None = None) -> bool:
    """Post a finished run folder (fine-tuning result, or a pre-training run's checkpoints).

    Never raises for network errors or refusals: what is not delivered waits in the outbox and is
    retried by the next call, ``flush_outbox()`` or ``python -m claf results push``. Returns True when
    everything was delivered; False when nothing is configured or something was queued.
    """
    try:
        return _post_run_folder(log_dir, server_url_, config)
    except Exception as e:  # training never fails because of the benchmark server
        logger.warning("benchmark server: could not post %s: %s: %s", log_dir, type(e).__name__, e)
        return False


def _post_run_folder(log_dir, server_url_, config) -> bool:
    from claf.results.run_payloads import checkpoint_payloads, is_pretrain_folder, result_payload

    if config is None:
        try:
            config = json.loads((Path(log_dir) / "config.json").read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            config = {}
    url = server_url(config, server_url_)
    if not url:
        return False
    try:
        flush_outbox()
    except Exception as e:  # a broken outbox must not stop this run's post
        logger.warning("outbox flush failed: %s", e)
    if is_pretrain_folder(log_dir):
        items = [("checkpoint", p) for p in checkpoint_payloads(log_dir)]
    else:
        items = [("result", result_payload(log_dir))]
    all_ok = True
    for kind, payload in items:
        ok, message = send(url, kind, payload)
        (logger.info if ok else logger.warning)("benchmark server: %s", message)
        all_ok &= ok
    return all_ok
