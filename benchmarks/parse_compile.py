"""Section 3: DAG file parse time (as the DAG processor measures it) and flow compile time to ASL.

Parse: each DAG file in a fresh Python process that has already imported Airflow (``airflow``,
``airflow.sdk``, ``DagBag``), then ``DagBag(<file>)``: the DAG processor's own per-file duration
(``dagbag_stats[].duration``, what ``airflow dags report`` prints). *Cold* is the first parse (it
imports the provider modules the file uses); *warm* is the median of the next parses in the same
process, which is what the DAG processor sees with ``[dag_processor] parsing_pre_import_modules``
(default on: the parent imports the file's modules before forking the parse).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from .results import Section
from .stats import median

ROOT = Path(__file__).resolve().parents[1]
DAG_FILES = [
    ROOT / "dags" / "sales_marketing_refresh.py",
    ROOT / "dags" / "glue_crawler_job.py",
    ROOT / "dags" / "sales_marketing_refresh_sfn.py",
    ROOT / "dags" / "glue_crawler_job_sfn.py",
    Path(__file__).resolve().parent / "dags" / "sales_marketing_stock.py",
]
COMPILE_FLOWS = [ROOT / "dags" / "sales_marketing_refresh.py", ROOT / "dags" / "glue_crawler_job.py"]

_PARSE_SCRIPT = r"""
import json, sys, time
t0 = time.perf_counter()
import airflow, airflow.sdk
from airflow.dag_processing.dagbag import DagBag
import_s = time.perf_counter() - t0
path, warm, preimport = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "1"
if preimport:  # what every DAG using the amazon provider pays: boto3 + the upstream hooks
    t0 = time.perf_counter()
    import airflow.providers.amazon.aws.hooks.base_aws, airflow.providers.amazon.aws.hooks.athena
    import_s += time.perf_counter() - t0
out = {"import_s": import_s, "parses": [], "errors": {}}
for i in range(1 + warm):
    bag = DagBag(dag_folder=path, safe_mode=False)
    out["errors"] = {k: str(v)[-300:] for k, v in bag.import_errors.items()}
    stat = [s for s in bag.dagbag_stats]
    out["parses"].append(stat[0].duration.total_seconds() if stat else float("nan"))
    out["dags"] = stat[0].dag_num if stat else 0
    out["tasks"] = stat[0].task_num if stat else 0
print("BENCH-RESULT " + json.dumps(out))
"""


def airflow_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW__", "PYTEST_"))}
    env.update(
        {
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home}/airflow.db",
            "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
        }
    )
    return env


def parse_once(path: Path, warm: int, home: Path, preimport: bool = False) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-c", _PARSE_SCRIPT, str(path), str(warm), "1" if preimport else "0"],
        env=airflow_env(home),
        capture_output=True,
        text=True,
        timeout=300,
    )
    for line in done.stdout.splitlines():
        if line.startswith("BENCH-RESULT "):
            return dict(json.loads(line[len("BENCH-RESULT ") :]))
    raise RuntimeError(f"parsing {path.name} failed: {done.stderr[-2000:]}")


def measure_parse(
    section: Section, *, repeats: int, warm: int, files: list[Path], preimport: bool = True
) -> None:
    home = Path(tempfile.mkdtemp(prefix="sfn-etl-bench-parse-"))
    for path in files:
        runs = [parse_once(path, warm, home) for _ in range(repeats)]
        pre = median(
            [
                parse_once(path, 0, home, preimport=True)["parses"][0]
                for _ in range(repeats if preimport else 0)
            ]
        )
        cold = median([r["parses"][0] for r in runs])
        warm_s = median([p for r in runs for p in r["parses"][1:]]) if warm else float("nan")
        errors = runs[-1]["errors"]
        section.add(
            path.name,
            runs[-1].get("dags", 0),
            runs[-1].get("tasks", 0),
            median([r["import_s"] for r in runs]),
            cold,
            pre,
            warm_s,
            "yes" if warm_s < 0.2 else "NO",
            "; ".join(f"{Path(k).name}: {v}" for k, v in errors.items())[:200] or "-",
        )
        section.figures[f"parse_cold_s[{path.stem}]"] = cold
        section.figures[f"parse_cold_pre_s[{path.stem}]"] = pre
        section.figures[f"parse_warm_s[{path.stem}]"] = warm_s


def measure_compile(section: Section, *, repeats: int, flows: list[Path]) -> list[list[Any]]:
    """Rows: flow, tasks, compile (IR + ASL JSON) ms, + validate + IAM + Mermaid ms."""
    from airflow_sfn_etl.asl import compile_dag, render_json, render_mermaid
    from airflow_sfn_etl.asl.iam import build_iam_policy
    from airflow_sfn_etl.asl.loader import load_dags
    from airflow_sfn_etl.asl.render_json import definition
    from airflow_sfn_etl.asl.validate import validate_or_raise

    rows = []
    for path in flows:
        for dag in load_dags(str(path)).values():

            def asl(dag: Any = dag) -> str:
                return render_json(compile_dag(dag, region="us-east-1", account="123456789012"))

            def everything(dag: Any = dag) -> None:
                machine = compile_dag(dag, region="us-east-1", account="123456789012")
                render_json(machine)
                validate_or_raise(definition(machine))
                build_iam_policy(machine, region="us-east-1", account="123456789012").to_json()
                render_mermaid(machine)

            asl()
            times, full = [], []
            for _ in range(repeats):
                t = time.perf_counter()
                asl()
                times.append(time.perf_counter() - t)
                t = time.perf_counter()
                everything()
                full.append(time.perf_counter() - t)
            ms, full_ms = median(times) * 1000, median(full) * 1000
            rows.append([dag.dag_id, len(dag.tasks), ms, full_ms, "yes" if full_ms < 50 else "NO"])
            section.figures[f"compile_ms[{dag.dag_id}]"] = ms
    return rows


def measure(
    *,
    repeats: int = 3,
    warm: int = 5,
    compile_repeats: int = 50,
    files: list[Path] | None = None,
    preimport: bool = True,
) -> tuple[Section, Section]:
    parse = Section(
        "parse",
        "3a. DAG file parse time (DagBag per-file duration, as the DAG processor measures it)",
        [
            "DAG file",
            "DAGs",
            "tasks",
            "Airflow import s (excluded)",
            "parse s, cold",
            "parse s, cold, amazon provider pre-imported",
            "parse s, warm",
            "warm < 0.2 s",
            "import errors",
        ],
    )
    measure_parse(parse, repeats=repeats, warm=warm, files=files or DAG_FILES, preimport=preimport)
    parse.notes += [
        f"Median of {repeats} fresh processes per file; warm = median of {warm} further parses in each.",
        "Cold includes importing our provider and the amazon provider (boto3, botocore) for the first time "
        "in that process; 'amazon provider pre-imported' leaves out what any DAG using the amazon provider "
        "pays "
        "(boto3 + the upstream hooks), i.e. our package + the DAG itself; warm is the steady state of a DAG "
        "processor with parsing_pre_import_modules on (the default).",
    ]
    comp = Section(
        "compile",
        "3b. Compile time of each flow to ASL",
        ["DAG", "tasks", "compile ms (IR + ASL JSON)", "+ validate + IAM + Mermaid ms", "< 50 ms"],
    )
    comp.rows = measure_compile(comp, repeats=compile_repeats, flows=COMPILE_FLOWS)
    comp.notes.append(f"Median of {compile_repeats} compiles of the DAG object (file already imported).")
    return parse, comp
