"""``python -m claf factory <run|watch|status|worker|notify> ...``: the evaluation factory.

factory run    --base_config factory/larva_kor_tiny_klue [--key value ...] [--db URL | --server URL]
factory watch  --base_config factory/... [--interval S] [--max-polls N]   (also polls the model index)
factory status --base_config factory/... | --recipe NAME [--db URL | --server URL]
factory worker --server URL [--work-dir DIR] [--lease S] [--once]         (a pull worker)
factory notify [--db URL]                                                 (deliver the Slack outbox)
"""

import json
import sys

from claf.commands.common import fail, guarded, resolve_from_argv, setup_basic_logging, setup_logging
from claf.extras import require

VERBS = ("run", "watch", "status", "worker", "notify")
FLAGS = {
    "--db": str,
    "--server": str,
    "--interval": float,
    "--max-polls": int,
    "--recipe": str,
    "--work-dir": str,
    "--lease": float,
    "--heartbeat": float,
    "--threads": int,
    "--poll": float,
}
SWITCHES = ("--once", "--json")


def split_flags(argv: list[str]) -> tuple[dict, list[str]]:
    """Pull the factory's own flags out of argv; the rest is ``--base_config`` and overrides."""
    flags: dict = {}
    rest, i = [], 0
    while i < len(argv):
        token = argv[i]
        key, _, inline = token.partition("=")
        if key in FLAGS and (inline or i + 1 < len(argv)):
            raw = inline or argv[i + 1]
            try:
                flags[key[2:].replace("-", "_")] = FLAGS[key](raw)
            except ValueError:
                raise SystemExit(fail(f"{key}: '{raw}' is not a {FLAGS[key].__name__}", 2)) from None
            i += 1 if inline else 2
            continue
        if token in SWITCHES:
            flags[token[2:]] = True
        else:
            rest.append(token)
        i += 1
    return flags, rest


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if not argv or argv[0] not in VERBS:
        print(__doc__, file=sys.stderr if not argv or argv[0] not in ("-h", "--help") else sys.stdout)
        return 0 if argv and argv[0] in ("-h", "--help") else 2
    verb, (flags, rest) = argv[0], split_flags(argv[1:])
    missing = guarded(lambda: require("factory", f"claf factory {verb}"))
    if missing:
        return missing
    if verb == "worker":
        return guarded(lambda: _worker(flags))
    if verb == "notify":
        return guarded(lambda: _notify(flags))
    if verb == "status" and flags.get("recipe"):
        return guarded(lambda: _status(None, flags))
    config, status = resolve_from_argv(rest, f"python -m claf factory {verb}", kind="factory")
    if status is not None or config is None:
        return status or 0
    return guarded(lambda: {"run": _run, "watch": _watch, "status": _status}[verb](config, flags))


def _recipe(config, rest_name: str | None = None):
    from claf.factory.recipe import load_recipe

    return load_recipe(config.to_dict())


def _name(config, flags) -> str:
    from claf.factory.recipe import recipe_name

    return flags.get("recipe") or recipe_name(config)


def _run(config, flags) -> int:
    setup_logging()
    from claf.factory.factory import open_store_for, run, status_text

    recipe = _recipe(config)
    store = open_store_for(recipe, flags.get("server"), flags.get("db"))
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
    from claf.factory.job_stores import open_jobs_store

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
    from claf.factory.job_stores import RestStore
    from claf.factory.worker import Worker

    if not flags.get("server"):
        return fail("factory worker needs --server URL (the benchmark server it pulls jobs from)", 2)
    worker = Worker(
        RestStore(flags["server"]),
        work_dir=flags.get("work_dir"),
        lease_s=flags.get("lease", 120.0),
        heartbeat_s=flags.get("heartbeat", 10.0),
        threads=flags.get("threads"),
        recipe=flags.get("recipe"),
    )
    worker.loop(until_empty=bool(flags.get("once")), poll_s=flags.get("poll", 10.0))
    print(json.dumps({"done": worker.done, "failed": worker.failed}))
    return 0


def _notify(flags) -> int:
    setup_basic_logging()
    from claf.factory.job_stores import DbStore
    from claf.notify import slack

    store = DbStore(flags.get("db"))
    sent = slack.Notifier(store.sessions).deliver()
    with store.sessions() as session:
        left = sum(n["state"] == "pending" for n in slack.pending(session))
    print(json.dumps({"sent": sent, "pending": left}))
    return 0
