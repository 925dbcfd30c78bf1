"""``airflow-sfn-etl demo``: both flows, both engines, on the local AWS sandbox."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser(
        "demo", help="run both reference flows on both engines against the local AWS sandbox",
        description="Start the sandbox, provision the flows with the workshop data, run the Airflow and "
                    "Step Functions versions of both flows, print the summary table and the SNS notice.",
    )
    parser.add_argument("--out", default="demo-output", type=Path,
                        help="folder for the result CSVs and logs (default: demo-output)")
    parser.add_argument("--engine", action="append", choices=["airflow", "stepfunctions"],
                        help="run only this engine (repeatable; default: both)")
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from airflow_sfn_etl.flows.demo import run_demo

    engines = tuple(args.engine) if args.engine else ("airflow", "stepfunctions")
    return run_demo(args.out, engines=engines)
