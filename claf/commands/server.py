"""``python -m claf server [--db URL] [--host 127.0.0.1] [--port 8765] [--private]``: the benchmark server.

The database is migrated at start (safe when several servers start at once). Writes need the token
in ``CLAF_SERVER_TOKEN``; without one, a random token is made and kept in ``$CLAF_HOME/server_token``
(clients on the same machine read it from there).
"""

import argparse
import os
import secrets
import sys

from claf.commands.common import guarded
from claf.extras import require


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
    parser = argparse.ArgumentParser(prog="python -m claf server", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--db",
        default=None,
        help="database URL (default: sqlite:///$CLAF_HOME/bench.sqlite; "
        "PostgreSQL: postgresql+psycopg://user:pass@host/db)",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--private", action="store_true", help="reads need the token too")
    parser.add_argument("--log-level", default="info")
    args = parser.parse_args(argv)

    def run() -> int:
        require("server", "claf server")
        import uvicorn

        from claf.db.engine import default_url
        from claf.server.app import create_app

        app = create_app(args.db, token=server_token(), private=args.private)
        print(
            f"benchmark server on http://{args.host}:{args.port}/ (database: {args.db or default_url()})",
            file=sys.stderr,
        )
        uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level)
        return 0

    return guarded(run)
