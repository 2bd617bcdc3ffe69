"""Slack notifications through a durable outbox (a table of the benchmark database).

    queue(session, dedupe_key, channel, message)  # in the caller's transaction; a known key is ignored
    Notifier(sessions).deliver()                   # send what is due: <= 1 message/s per webhook,
                                                   # 429 Retry-After honoured, 5xx/timeouts retried later

A ``channel`` is the NAME of the environment variable that holds the incoming-webhook URL (default
``CLAF_SLACK_WEBHOOK_URL``); the URL itself is read only when sending and never stored, logged or
returned. Delivery never raises: a Slack outage leaves messages pending for the next ``deliver()``.
A message is marked sent in the same step that sends it; a process killed between Slack's 200 and
that commit is the only way a message can go out twice.
"""

import logging
import os
import threading
import time

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from claf.db.tables import Notice

logger = logging.getLogger(__name__)
DEFAULT_CHANNEL = "CLAF_SLACK_WEBHOOK_URL"
MAX_BLOCKS, MAX_SECTION, MAX_HEADER, MAX_TEXT = 50, 3000, 150, 4000
BACKOFF = (5, 15, 60, 300, 900)


def queue(session: Session, dedupe_key: str, channel: str, message: dict) -> bool:
    """Add a message unless its dedupe key is known -> added."""
    key = dedupe_key[:200]
    if session.scalar(select(Notice.id).where(Notice.dedupe_key == key)) is not None:
        return False
    session.add(Notice(dedupe_key=key, channel=channel, message=fit(message)))
    session.flush()
    return True


# ---- messages -------------------------------------------------------------------------------------
def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def fit(message: dict) -> dict:
    """Keep a message inside Slack's limits: text fallback, <= 50 blocks, section/header text lengths."""
    blocks = []
    for b in (message.get("blocks") or [])[:MAX_BLOCKS]:
        b = dict(b)
        if b.get("type") == "header":
            b["text"] = dict(b["text"], text=_cut(b["text"]["text"], MAX_HEADER))
        elif b.get("type") == "section" and "text" in b:
            b["text"] = dict(b["text"], text=_cut(b["text"]["text"], MAX_SECTION))
        blocks.append(b)
    return {"text": _cut(message.get("text") or "claf factory", MAX_TEXT), "blocks": blocks}


def _section(text: str) -> dict:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def _header(text: str) -> dict:
    return {"type": "header", "text": {"type": "plain_text", "text": text}}


def published_message(name: str, step: int, size: int | None, url: str, queued: int, recipe: str) -> dict:
    mb = f"{size / 2**20:.1f} MB" if size else "size unknown"
    text = f"Checkpoint {name} published (step {step:,}, {mb}): {queued} fine-tuning jobs queued by {recipe}"
    return fit(
        {
            "text": text,
            "blocks": [
                _header(f"Checkpoint published: {name}"),
                _section(f"*step* {step:,} · *size* {mb}\n*store* `{url}`\n*jobs queued* {queued} ({recipe})"),
            ],
        }
    )


def _interval(low, high) -> str:
    return "" if low is None else f" [{low:.2f}, {high:.2f}]"


def _standing(t: dict) -> str:
    """The dashboard's rule: best only when the runner-up's interval is told apart."""
    if t.get("best_so_far"):
        return f" ★ best so far (beats {t['runner_up']})" if t.get("runner_up") else " ★ best so far"
    if t.get("tied_best"):
        return f" = tied for best with {t['runner_up']} (no detectable difference)"
    if t.get("highest_so_far") and t.get("runner_up"):
        return " ↑ highest so far (one run: no interval)"
    return ""


def task_line(t: dict) -> str:
    """``• *nsmc*: 81.76 [81.20, 82.31] (3 runs); vs previous +0.70 [-0.20, 1.52], no detectable difference``"""
    if t["score"] is None:
        return f"• *{t['task']}*: failed"
    runs = f" ({t['n'][1]} runs)" if t.get("n") else ""
    line = f"• *{t['task']}*: {t['score']:.2f}{_interval(*(t.get('interval') or (None, None)))}{runs}"
    if t["delta"] is not None:
        line += f"; vs previous {t['delta']:+.2f}"
        if t.get("delta_verdict"):
            line += f"{_interval(t['delta_low'], t['delta_high'])}, {t['delta_verdict']}"
        else:
            line += " (one run: no interval)"
    return line + _standing(t)


