"""Deployment names of the two reference flows, overridable by environment variables.

Every name here is a default only: the DAGs take them as params (editable in the trigger
form), and the provisioning routine creates the resources under these names.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from pathlib import Path

ENV_PREFIX = "SFN_ETL_"
#: The reference flows' DAG files with their SQL, DataBrew recipes and Glue scripts, shipped in
#: this package (a checkout's top-level ``dags/`` re-exports these DAGs for Airflow's DAG folder).
DAGS_FOLDER = Path(__file__).resolve().parent / "dags"


def _env(name: str, default: str) -> str:
    return os.environ.get(ENV_PREFIX + name.upper(), default)


@dataclass(frozen=True)
class SalesMarketingSettings:
    """Names for the monthly Sales + Marketing refresh (env ``SFN_ETL_<FIELD>`` overrides)."""

    raw_bucket: str = field(default_factory=lambda: _env("raw_bucket", "sfn-etl-raw-data"))
    transformed_bucket: str = field(default_factory=lambda: _env("transformed_bucket", "sfn-etl-transformed-data"))
    athena_query_bucket: str = field(default_factory=lambda: _env("athena_query_bucket", "sfn-etl-athena-results"))
    workgroup: str = field(default_factory=lambda: _env("workgroup", "StepFunctionsWorkshopWorkgroup"))
    database: str = field(default_factory=lambda: _env("database", "default"))
    topic: str = field(default_factory=lambda: _env("topic", "StepFunctionWorkshopTopic"))
    sales_job: str = field(default_factory=lambda: _env("sales_job", "sales-data-etl"))
    marketing_job: str = field(default_factory=lambda: _env("marketing_job", "marketing-data-etl"))
    databrew_role_arn: str = field(default_factory=lambda: _env(
        "databrew_role_arn", "arn:aws:iam::123456789012:role/sfn-etl-databrew"))

    def as_params(self) -> dict[str, str]:
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "databrew_role_arn"}


@dataclass(frozen=True)
class CrawlerJobSettings:
    """Names for the Glue crawler -> Glue job flow (env ``SFN_ETL_<FIELD>`` overrides)."""

    bucket: str = field(default_factory=lambda: _env("crawler_bucket", "sfn-etl-glue-data"))
    crawler: str = field(default_factory=lambda: _env("crawler", "se2_in0"))
    glue_database: str = field(default_factory=lambda: _env("glue_database", "se2"))
    table_prefix: str = field(default_factory=lambda: _env("table_prefix", "se2_"))
    job: str = field(default_factory=lambda: _env("job", "se2_job0"))
    glue_role_arn: str = field(default_factory=lambda: _env(
        "glue_role_arn", "arn:aws:iam::123456789012:role/sfn-etl-glue"))

    @property
    def input_prefix(self) -> str:
        return "se2/in0/"

    @property
    def output_prefix(self) -> str:
        return "se2/out0/"

    @property
    def table(self) -> str:
        return f"{self.table_prefix}in0"


def shared_data_dir() -> Path:
    """The workshop data folder: ``$SFN_ETL_DATA_DIR``, else ``shared/data`` beside the checkout.

    Without the variable, ``shared/data`` is looked for beside the working directory and each of
    its parents (a checkout run from its root finds ``../shared/data``), then beside a checkout
    this package is installed from in editable mode.
    """
    env = os.environ.get(ENV_PREFIX + "DATA_DIR")
    if env:
        candidates = [Path(env)]
    else:
        cwd = Path.cwd().resolve()
        here = Path(__file__).resolve()
        folders = (cwd, *cwd.parents, *here.parents)
        candidates = list(dict.fromkeys(p.parent / "shared" / "data" for p in folders))
    for path in candidates:
        if (path / "workshop").is_dir() and (path / "seed").is_dir():
            return path
    raise FileNotFoundError(
        "workshop data not found: set SFN_ETL_DATA_DIR to the data/ folder holding workshop/ and seed/ "
        f"(looked in {len(candidates)} places, first {candidates[0]})"
    )
