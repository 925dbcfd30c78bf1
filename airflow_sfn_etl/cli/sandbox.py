"""``airflow-sfn-etl sandbox``."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser("sandbox", help="(not yet available)")
    parser.set_defaults(func=lambda args: print("airflow-sfn-etl sandbox: not yet available") or 2)
