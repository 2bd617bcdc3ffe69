"""``python -m claf server [--db URL] [--host 127.0.0.1] [--port 8765] [--private]``: the benchmark server.

    server token create --scope worker --name gpu-node-3   a scoped token; its secret is printed once
    server token list                                      names, scopes, created, revoked (never a secret)
    server token revoke gpu-node-3                         refused by the server from the next request

The database is migrated at start (safe when several servers start at once). ``CLAF_SERVER_TOKEN`` is an
admin token (every scope); without one, a random one is made and kept in ``$CLAF_HOME/server_token``
(0600; clients on the same machine read it from there). Scopes: docs/server-tokens.md.
"""

import os
import secrets
import sys

from claf.commands.args import Arg, Flag, Spec, parse
from claf.commands.common import fail, guarded
from claf.extras import require

DB = Flag(
    "db",
    "database URL (default: sqlite:///$CLAF_HOME/bench.sqlite; PostgreSQL: postgresql+psycopg://user:pass@host/db)",
    metavar="URL",
)
SPECS = {
    "": Spec(
        "python -m claf server",
        __doc__.split("\n\n")[0] + "\n'python -m claf server token --help': create, list and revoke scoped tokens.",
        (
            DB,
            Flag("host", default="127.0.0.1"),
            Flag("port", type=int, default=8765),
            Flag("private", "reads need a token with the 'read' scope too", switch=True),
            Flag("log_level", "uvicorn's log level", default="info"),
        ),
    ),
    "token": Spec(
        "python -m claf server token",
        "Create, list or revoke the server's scoped tokens (in the database; the server need not run).",
        (
            Arg("action", "create, list or revoke"),
            Arg("target", "revoke: the token's name", nargs="?"),
            Flag("name", "create: the new token's name (letters, digits, '.', '-')"),
            Flag("scope", "create: read, write:results, worker or admin (repeatable, or comma-separated)", repeat=True),
            Flag("out", "create: write the secret to FILE (0600, atomic) instead of printing it", metavar="FILE"),
            DB,
        ),
    ),
}
ACTIONS = ("create", "list", "revoke")


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
        atomic_write_text(path, token + "\n", private=True)
    print(f"CLAF_SERVER_TOKEN is not set: the admin token is in {path}", file=sys.stderr)
    return token


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv and argv[0] == "token":
        return _token(parse(SPECS["token"], argv[1:]))
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


def _token(args) -> int:
    if args.action not in ACTIONS:
        return fail(f"python -m claf server token: unknown action '{args.action}'; one of {', '.join(ACTIONS)}", 2)
    require("server", "claf server token")

    def run() -> int:
        from claf.db.engine import open_engine, session_factory
        from claf.results.catalog import migrate
        from claf.server import tokens

        engine = open_engine(args.db)
        migrate(engine)
        sessions = session_factory(engine)
        if args.action == "list":
            with sessions() as s:
                rows = tokens.list_tokens(s)
            print(f"{'name':24} {'scopes':28} {'created':26} revoked")
            for r in rows:
                print(f"{r['name']:24} {','.join(r['scopes']):28} {r['created']:26} {r['revoked'] or '-'}")
            return 0
        if args.action == "revoke":
            name = args.target or args.name
            if not name:
                return fail("python -m claf server token revoke NAME: give the token's name", 2)
            row = tokens.revoke_token(sessions, name)
            print(f"revoked token '{row['name']}' ({','.join(row['scopes'])}) at {row['revoked']}")
            return 0
        if not args.name or not args.scope:
            return fail("python -m claf server token create: give --name NAME and --scope SCOPE", 2)
        secret = tokens.create_token(sessions, args.name, args.scope)
        if args.out:
            from claf.atomic import atomic_write_text

            atomic_write_text(args.out, secret + "\n", private=True)
            print(f"token '{args.name}' written to {args.out} (0600); it is not shown again", file=sys.stderr)
        else:
            print(secret)
            print(f"token '{args.name}': keep it now, it is not shown again", file=sys.stderr)
        return 0

    return guarded(run)