def suite_message(s: dict) -> dict:
    avg = "n/a" if s["average"] is None else f"{s['average']:.2f}"
    vs = f" vs {s['previous']}" if s.get("previous") else ""
    text = f"{s['checkpoint']} finished the {s['recipe']} suite: average {avg}; " + ", ".join(
        f"{t['task']} {'failed' if t['score'] is None else format(t['score'], '.2f')}" for t in s["tasks"]
    )
    lines = [task_line(t) for t in s["tasks"]]
    blocks = [
        _header(f"Suite complete: {s['checkpoint']}"),
        _section(f"*{s['benchmark']}* · step {s['step']:,} · deltas{vs or ' (no earlier checkpoint)'}"),
    ]
    chunk: list[str] = []
    for line in lines:  # one section per ~2,900 characters of task lines
        if sum(len(x) + 1 for x in chunk) + len(line) > MAX_SECTION - 100 and chunk:
            blocks.append(_section("\n".join(chunk)))
            chunk = []
        chunk.append(line)
    if chunk:
        blocks.append(_section("\n".join(chunk)))
    blocks.append(_section(f"*average* {avg}"))
    if s.get("dashboard_url"):
        blocks.append(_section(f"<{s['dashboard_url']}|dashboard>"))
    if len(blocks) > MAX_BLOCKS:  # keep the header, the last blocks (average, link) and as many tasks as fit
        tail = blocks[-2:] if s.get("dashboard_url") else blocks[-1:]
        blocks = blocks[: MAX_BLOCKS - len(tail) - 1] + [_section("… more tasks in the dashboard")] + tail
    return fit({"text": text, "blocks": blocks})


def failure_message(job: dict) -> dict:
    text = (
        f"Job failed after {job['attempts']} attempts: {job['task']} on {job['checkpoint']} "
        f"(seed {job['seed']}): {job['error'][:300]}"
    )
    tail = (job.get("log_tail") or "")[-2500:]
    blocks = [
        _header(f"Job failed: {job['task']} on {job['checkpoint']}"),
        _section(
            f"*seed* {job['seed']} · *attempts* {job['attempts']} · *recipe* {job['recipe']}\n"
            f"*reason* {job['error'][:500]}"
        ),
    ]
    if tail:
        blocks.append(_section(f"```{tail}```"))
    return fit({"text": text, "blocks": blocks})


