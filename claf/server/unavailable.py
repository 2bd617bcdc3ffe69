"""503 while the database is away: a lost connection, a restarting PostgreSQL, a locked SQLite file.

The engine checks a pooled connection before use (``pool_pre_ping``), so once the database is back
the next request succeeds without restarting the server. Until then every request that touches the
database gets ``503`` with ``Retry-After`` and a one-line reason, never a 500 with a traceback; the
clients (``claf.results.client``) retry with backoff.
"""

import logging

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

logger = logging.getLogger(__name__)
RETRY_AFTER_S = 2


def is_unavailable(exc: BaseException) -> bool:
    """A fault of the connection or the server (retry later), not of the request."""
    if isinstance(exc, (OperationalError, InterfaceError, PoolTimeout)):
        return True
    return isinstance(exc, DBAPIError) and bool(exc.connection_invalidated)


def unavailable(exc: BaseException) -> JSONResponse:
    reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0][:200] if str(exc).strip() else ""
    return JSONResponse(
        {"detail": f"the database is unavailable ({type(exc).__name__}: {reason}); retry later"},
        status_code=503,
        headers={"Retry-After": str(RETRY_AFTER_S)},
    )


def add_database_guard(app: FastAPI) -> None:
    @app.exception_handler(DBAPIError)
    async def _dbapi(_request, exc: DBAPIError):
        if is_unavailable(exc):
            logger.warning("database unavailable: %s", str(exc).splitlines()[0][:300])
            return unavailable(exc)
        logger.error("database error: %s", exc, exc_info=exc)
        return JSONResponse({"detail": f"database error: {type(exc).__name__}"}, status_code=500)

    @app.exception_handler(PoolTimeout)
    async def _pool(_request, exc: PoolTimeout):
        logger.warning("database pool timeout: %s", exc)
        return unavailable(exc)
