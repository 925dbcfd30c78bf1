"""Independent computations of the flows' results, straight from the raw CSVs (DuckDB)."""

from __future__ import annotations

import csv
from pathlib import Path

import duckdb

SHARED_DATA = Path(__file__).resolve().parents[3] / "shared" / "data"
WORKSHOP = SHARED_DATA / "workshop"
SEED = SHARED_DATA / "seed"


def monthly_summary(workshop: Path = WORKSHOP) -> list[tuple[int, int, int, int]]:
    """(year, month, total paid conversion, total weighted revenue), newest first."""
    sql = f"""
    WITH m AS (
      SELECT year(d) AS y, month(d) AS mo, sum(CAST("Paid conversion" AS BIGINT)) AS paid
      FROM (SELECT strptime("Date", '%m/%d/%Y') AS d, "Paid conversion"
            FROM read_csv('{workshop / "marketing_data.csv"}', header = true, all_varchar = true))
      GROUP BY ALL),
    s AS (
      SELECT year(d) AS y, month(d) AS mo, sum(CAST("Weighted Revenue" AS BIGINT)) AS revenue
      FROM (SELECT strptime("Date", '%m/%d/%Y') AS d, "Weighted Revenue"
            FROM read_csv('{workshop / "sales_pipeline_data.csv"}', header = true, all_varchar = true))
      GROUP BY ALL)
    SELECT m.y, m.mo, m.paid, s.revenue FROM m JOIN s USING (y, mo) ORDER BY m.y DESC, m.mo DESC
    """
    return [tuple(int(v) for v in row) for row in duckdb.sql(sql).fetchall()]  # type: ignore[misc]


def crawler_rows(seed: Path = SEED) -> list[dict[str, object]]:
    """csvlog.csv as the Glue job writes it: numeric columns as integers (``007`` -> 7)."""
    with open(seed / "csvlog.csv", newline="") as fh:
        return [{k: (v if k in ("deviceid", "country") else int(v)) for k, v in row.items()}
                for row in csv.DictReader(fh)]


#: The Parquet types of the Glue job's output: the crawler's bigint columns as int64, strings as string.
CRAWLER_TYPES = {"deviceid": "string", "uuid": "int64", "appid": "int64", "country": "string", "year": "int64",
                 "month": "int64", "day": "int64", "hour": "int64"}
