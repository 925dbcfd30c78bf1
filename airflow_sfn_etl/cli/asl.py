"""``airflow-sfn-etl asl``: compile a DAG file to ASL / Mermaid / IAM, validate an ASL file."""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from pathlib import Path

from airflow_sfn_etl.asl.loader import load_dags, pick_dag

__all__ = ["load_dags", "pick_dag", "register"]


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``asl`` command with its ``compile`` and ``validate`` sub-commands."""
    parser = sub.add_parser("asl", help="compile an Airflow DAG to Step Functions (ASL), validate ASL")
    asl_sub = parser.add_subparsers(dest="asl_command", required=True)

    compile_p = asl_sub.add_parser(
        "compile", help="compile a DAG file to ASL JSON, a Mermaid diagram or an IAM policy"
    )
    compile_p.add_argument("dag_file", metavar="DAG_FILE", help="Python file defining the DAG")
    compile_p.add_argument("--dag-id", help="DAG to compile when the file defines several")
    compile_p.add_argument("--format", choices=("json", "mermaid", "iam"), default="json")
    compile_p.add_argument("--region", help="AWS region for ARNs (required for --format iam)")
    compile_p.add_argument("--account", help="AWS account id for ARNs (required for --format iam)")
    compile_p.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="param value used to scope the IAM policy (default: the DAG's param defaults)",
    )
    compile_p.add_argument(
        "--strict-shape",
        action="store_true",
        help="refuse a DAG that is not series-parallel instead of adding the fewest dependencies that make it so",
    )
    compile_p.set_defaults(func=_compile)

    validate_p = asl_sub.add_parser("validate", help="validate an ASL JSON file; exit 1 listing the problems")
    validate_p.add_argument("file", metavar="FILE")
    validate_p.set_defaults(func=_validate)


def _params(pairs: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise ValueError(f"--param needs KEY=VALUE, got {pair!r}")
        out[key] = value
    return out


def _compile(args: argparse.Namespace) -> int:
    from airflow_sfn_etl.asl import AslError, DagShapeWarning, compile_dag, render_json, render_mermaid
    from airflow_sfn_etl.asl.iam import build_iam_policy
    from airflow_sfn_etl.asl.render_json import definition
    from airflow_sfn_etl.asl.validate import validate_or_raise

    try:
        dag = pick_dag(load_dags(args.dag_file), args.dag_id, args.dag_file)
        with warnings.catch_warnings():  # printed below from the machine, once each
            warnings.simplefilter("ignore", DagShapeWarning)
            machine = compile_dag(dag, region=args.region, account=args.account, strict_shape=args.strict_shape)
        for warning in machine.warnings:
            print(f"warning: {warning}", file=sys.stderr)
        validate_or_raise(definition(machine))
        if args.format == "json":
            sys.stdout.write(render_json(machine))
        elif args.format == "mermaid":
            sys.stdout.write(render_mermaid(machine))
        else:
            if not args.region or not args.account:
                print(
                    "airflow-sfn-etl asl compile: --format iam needs --region and --account", file=sys.stderr
                )
                return 2
            policy = build_iam_policy(
                machine, region=args.region, account=args.account, params=_params(args.param)
            )
            sys.stdout.write(policy.to_json())
            for note in policy.notes:
                print(f"note: {note}", file=sys.stderr)
        for note in machine.notes:
            print(f"note: {note}", file=sys.stderr)
    except (AslError, LookupError, FileNotFoundError, ValueError) as error:
        print(f"airflow-sfn-etl asl compile: {error}", file=sys.stderr)
        return 1
    return 0


def _validate(args: argparse.Namespace) -> int:
    from airflow_sfn_etl.asl.validate import validate

    try:
        document = json.loads(Path(args.file).read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        print(f"{args.file}: cannot read JSON: {error}", file=sys.stderr)
        return 1
    errors = validate(document)
    if errors:
        for message in errors:
            print(f"{args.file}: {message}", file=sys.stderr)
        return 1
    print(f"{args.file}: valid")
    return 0
