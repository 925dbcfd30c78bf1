"""``airflow-sfn-etl`` command line: ``sandbox``, ``demo`` and ``asl`` sub-commands.

Each sub-command lives in its own module with ``register(subparsers)``; it sets
``func`` on its parser, which takes the parsed args and returns an exit code.
"""

from __future__ import annotations

import argparse
import importlib
import sys

SUBCOMMAND_MODULES = ("sandbox", "demo", "asl")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="airflow-sfn-etl",
        description="Glue / DataBrew / Athena / SNS / Step Functions ETL for Airflow, with a local AWS sandbox.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    for name in SUBCOMMAND_MODULES:
        module = importlib.import_module(f"{__name__}.{name}")
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