# ---- delivery -------------------------------------------------------------------------------------
class Notifier:
    """Sends due outbox messages. ``min_interval`` seconds between two messages to one webhook."""

    def __init__(self, sessions: sessionmaker, min_interval: float = 1.0, timeout: float = 5.0, backoff=BACKOFF):
        self.sessions, self.min_interval, self.timeout, self.backoff = sessions, min_interval, timeout, tuple(backoff)
        self._last_sent: dict[str, float] = {}
        self._blocked_until: dict[str, float] = {}
        self._lock = threading.Lock()

    def deliver(self, deadline: float | None = None) -> int:
        """Send what is due -> messages sent. Without ``deadline`` (epoch seconds) it returns when nothing is
        due now; with one it also waits for retries due before it. Never raises."""
        with self._lock:
            try:
                return self._deliver(deadline)
            except Exception as e:  # the factory never fails because of Slack or the outbox
                logger.warning("notifications: delivery stopped: %s", type(e).__name__)
                return 0

    def _deliver(self, deadline: float | None) -> int:
        sent = 0
        while deadline is None or time.time() < deadline:
            now = time.time()
            with self.sessions() as session:
                due = session.scalars(
                    select(Notice).where(Notice.state == "pending", Notice.next_attempt_at <= now).order_by(Notice.id)
                ).all()
            due = [n for n in due if self._blocked_until.get(n.channel, 0) <= now]
            if not due:
                later = self._next_due()
                if deadline is None or later is None or later >= deadline:
                    return sent
                time.sleep(max(0.05, later - time.time()))
                continue
            notice = due[0]
            wait = self._last_sent.get(notice.channel, 0) + self.min_interval - time.time()
            if wait > 0:
                if deadline is not None and time.time() + wait > deadline:
                    return sent
                time.sleep(wait)
            sent += self._send_one(notice)
        return sent

    def _next_due(self) -> float | None:
        with self.sessions() as session:
            rows = session.execute(
                select(Notice.channel, Notice.next_attempt_at).where(Notice.state == "pending")
            ).all()
        times = [max(t, self._blocked_until.get(c, 0)) for c, t in rows]
        return min(times) if times else None

    def _send_one(self, notice: Notice) -> int:
        url = os.environ.get(notice.channel, "")
        if not url:
            self._update(notice.id, error=f"${notice.channel} is not set", delay=self.backoff[-1])
            return 0
        self._last_sent[notice.channel] = time.time()
        status, retry_after, error = post_webhook(url, notice.message, self.timeout)
        if status == 200:
            self._update(notice.id, sent=True)
            logger.info("notification %s sent (webhook $%s)", notice.dedupe_key, notice.channel)
            return 1
        if status == 429:
            delay = retry_after if retry_after is not None else 30.0
            until = time.time() + delay  # the whole webhook waits; its messages keep their order
            self._blocked_until[notice.channel] = until
            self._update(notice.id, error=f"HTTP 429 (Retry-After {delay:g}s)", at=until, count=False)
        elif status is not None and 400 <= status < 500:  # Slack refuses this message for good
            self._update(notice.id, error=f"HTTP {status}: {error}", drop=True)
        else:
            self._update(
                notice.id,
                error=error or f"HTTP {status}",
                delay=self.backoff[min(notice.attempts, len(self.backoff) - 1)],
            )
        logger.warning(
            "notification %s not delivered (webhook $%s): %s", notice.dedupe_key, notice.channel, error or status
        )
        return 0

    def _update(self, notice_id: int, sent=False, error="", delay=0.0, drop=False, count=True, at=None) -> None:
        from claf.db.engine import write_session

        with write_session(self.sessions) as session:
            n = session.get(Notice, notice_id)
            if sent:
                n.state, n.sent_at, n.last_error = "sent", time.time(), ""
            else:
                n.last_error, n.attempts = error[:1000], n.attempts + (1 if count else 0)
                n.next_attempt_at = at if at is not None else time.time() + delay
                if drop:
                    n.state = "dropped"

    def run_in_background(self, stop: threading.Event, every: float = 1.0) -> threading.Thread:
        def loop():
            while not stop.wait(every):
                self.deliver(deadline=time.time() + 30)

        thread = threading.Thread(target=loop, name="claf-notifier", daemon=True)
        thread.start()
        return thread


def post_webhook(url: str, message: dict, timeout: float) -> tuple[int | None, float | None, str]:
    """POST one message with slack_sdk -> (status or None, Retry-After seconds, error without the URL)."""
    try:
        from slack_sdk.webhook import WebhookClient
    except ImportError:
        return None, None, "slack_sdk is not installed: pip install 'claf[factory]'"
    quiet = logging.getLogger("claf.notify.slack.sdk")
    quiet.setLevel(logging.WARNING)  # slack_sdk logs the URL at DEBUG
    client = WebhookClient(url, timeout=int(max(1, timeout)), logger=quiet, retry_handlers=[])
    try:
        response = client.send(text=message.get("text"), blocks=message.get("blocks") or None)
    except Exception as e:  # timeouts, refused connections: the message stays pending
        return None, None, _redact(f"{type(e).__name__}: {e}", url)
    retry = response.headers.get("Retry-After") or response.headers.get("retry-after")
    try:
        retry_after = float(retry) if retry is not None else None
    except ValueError:
        retry_after = None
    return response.status_code, retry_after, _redact(str(response.body)[:300], url)


def _redact(text: str, url: str) -> str:
    return text.replace(url, "<webhook>") if url else text


def pending(session: Session) -> list[dict]:
    """The outbox without secrets (for status output and the API)."""
    return [
        {
            "id": n.id,
            "dedupe_key": n.dedupe_key,
            "channel": n.channel,
            "state": n.state,
            "attempts": n.attempts,
            "last_error": n.last_error,
            "text": n.message.get("text"),
        }
        for n in session.scalars(select(Notice).order_by(Notice.id))
    ]
