"""``python -m claf server [--db URL] [--host 127.0.0.1] [--port 8765] [--private]``: the benchmark server.

The database is migrated at start (safe when several servers start at once). Writes need the token
in ``CLAF_SERVER_TOKEN``; without one, a random token is made and kept in ``$CLAF_HOME/server_token``
(clients on the same machine read it from there).
"""

import os
import secrets
import sys

from claf.commands.args import Flag, Spec, parse
from claf.commands.common import guarded
from claf.extras import require

SPECS = {
    "": Spec(
        "python -m claf server",
        __doc__.split("\n\n")[0],
        (
            Flag(
                "db",
                "database URL (default: sqlite:///$CLAF_HOME/bench.sqlite; "
                "PostgreSQL: postgresql+psycopg://user:pass@host/db)",
                metavar="URL",
            ),
            Flag("host", default="127.0.0.1"),
            Flag("port", type=int, default=8765),
            Flag("private", "reads need the token too", switch=True),
            Flag("log_level", "uvicorn's log level", default="info"),
        ),
    )
}


def server_token() -> str:
    token = os.environ.get("CLAF_SERVER_TOKEN")
    if token:
        return token
    from claf.atomic import atomic_write_text
    from claf.paths import user_dir

    path = user_dir() / "server_token"
    if path.is_file() and path.read_text().strip():
        token = path.read_text().strip()
    else:
        token = secrets.token_urlsafe(24)
        atomic_write_text(path, token + "\n")
        path.chmod(0o600)
    print(f"CLAF_SERVER_TOKEN is not set: writes need the token in {path}", file=sys.stderr)
    return token


def main(argv: list[str] | None = None) -> int:
    args = parse(SPECS[""], argv)

    def run() -> int:
        from claf.config.specs import build_spec

        given = {k: v for k, v in vars(args).items() if k in ("db", "host", "port", "private", "log_level")}
        settings = build_spec("server", given, source="the command line")  # checked before anything starts
        require("server", "claf server")
        import uvicorn

        from claf.db.engine import default_url
        from claf.server.app import create_app

        app = create_app(settings.db, token=server_token(), private=settings.private)
        print(
            f"benchmark server on http://{settings.host}:{settings.port}/ (database: {settings.db or default_url()})",
            file=sys.stderr,
        )
        uvicorn.run(app, host=settings.host, port=settings.port, log_level=settings.log_level)
        return 0

    return guarded(run)
