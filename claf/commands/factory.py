"""``python -m claf factory <run|watch|status|worker|notify> ...``: the evaluation factory.

factory run    --base_config factory/larva_kor_tiny_klue [--key value ...] [--db URL | --server URL]
               [--retry_failed]   (failed jobs queued again with fresh attempts, e.g. after a fix)
factory watch  --base_config factory/... [--interval S] [--max_polls N]   (also polls the model index)
factory status --base_config factory/... | --recipe NAME [--db URL | --server URL]
factory worker --server URL [--work_dir DIR] [--lease S] [--grace S] [--once]   (a pull worker; SIGTERM:
               checkpoint the running job within --grace seconds, release it to another worker, exit 0)
factory notify [--db URL]                                                 (deliver the Slack outbox)
"""

import json
import sys

from claf.commands.args import Flag, Spec, build, config_spec, dispatch, parse
from claf.commands.common import guarded, resolve_from_argv, setup_basic_logging, setup_logging
from claf.extras import require

PROG = "python -m claf factory"
STORE = (
    Flag("db", "the jobs database URL (default: sqlite:///$CLAF_HOME/bench.sqlite)", metavar="URL"),
    Flag("server", "use this benchmark server's REST API instead of a database", metavar="URL"),
)
SPECS = {
    "run": config_spec(
        f"{PROG} run",
        "Queue every checkpoint x task of a recipe and run the jobs.",
        *STORE,
        Flag("retry_failed", "queue the recipe's failed jobs again, with fresh attempts, before running", switch=True),
    ),
    "watch": config_spec(
        f"{PROG} watch",
        "Run, then poll for new checkpoints (also the model index) and run their jobs.",
        *STORE,
        Flag("interval", "seconds between polls", type=float, metavar="S"),
        Flag("max_polls", "stop after this many polls", type=int, metavar="N"),
    ),
    "status": config_spec(
        f"{PROG} status",
        "The recipe's jobs as a table (--recipe NAME: without its BaseConfig).",
        *STORE,
        Flag("recipe", "the recipe's name, instead of --base_config", metavar="NAME"),
        Flag("json", "print the jobs as JSON", switch=True),
    ),
    "worker": Spec(
        f"{PROG} worker",
        "Pull jobs from a benchmark server and run them.",
        (
            Flag("server", "the benchmark server it pulls jobs from", required=True, metavar="URL"),
            Flag("work_dir", "where jobs run (default: a folder under $CLAF_HOME)", metavar="DIR"),
            Flag("lease", "seconds a pulled job is held", type=float, default=120.0, metavar="S"),
            Flag("heartbeat", "seconds between lease renewals", type=float, default=10.0, metavar="S"),
            Flag("threads", "compute threads per job", type=int, metavar="N"),
            Flag("recipe", "only this recipe's jobs", metavar="NAME"),
            Flag("poll", "seconds between polls of an empty queue", type=float, default=10.0, metavar="S"),
            Flag(
                "grace",
                "on SIGTERM/SIGINT: seconds the running job has to save a checkpoint before it is killed",
                type=float,
                default=30.0,
                metavar="S",
            ),
            Flag("once", "stop when the queue is empty", switch=True),
        ),
    ),
    "notify": Spec(f"{PROG} notify", "Deliver the Slack outbox.", STORE[:1]),
}
HELP = {
    "run": "queue and run a recipe's jobs",
    "watch": "run, then poll for new checkpoints",
    "status": "the recipe's jobs",
    "worker": "a pull worker of a benchmark server",
    "notify": "deliver the Slack outbox",
}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    return dispatch(PROG, {verb: (HELP[verb], _verb(verb)) for verb in SPECS}, argv)


def _verb(verb: str):
    return lambda argv: _main(verb, argv)


