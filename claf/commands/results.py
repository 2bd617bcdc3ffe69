"""``python -m claf results push <run_dir>... [--server URL]``: post finished run folders to the benchmark server.

    results push logs/klue/nsmc_bert            a fine-tuning run -> one result
    results push logs/pretrain/larva_kor_tiny   a pre-training run -> its published checkpoints
    results push --vocab benchmarks/vocab_bench/vocab_bench.json
    results flush                               retry what waits in the outbox ($CLAF_HOME/outbox)

The server is ``--server``, the run's ``benchmark.server``, or ``CLAF_SERVER_URL``; the token is
``CLAF_SERVER_TOKEN``. What the server does not take waits in the outbox.
"""

import argparse
import json
import sys
from pathlib import Path

from claf.commands.common import fail, guarded


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m claf results", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="action", required=True)
    push = sub.add_parser("push", help="post run folders (or a vocab-benchmark JSON)")
    push.add_argument("run_dirs", nargs="*")
    push.add_argument("--vocab", help="a vocab_bench.json written by 'claf vocab bench'")
    push.add_argument("--server", help="server URL (default: the run's benchmark.server or CLAF_SERVER_URL)")
    flush = sub.add_parser("flush", help="retry the outbox")
    flush.add_argument("--server", help="send everything to this server instead")
    args = parser.parse_args(argv)
    return guarded(lambda: _flush(args) if args.action == "flush" else _push(args))


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
