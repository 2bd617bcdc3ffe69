"""``python -m claf report --benchmark klue --out report.html``: the benchmark page as one self-contained file.

The step charts carry their 95% interval bands; ``--replicas each`` gives every pre-training replica
(``MODEL-s<seed>``) its own row and line. ``--compare MODEL@STEP [--against random-init]`` adds the forest plot
of that comparison (``claf compare``'s numbers). ``--speed [--run ID]`` writes the speed page instead (a
latency run, the newest by default).

Reads the database (``--db``, default the local SQLite file) or a running server (``--server URL``).
"""

import os
import sys

from claf.commands.args import Flag, Spec, parse
from claf.commands.common import fail, guarded
from claf.extras import require

SPECS = {
    "": Spec(
        "python -m claf report",
        __doc__.split("\n\n")[0],
        (
            Flag("benchmark", "the benchmark's page", metavar="NAME"),
            Flag("speed", "the speed page (latency tables) instead", switch=True),
            Flag("run", "with --speed: the latency run's id (default newest)", type=int),
            Flag("out", "the HTML file to write", required=True, metavar="FILE"),
            Flag("db", "database URL (default: sqlite:///$CLAF_HOME/bench.sqlite)", metavar="URL"),
            Flag("server", "read from this server's REST API instead", metavar="URL"),
            Flag("step", "best, last or a step number", default="best"),
            Flag("seeds", "how seeds combine", default="median", choices=("median", "mean")),
            Flag("group_by", "model option that colours the chart lines", metavar="OPTION"),
            Flag(
                "replicas",
                "one row per model over its replicas, or one per replica",
                default="combined",
                choices=("combined", "each"),
            ),
            Flag("compare", "add the forest plot of this model against --against", metavar="MODEL[@STEP]"),
            Flag("against", "with --compare: the other side", default="random-init", metavar="MODEL[@STEP]"),
        ),
        one_of=("benchmark", "speed"),
    )
}


def main(argv: list[str] | None = None) -> int:
    args = parse(SPECS[""], argv)

    def run() -> int:
        require("server", "claf report")
        from claf.atomic import atomic_write_text
        from claf.server.dashboard import render_benchmark, render_speed

        if args.speed:
            data = _speed_from_server(args) if args.server else _speed_from_db(args)
        else:
            data = _from_server(args) if args.server else _from_db(args)
        if isinstance(data, int):
            return data
        render = render_speed if args.speed else render_benchmark
        atomic_write_text(args.out, render(data, inline=True))
        os.chmod(args.out, 0o644)
        print(f"wrote {args.out}", file=sys.stderr)
        return 0

    return guarded(run)


def _from_db(args):
    from claf.db.engine import open_engine, session_factory
    from claf.results.catalog import migrate
    from claf.server.dashboard import page_data

    engine = open_engine(args.db)
    migrate(engine)
    pair = (args.compare, args.against) if args.compare else None
    with session_factory(engine)() as session:
        try:
            return page_data(session, args.benchmark, args.step, args.seeds, args.group_by, args.replicas, pair)
        except ValueError as e:  # a target that is not MODEL[@STEP]
            return fail(str(e), 1)


def _speed_from_db(args):
    from claf.db.engine import open_engine, session_factory
    from claf.results.catalog import migrate
    from claf.server.dashboard import speed_data

    engine = open_engine(args.db)
    migrate(engine)
    with session_factory(engine)() as session:
        return speed_data(session, args.run)


def _speed_from_server(args):
    from claf.latency.reports import appendix
    from claf.results.client import BenchClient, ServerUnreachable

    client = BenchClient(args.server)
    try:
        status, runs = client.get("/latency")
        if status != 200:
            return fail(f"{args.server}: HTTP {status}: {runs}", 1)
        run_id = args.run if args.run is not None else (runs[0]["id"] if runs else None)
        table = None
        if run_id is not None:
            status, run = client.get(f"/latency/{run_id}")
            if status != 200:
                return fail(f"{args.server}: HTTP {status}: {run}", 1)
            table = appendix(run)
    except ServerUnreachable as e:
        return fail(str(e), 1)
    return {"runs": runs, "table": table, "benchmarks": []}


def _from_server(args):
    from claf.results.client import BenchClient, ServerUnreachable
    from claf.server.dashboard import with_table

    client = BenchClient(args.server)
    name = args.benchmark
    try:
        status, table = client.get(
            f"/benchmarks/{name}/table", step=args.step, seeds=args.seeds, replicas=args.replicas
        )
        if status != 200:
            return fail(f"{args.server}: HTTP {status}: {table}", 1)
        series = {}
        for col in table["columns"]:
            if col["key"] != "average":
                params = {"group_by": args.group_by} if args.group_by else {}
                path = f"/benchmarks/{name}/tasks/{col['key']}/series"
                series[col["key"]] = client.get(path, replicas=args.replicas, **params)[1]
        benchmarks = [b["name"] for b in client.get("/benchmarks")[1]]
        comparison = None
        if args.compare:
            status, comparison = client.get("/compare", a=args.compare, b=args.against, benchmark=name)
            if status != 200:
                return fail(f"{args.server}: HTTP {status}: {comparison}", 1)
    except ServerUnreachable as e:
        return fail(str(e), 1)
    return with_table(table, series, benchmarks, args.group_by, comparison)
