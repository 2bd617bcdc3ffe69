"""The server's API tokens in the database: each has a name, its scopes and the sha256 of its secret.

    secret = create_token(sessions, "gpu-node-3", ["worker"])   # shown once; only its sha256 is kept
    list_tokens(session)                                         # names, scopes, created, revoked
    revoke_token(sessions, "gpu-node-3")                         # refused from the next request on
    find_token(sessions, secret)                                 # -> {"name", "scopes"} or None

Scopes: ``read`` (reads of a ``--private`` server), ``write:results`` (results, checkpoints, vocab and
latency rows), ``worker`` (claim, heartbeat and finish jobs) and ``admin`` (benchmarks, the catalog,
the queue's jobs and notices, tokens; it holds every other scope too).
"""

import hashlib
import hmac
import re
import secrets
from datetime import datetime, timezone

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from claf.db.engine import write_session
from claf.db.tables import ApiToken
from claf.errors import UserError
from claf.results.store import NotFound

READ, WRITE_RESULTS, WORKER, ADMIN = "read", "write:results", "worker", "admin"
SCOPES = (READ, WRITE_RESULTS, WORKER, ADMIN)
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.-]{0,99}$")
PREFIX = "claf_"


class TokenError(UserError, ValueError):
    """A token name or scope the server does not take, or a name that exists (or does not)."""


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def check_scopes(scopes) -> list[str]:
    wanted = [s.strip() for item in scopes for s in str(item).split(",") if s.strip()]
    if not wanted:
        raise TokenError(f"scopes: give at least one of {', '.join(SCOPES)}")
    unknown = [s for s in wanted if s not in SCOPES]
    if unknown:
        raise TokenError(f"scopes: unknown scope '{unknown[0]}'; one of {', '.join(SCOPES)}")
    return sorted(set(wanted), key=SCOPES.index)


def check_name(name: str) -> str:
    if not isinstance(name, str) or not NAME.match(name):
        raise TokenError(f"name: '{name}' is not a token name (letters, digits, '.' and '-', at most 100)")
    return name


def create_token(sessions: sessionmaker, name: str, scopes) -> str:
    """A new token -> its secret (256 random bits). Only the sha256 is stored, so this is the one
    time it can be read. A name that exists, revoked or not, is refused."""
    name, scopes = check_name(name), check_scopes(scopes)
    secret = PREFIX + secrets.token_urlsafe(32)
    try:
        with write_session(sessions) as s:
            if s.scalar(select(ApiToken.id).where(ApiToken.name == name)) is not None:
                raise TokenError(f"name: a token named '{name}' exists; revoke it and pick another name")
            s.add(ApiToken(name=name, scopes=scopes, secret_sha256=digest(secret)))
    except IntegrityError:  # created by someone else at the same moment
        raise TokenError(f"name: a token named '{name}' exists; revoke it and pick another name") from None
    return secret


def as_dict(row: ApiToken) -> dict:
    return {
        "name": row.name,
        "scopes": list(row.scopes),
        "created": _iso(row.created_at),
        "revoked": _iso(row.revoked_at),
    }


def _iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)).isoformat(timespec="seconds")


def list_tokens(session: Session) -> list[dict]:
    return [as_dict(row) for row in session.scalars(select(ApiToken).order_by(ApiToken.name))]


def revoke_token(sessions: sessionmaker, name: str) -> dict:
    """Revoke a token by name -> its row; a token revoked before keeps its first revocation time."""
    with write_session(sessions) as s:
        row = s.scalar(select(ApiToken).where(ApiToken.name == name))
        if row is None:
            known = ", ".join(s.scalars(select(ApiToken.name).order_by(ApiToken.name))) or "none"
            raise NotFound(f"name: no token named '{name}'; tokens: {known}")
        if row.revoked_at is None:
            row.revoked_at = datetime.now(timezone.utc)
        s.flush()
        return as_dict(row)


def find_token(sessions: sessionmaker, secret: str) -> dict | None:
    """The live token whose secret this is -> {"name", "scopes"}; None when unknown or revoked.

    The row is looked up by the secret's sha256 (so the index never compares the secret itself) and
    the stored hash is then compared in constant time. Nothing is cached: a revocation holds from the
    next request on."""
    wanted = digest(secret)
    with sessions() as s:
        row = s.scalar(select(ApiToken).where(ApiToken.secret_sha256 == wanted))
        if row is None or not hmac.compare_digest(row.secret_sha256, wanted) or row.revoked_at is not None:
            return None
        return {"name": row.name, "scopes": list(row.scopes)}
