"""Deployment names of the two reference flows, overridable by environment variables.

Every name here is a default only: the DAGs take them as params (editable in the trigger
form), and the provisioning routine creates the resources under these names.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from pathlib import Path

ENV_PREFIX = "SFN_ETL_"
DAGS_FOLDER = Path(__file__).resolve().parents[2] / "dags"


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
    """The workshop data folder: ``$SFN_ETL_DATA_DIR``, else ``../shared/data`` beside the checkout."""
    env = os.environ.get(ENV_PREFIX + "DATA_DIR")
    candidates = [Path(env)] if env else []
    candidates.append(DAGS_FOLDER.parent.parent / "shared" / "data")
    for path in candidates:
        if (path / "workshop").is_dir() and (path / "seed").is_dir():
            return path
    raise FileNotFoundError(
        "workshop data not found: looked in " + ", ".join(str(p) for p in candidates)
        + ". Put the shared folder beside the checkout or set SFN_ETL_DATA_DIR to its data/ folder."
    )
