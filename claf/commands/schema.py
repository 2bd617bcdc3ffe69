"""``python -m claf schema``: write the JSON Schema of every recipe kind (from the typed specs).

    python -m claf schema                      # base_config/schema/<kind>.schema.json
    python -m claf schema --output_dir DIR     # elsewhere
    python -m claf schema --check              # exit 1 when a written schema differs from the specs

Every shipped BaseConfig names its kind's schema in ``"$schema"``, so an editor completes and checks keys.
"""

import sys

from claf.commands.args import Flag, Spec, parse
from claf.commands.common import guarded

SPECS = {
    "": Spec(
        "python -m claf schema",
        "Write one JSON Schema per recipe kind (finetune, pretrain, vocab, factory) and the server settings.",
        (
            Flag("output_dir", help="where to write them (default: base_config/schema)"),
            Flag("check", switch=True, help="write nothing; exit 1 when a schema differs from the specs"),
        ),
    )
}


def main(argv: list[str] | None = None) -> int:
    args = parse(SPECS[""], argv)

    def run() -> int:
        from claf.config.schema import stale_schemas, write_schemas

        if args.check:
            stale = stale_schemas(args.output_dir)
            if stale:
                print(f"error: stale schema(s): {', '.join(stale)}; run python -m claf schema", file=sys.stderr)
                return 1
            print("schemas match the specs")
            return 0
        for path in write_schemas(args.output_dir):
            print(path)
        return 0

    return guarded(run)
