"""``airflow-sfn-etl asl``."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser("asl", help="(not yet available)")
    parser.set_defaults(func=lambda args: print("airflow-sfn-etl asl: not yet available") or 2)
