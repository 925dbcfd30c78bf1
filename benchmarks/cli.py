"""``python -m benchmarks``: run every section, print the tables, write BENCHMARKS.md."""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .profiles import PROFILES, Profile
from .results import Section


def prepare_airflow_home() -> Path:
    """A private AIRFLOW_HOME (SQLite) for in-process Airflow objects; before Airflow is imported.

    When Airflow is already imported (the harness runs inside pytest), its configuration stays.
    """
    if "airflow" in sys.modules and os.environ.get("AIRFLOW_HOME"):
        return Path(os.environ["AIRFLOW_HOME"])
    home = Path(tempfile.mkdtemp(prefix="sfn-etl-bench-home-"))
    os.environ["AIRFLOW_HOME"] = str(home)
    os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
    os.environ["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] = f"sqlite:///{home}/airflow.db"
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    return home


def _guard(name: str, title: str, fn: Callable[[], Any]) -> list[Section]:
    """Run one section; a failure becomes a section that says what failed (the run goes on)."""
    started = time.monotonic()
    print(f"[bench] {name} ...", file=sys.stderr, flush=True)
    try:
        out = fn()
        sections = list(out) if isinstance(out, (list, tuple)) else [out]
    except Exception as error:  # noqa: BLE001 - reported in the output, the other sections still run
        traceback.print_exc()
        sections = [Section(name, title, [], error=f"{type(error).__name__}: {error}")]
    took = time.monotonic() - started
    for section in sections:
        section.notes.append(f"Section run time: {took:.0f} s.")
    print(f"[bench] {name} done in {took:.0f} s", file=sys.stderr, flush=True)
    return sections


def run_all(profile: Profile, only: set[str] | None = None) -> list[Section]:
    """Every section, cheapest first; the Airflow stack (overhead) last."""
    from . import density, overhead, parse_compile, scale, waiting
    from .sandbox import running_sandbox

    def wanted(key: str) -> bool:
        return only is None or key in only

    sections: list[Section] = []
    if wanted("parse"):
        sections += _guard(
            "parse",
            "3. Parse and compile",
            lambda: parse_compile.measure(
                repeats=profile.parse_repeats,
                warm=profile.parse_warm,
                compile_repeats=profile.compile_repeats,
                files=profile.parse_files(),
                preimport=profile.parse_all_files,
            ),
        )
    if wanted("scale"):
        sections += _guard(
            "scale-compile",
            "4a. Compile scale",
            lambda: scale.measure_compile(
                sizes=profile.scale_sizes, widths=profile.scale_widths, repeats=profile.scale_repeats
            ),
        )
    if wanted("scale") or wanted("waiting") or wanted("density"):
        with running_sandbox() as sb:
            if wanted("scale"):
                sections += _guard(
                    "scale-athena",
                    "4b. Athena CTAS scale",
                    lambda: scale.measure_athena(
                        sb, factors=profile.athena_factors, repeats=profile.athena_repeats
                    ),
                )
            if wanted("waiting"):
                sections += _guard(
                    "waiting",
                    "2. Cost of waiting",
                    lambda: waiting.measure(
                        sb,
                        job_seconds=profile.wait_job_seconds,
                        repeats=profile.wait_repeats,
                        restart_triggers=profile.restart_triggers,
                        restart_factor=profile.restart_factor,
                    ),
                )
    if wanted("glue-spark"):
        from . import glue_spark

        with running_sandbox() as sb:
            sections += _guard(
                "glue-spark",
                "6. Glue Spark job on the sandbox vs raw PySpark",
                lambda: glue_spark.measure(sb, factors=profile.spark_factors, repeats=profile.spark_repeats),
            )
    if wanted("density"):
        sections += _guard(
            "density",
            "5. Triggerer density",
            lambda: density.measure(
                counts=profile.density_counts,
                hold_seconds=profile.density_hold_seconds,
                before_count=profile.density_before_count,
                worker_repeats=0 if profile.name == "smoke" else 2,
            ),
        )
    if wanted("overhead"):
        sections += _guard(
            "overhead",
            "1. Orchestration overhead",
            lambda: overhead.measure(repeats=profile.overhead_repeats, delay=profile.overhead_delay),
        )
    if wanted("deployment"):
        from . import deployment

        sections += _guard(
            "deployment",
            "1b. The sales flow on the compose deployment",
            lambda: deployment.measure(repeats=profile.overhead_repeats, delay=profile.overhead_delay),
        )
    order = [
        "overhead",
        "deployment",
        "waiting",
        "waiting-restart",
        "parse",
        "compile",
        "scale-compile",
        "scale-athena",
        "density",
        "glue-spark",
    ]
    sections.sort(key=lambda s: order.index(s.key) if s.key in order else len(order))
    return sections


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument(
        "--out", default="BENCHMARKS.md", help="Markdown report to write (default BENCHMARKS.md)"
    )
    parser.add_argument(
        "--profile",
        choices=sorted(PROFILES),
        default="full",
        help="full (make bench, ~12 min) or smoke (tiny sizes, for the test)",
    )
    parser.add_argument(
        "--only",
        action="append",
        default=None,
        choices=["overhead", "deployment", "waiting", "parse", "scale", "density", "glue-spark"],
        help="run only these sections (repeatable)",
    )
    args = parser.parse_args(argv)
    prepare_airflow_home()
    from .report import render

    profile = PROFILES[args.profile]
    started = time.monotonic()
    sections = run_all(profile, set(args.only) if args.only else None)
    text = render(
        sections,
        profile=profile,
        argv=sys.argv if argv is None else ["bench", *argv],
        seconds=time.monotonic() - started,
    )
    Path(args.out).write_text(text, encoding="utf-8")
    print(text)
    print(f"[bench] wrote {args.out}", file=sys.stderr)
    return 0
