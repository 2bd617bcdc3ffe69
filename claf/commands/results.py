"""``python -m claf results push <run_dir>... [--server URL]``: post finished run folders to the benchmark server.

    results push logs/klue/nsmc_bert            a fine-tuning run -> one result
    results push logs/pretrain/larva_kor_tiny   a pre-training run -> its published checkpoints
    results push --vocab benchmarks/vocab_bench/vocab_bench.json
    results flush                               retry what waits in the outbox ($CLAF_HOME/outbox)

The server is ``--server``, the run's ``benchmark.server``, or ``CLAF_SERVER_URL``; the token is
``CLAF_SERVER_TOKEN``. What the server does not take waits in the outbox.
"""

import json
import sys
from pathlib import Path

from claf.commands.args import Arg, Flag, Spec, dispatch, parse
from claf.commands.common import fail, guarded

PROG = "python -m claf results"
SPECS = {
    "push": Spec(
        f"{PROG} push",
        "Post run folders (or a vocab-benchmark JSON) to the benchmark server.",
        (
            Arg("run_dirs", "fine-tuning or pre-training run folders", nargs="*"),
            Flag("vocab", "a vocab_bench.json written by 'claf vocab bench'", metavar="FILE"),
            Flag("server", "server URL (default: the run's benchmark.server or CLAF_SERVER_URL)", metavar="URL"),
        ),
    ),
    "flush": Spec(
        f"{PROG} flush",
        "Retry what waits in the outbox.",
        (Flag("server", "send everything to this server instead", metavar="URL"),),
    ),
}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    verbs = {
        "push": (
            "post run folders (or a vocab-benchmark JSON)",
            lambda rest: guarded(lambda: _push(parse(SPECS["push"], rest))),
        ),
        "flush": ("retry the outbox", lambda rest: guarded(lambda: _flush(parse(SPECS["flush"], rest)))),
    }
    return dispatch(PROG, verbs, argv)


def _flush(args) -> int:
    from claf.results.client import flush_outbox, outbox_dir

    delivered, left = flush_outbox(args.server)
    print(f"outbox: {delivered} delivered, {left} still queued in {outbox_dir()}")
    return 0 if left == 0 else 1


def _push(args) -> int:
    from claf.results.client import send, server_url
    from claf.results.run_payloads import checkpoint_payloads, is_pretrain_folder, result_payload

    if not args.run_dirs and not args.vocab:
        return fail("give one or more run folders, or --vocab FILE", 2)
    status = 0
    if args.vocab:
        url = server_url(None, args.server)
        if not url:
            return fail("no server: pass --server URL or set CLAF_SERVER_URL", 2)
        rows = json.loads(Path(args.vocab).read_text(encoding="utf-8"))
        ok, message = send(url, "vocab", rows)
        print(message)
        status |= 0 if ok else 1
    for run_dir in args.run_dirs:
        config_path = Path(run_dir) / "config.json"
        config = json.loads(config_path.read_text(encoding="utf-8")) if config_path.is_file() else {}
        url = server_url(config, args.server)
        if not url:
            return fail(f"{run_dir}: no server: pass --server URL, set CLAF_SERVER_URL or benchmark.server", 2)
        if is_pretrain_folder(run_dir):
            items = [("checkpoint", p) for p in checkpoint_payloads(run_dir)]
        else:
            items = [("result", result_payload(run_dir))]
        for kind, payload in items:
            ok, message = send(url, kind, payload)
            print(f"{run_dir}: {message}", file=sys.stdout if ok else sys.stderr)
            status |= 0 if ok else 1
    return status
