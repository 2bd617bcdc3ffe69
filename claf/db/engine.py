"""Open the database and bring its schema up to date.

    engine = open_engine(url or default_url())   # SQLite (WAL) file or PostgreSQL URL
    migrate(engine, seed)                         # Alembic upgrade to head, then seed(session), safe
                                                  # when several servers start at once
                                                  # (claf.results.catalog.migrate seeds the catalog)
    Session = session_factory(engine)
    with write_session(Session) as s: ...         # one write transaction (SQLite: BEGIN IMMEDIATE)

The default database is ``bench.sqlite`` in ``claf.paths.user_dir()`` (``$CLAF_HOME``, else ``~/.cache/claf``).
Teams pass a PostgreSQL URL (``postgresql+psycopg://user:pass@host/db``).
"""

import contextlib
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session, sessionmaker

from claf.errors import UserError
from claf.paths import user_dir

MIGRATIONS = Path(__file__).parent / "migrations"
_LOCK_KEY = 741_852_963  # PostgreSQL advisory lock id for migrations


class DatabaseError(UserError):
    """The database URL is unusable (bad scheme, missing driver, unreachable server)."""


def default_url() -> str:
    """``sqlite:///$CLAF_HOME/bench.sqlite``."""
    return f"sqlite:///{user_dir() / 'bench.sqlite'}"


def open_engine(url: str | None = None) -> Engine:
    """An engine for ``url`` (default: the SQLite file under CLAF_HOME), tuned per dialect.

    SQLite: WAL journal, ``synchronous=NORMAL`` (an acknowledged commit survives a killed server),
    foreign keys on, a 30 s busy timeout; transactions are started by this module (see write_session).
    """
    url = url or default_url()
    try:
        parsed = make_url(url)
    except Exception as e:
        raise DatabaseError(
            f"--db '{url}' is not a database URL ({e}); use sqlite:///path or postgresql+psycopg://user:pass@host/db"
        ) from None
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url, connect_args={"timeout": 30, "check_same_thread": False}, pool_size=8, max_overflow=8
        )
        _tune_sqlite(engine)
        return engine
    if parsed.get_backend_name() != "postgresql":
        raise DatabaseError(f"--db '{url}': only sqlite:/// and postgresql+psycopg:// URLs are supported")
    try:
        return create_engine(url, pool_size=10, max_overflow=10, pool_pre_ping=True)
    except ModuleNotFoundError as e:
        raise DatabaseError(f"--db '{url}' needs the driver '{e.name}': pip install 'psycopg[binary]'") from None


def _tune_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _connect(dbapi_conn, _record):
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()

    @event.listens_for(engine, "begin")
    def _begin(conn):
        # A write transaction takes the write lock up front: no deadlock upgrading a read lock.
        conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get("write") else "BEGIN")


def session_factory(engine: Engine) -> sessionmaker:
    return sessionmaker(engine, expire_on_commit=False)


@contextlib.contextmanager
def write_session(factory: sessionmaker):
    """One write transaction: committed on success, rolled back on error."""
    with factory() as session:
        session.connection(execution_options={"write": True})
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


@contextlib.contextmanager
def _migration_lock(engine: Engine):
    """Serialise schema upgrades across processes: a file lock (SQLite) or an advisory lock (PostgreSQL)."""
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": _LOCK_KEY})
            conn.commit()
            try:
                yield
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _LOCK_KEY})
                conn.commit()
        return
    database = engine.url.database
    if not database or database == ":memory:":
        yield
        return
    import fcntl

    with open(f"{database}.migrate.lock", "a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def migrate(engine: Engine, seed: Callable[[Session], None] | None = None) -> None:
    """Upgrade the schema to the newest Alembic revision, then run ``seed(session)`` in one write
    transaction (e.g. the shipped catalog). Several processes may call it at once: one upgrades,
    the others wait."""
    import logging

    from alembic import command
    from alembic.config import Config

    logging.getLogger("alembic").setLevel(logging.WARNING)  # its per-plugin INFO lines are noise to a user
    with _migration_lock(engine):
        with engine.connect() as conn:
            cfg = Config()
            cfg.set_main_option("script_location", str(MIGRATIONS))
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")
            conn.commit()
        if seed is not None:
            with write_session(session_factory(engine)) as session:
                seed(session)


def head_revision() -> str:
    """The newest migration revision shipped with this package."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return ScriptDirectory.from_config(cfg).get_current_head()


__all__ = [
    "Session",
    "default_url",
    "open_engine",
    "migrate",
    "session_factory",
    "write_session",
    "head_revision",
    "DatabaseError",
]
