"""Sub-commands of ``airflow-sfn-etl`` that come with the reference flows.

``demo``: both flows, both engines, on the local AWS sandbox. ``build-state-machines``: write
(or ``--check``) the flows' committed Step Functions artefacts. Registered through the
``airflow_sfn_etl.cli`` entry-point group.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def register_demo(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "demo", help="run both reference flows on both engines against the local AWS sandbox",
        description="Start the sandbox, provision the flows with the workshop data, run the Airflow and "
                    "Step Functions versions of both flows, print the summary table and the SNS notice.",
    )
    parser.add_argument("--out", default="demo-output", type=Path,
                        help="folder for the result CSVs and logs (default: demo-output)")
    parser.add_argument("--engine", action="append", choices=["airflow", "stepfunctions"],
                        help="run only this engine (repeatable; default: both)")
    parser.set_defaults(func=_run_demo)


def _run_demo(args: argparse.Namespace) -> int:
    from airflow_sfn_etl_flows.demo import run_demo

    engines = tuple(args.engine) if args.engine else ("airflow", "stepfunctions")
    return run_demo(args.out, engines=engines)


def register_build(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "build-state-machines",
        help="write the reference flows' committed artefacts (state_machines/*.asl.json, .mmd, .iam.json)",
    )
    parser.add_argument("--out", help="output folder (default: the flows package's state_machines/)")
    parser.add_argument(
        "--check", action="store_true", help="write nothing; exit 1 naming the files that are stale"
    )
    parser.set_defaults(func=_build_all)


def _build_all(args: argparse.Namespace) -> int:
    from airflow_sfn_etl.asl import AslError
    from airflow_sfn_etl_flows.artifacts import (
        render_artefacts,
        stale_artefacts,
        state_machines_dir,
        write_artefacts,
    )

    out_dir = Path(args.out) if args.out else state_machines_dir()
    try:
        artefacts = render_artefacts()
    except (AslError, LookupError, FileNotFoundError) as error:
        print(f"airflow-sfn-etl build-state-machines: {error}", file=sys.stderr)
        return 1
    if args.check:
        stale = stale_artefacts(out_dir, artefacts)
        if stale:
            for name in stale:
                print(f"{out_dir / name}: stale or missing", file=sys.stderr)
            print("run `airflow-sfn-etl build-state-machines` and commit the result", file=sys.stderr)
            return 1
        print(f"{len(artefacts)} artefacts in {out_dir} are up to date")
        return 0
    changed = write_artefacts(out_dir, artefacts)
    for artefact in artefacts:
        mark = "wrote" if artefact.name in changed else "unchanged"
        print(f"{mark:9} {out_dir / artefact.name} (compiled in {artefact.compile_seconds * 1000:.0f} ms)")
    return 0
