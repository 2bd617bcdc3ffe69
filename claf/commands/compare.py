"""``python -m claf compare larva-kor-tiny@8k random-init --benchmark klue``: is A better than B?

Per task: the difference of the means, its 95% multi-bootstrap interval (replicas, fine-tuning seeds and
dev examples resampled jointly), P(A > B), n (replicas x seeds x examples) and a verdict: better, worse,
or no detectable difference (the interval crosses 0). A target is MODEL[@STEP]; its replicas are MODEL and
MODEL-s<seed>; ``random-init`` is the other model's random-init baseline. Reads the database (``--db``,
default the local SQLite file) or a running server (``--server URL``, ``GET /api/v1/compare``). ``--db-b``
reads B from a second database: the same checkpoints fine-tuned under another protocol (a head option).
Either flag given several times pools that side over those databases: a confirming run filed in a database
of its own is read with the first run (``--db first.db --db confirm.db``).
"""

import json
import sys
from contextlib import ExitStack

from claf.commands.args import Arg, Flag, Spec, parse
from claf.commands.common import fail, guarded
from claf.extras import require

SPECS = {
    "": Spec(
        "python -m claf compare",
        __doc__.split("\n\n")[0],
        (
            Arg("a", "MODEL[@STEP], e.g. larva-kor-tiny@8k"),
            Arg("b", "MODEL[@STEP], or random-init"),
            Flag("benchmark", "the benchmark whose tasks are compared", default="klue", metavar="NAME"),
            Flag(
                "db",
                "database URL (default: sqlite:///$CLAF_HOME/bench.sqlite); several: their results pooled",
                metavar="URL",
                repeat=True,
            ),
            Flag(
                "db_b",
                "read B from this database instead (the same tasks under another protocol); several: pooled",
                metavar="URL",
                repeat=True,
            ),
            Flag("server", "read from this server's REST API instead", metavar="URL"),
            Flag("draws", "bootstrap draws", type=int, default=1000),
            Flag("json", "print the comparison as JSON", switch=True),
        ),
    )
}


def main(argv: list[str] | None = None) -> int:
    args = parse(SPECS[""], argv)

    def run() -> int:
        from claf.results.compare import format_table

        if args.server and args.db_b:
            return fail("--db-b reads B from a database: give --db and --db-b, not --server", 2)
        report = _from_server(args) if args.server else _from_db(args)
        if isinstance(report, int):
            return report
        print(json.dumps(report, indent=2) if args.json else format_table(report))
        return 0

    return guarded(run)


def _from_db(args):
    require("server", "claf compare")
    from claf.db.engine import open_engine, session_factory
    from claf.results.catalog import migrate
    from claf.results.compare import compare_models
    from claf.results.store import NotFound

    engines_a = [open_engine(url) for url in args.db or [None]]
    engines_b = [open_engine(url) for url in args.db_b or []]
    for engine in engines_a + engines_b:
        migrate(engine)
    with ExitStack() as stack:
        sessions_a = [stack.enter_context(session_factory(e)()) for e in engines_a]
        sessions_b = [stack.enter_context(session_factory(e)()) for e in engines_b] or None
        try:
            report = compare_models(sessions_a, args.a, args.b, args.benchmark, B=args.draws, session_b=sessions_b)
        except (NotFound, ValueError) as e:
            return fail(str(e), 1)
    if args.db and len(args.db) > 1:
        report["a"]["db"] = args.db
    if args.db_b:
        report["b"]["db"] = args.db_b[0] if len(args.db_b) == 1 else args.db_b
    return report


def _from_server(args):
    from claf.results.client import BenchClient, ServerUnreachable

    client = BenchClient(args.server)
    try:
        status, body = client.get("/compare", a=args.a, b=args.b, benchmark=args.benchmark, draws=args.draws)
    except ServerUnreachable as e:
        return fail(str(e), 1)
    if status != 200:
        print(f"error: {args.server}: HTTP {status}: {body}", file=sys.stderr)
        return 1
    return body