def _main(verb: str, argv: list[str]) -> int:
    spec = SPECS[verb]
    missing = guarded(lambda: require("factory", f"claf factory {verb}"))
    if missing:
        return missing
    if not spec.config:
        flags = vars(parse(spec, argv))
        return guarded(lambda: (_worker if verb == "worker" else _notify)(flags))
    args, rest = parse(spec, argv, rest=True)
    flags = vars(args)
    if args.help:  # the verb's flags, then the recipes or (with --base_config) every key
        print(build(spec).format_help())
        rest.append("--help")
    if args.base_config:
        rest = ["--base_config", args.base_config, *rest]
    for module in args.include_package or ():
        rest += ["--include_package", module]
    if verb == "status" and flags.get("recipe") and not args.help:
        return guarded(lambda: _status(None, flags))
    config, status = resolve_from_argv(rest, f"{PROG} {verb}", kind="factory")
    if status is not None or config is None:
        return status or 0
    return guarded(lambda: {"run": _run, "watch": _watch, "status": _status}[verb](config, flags))


def _recipe(config, rest_name: str | None = None):
    from claf.factory.recipe import load_recipe

    return load_recipe(config)  # the spec built from argv: not resolved again


def _name(config, flags) -> str:
    from claf.factory.recipe import recipe_name

    return flags.get("recipe") or recipe_name(config)


def _run(config, flags) -> int:
    setup_logging()
    from claf.factory.factory import open_store_for, run, status_text

    recipe = _recipe(config)
    store = open_store_for(recipe, flags.get("server"), flags.get("db"))
    if flags.get("retry_failed"):
        print(f"requeued {store.requeue_failed(_name(recipe, flags))} failed job(s) of {_name(recipe, flags)}")
    counts = run(recipe, store, _name(recipe, flags))
    print(status_text(store.jobs(_name(recipe, flags))))
    print(json.dumps(counts))
    return 0 if not counts["failed"] else 1


def _watch(config, flags) -> int:
    setup_logging()
    from claf.factory.factory import open_store_for, watch

    recipe = _recipe(config)
    store = open_store_for(recipe, flags.get("server"), flags.get("db"))
    print(json.dumps(watch(recipe, store, _name(recipe, flags), flags.get("interval"), flags.get("max_polls"))))
    return 0


def _status(config, flags) -> int:
    from claf.factory.factory import open_store_for, status_text
    from claf.factory.job_store import open_jobs_store

    if config is None:
        store = open_jobs_store(flags.get("server"), flags.get("db"))
        name = flags["recipe"]
    else:
        recipe = _recipe(config)
        store, name = open_store_for(recipe, flags.get("server"), flags.get("db")), _name(recipe, flags)
    jobs = store.jobs(name)
    if flags.get("json"):
        print(json.dumps(jobs, indent=1, default=str))
    else:
        print(status_text(jobs))
    return 0


def _worker(flags) -> int:
    setup_logging()
    from claf.factory.job_store import RestStore
    from claf.factory.worker import Worker

    worker = Worker(
        RestStore(flags["server"]),
        work_dir=flags.get("work_dir"),
        lease_s=flags["lease"],
        heartbeat_s=flags["heartbeat"],
        threads=flags.get("threads"),
        recipe=flags.get("recipe"),
        grace_s=flags["grace"],
    )
    worker.handle_signals()  # preemption (Slurm --signal, Kubernetes, Ctrl-C): checkpoint, release, exit 0
    worker.loop(until_empty=bool(flags.get("once")), poll_s=flags["poll"])
    counts = {"done": worker.done, "failed": worker.failed}
    print(json.dumps(dict(counts, preempted=worker.preempted) if worker.preempted else counts))
    return 0


def _notify(flags) -> int:
    setup_basic_logging()
    from claf.factory.job_store import DbStore
    from claf.notify import slack

    store = DbStore(flags.get("db"))
    sent = slack.Notifier(store.sessions).deliver()
    with store.sessions() as session:
        left = sum(n["state"] == "pending" for n in slack.pending(session))
    print(json.dumps({"sent": sent, "pending": left}))
    return 0
