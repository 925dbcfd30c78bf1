"""``airflow-sfn-etl`` command line.

The provider ships the ``asl`` sub-command (compile, validate). Other distributions add theirs
through the ``airflow_sfn_etl.cli`` entry-point group: ``sandbox`` (airflow-sfn-etl-sandbox),
``demo`` and ``build-state-machines`` (airflow-sfn-etl-flows). Each entry point is a
``register(subparsers)`` function that sets ``func`` on its parser; ``func`` takes the parsed
args and returns an exit code. The provider never imports those distributions itself.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from importlib.metadata import entry_points

from airflow_sfn_etl.cli import asl

ENTRY_POINT_GROUP = "airflow_sfn_etl.cli"

#: Sub-commands that other distributions provide, and the one to install for each.
OPTIONAL_SUBCOMMANDS = {
    "sandbox": "airflow-sfn-etl-sandbox",
    "demo": "airflow-sfn-etl-flows",
    "build-state-machines": "airflow-sfn-etl-flows",
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="airflow-sfn-etl",
        description="Glue / DataBrew / Athena / SNS / Step Functions ETL for Airflow: the ASL compiler, "
                    "and the local AWS sandbox and the reference flows when they are installed.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    asl.register(sub)
    found = set()
    for entry_point in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda ep: ep.name):
        if entry_point.name in found:
            continue
        found.add(entry_point.name)
        entry_point.load()(sub)
    for name, distribution in OPTIONAL_SUBCOMMANDS.items():
        if name not in found:
            missing = sub.add_parser(name, help=f"(needs `pip install {distribution}`)")
            missing.set_defaults(func=_missing(name, distribution))
    return parser


def _missing(name: str, distribution: str) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        print(f"airflow-sfn-etl {name}: this command comes with the {distribution} distribution, which is not "
              f"installed; run `pip install {distribution}` (or `pip install 'airflow-sfn-etl[sandbox,flows]'`).",
              file=sys.stderr)
        return 2
    return run


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
