"""The reference flow's SQL (S1/M1 DDL, MSCK REPAIR, fixed R1 CTAS) over workshop data in Parquet.

The Parquet data is built here from the workshop CSVs the way the DataBrew jobs shape it
(snake_case columns, booleans, Hive-style ``year=/month=/day=`` partitions, one file per day)
and written straight into the sandbox's S3 backend (thousands of small files; uploading them
over HTTP would only slow the test). The 48 summary rows are checked against an independent
DuckDB computation on the raw CSVs.
"""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import duckdb

from airflow_sfn_etl_sandbox.state import s3_put
from benchmarks.scale import SALES_RENAMES, shape_csv, write_partitioned

WORKSHOP = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "workshop"
SALES_CSV = WORKSHOP / "sales_pipeline_data.csv"
MARKETING_CSV = WORKSHOP / "marketing_data.csv"


S1 = """CREATE EXTERNAL TABLE sales_data_output(
  date string, salesperson string, lead_name string, segment string, region string,
  target_close string, forecasted_monthly_revenue int, opportunity_stage string,
  weighted_revenue int, closed_opportunity boolean, active_opportunity boolean,
  latest_status_entry boolean)
PARTITIONED BY (year string, month string, day string)
ROW FORMAT SERDE 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe'
STORED AS INPUTFORMAT 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat'
OUTPUTFORMAT 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat'
LOCATION 's3://{bucket}/sales/'
TBLPROPERTIES ('classification'='parquet', 'compressionType'='none', 'typeOfData'='file')"""

M1 = """CREATE EXTERNAL TABLE marketing_data_output(
  date string, new_visitors_seo int, new_visitors_cpc int, new_visitors_social_media int,
  return_visitors int, twitter_mentions int, twitter_follower_adds int,
  twitter_followers_cumulative int, mailing_list_adds_ int, mailing_list_cumulative int,
  website_pageviews int, website_visits int, website_unique_visits int, mobile_uniques int,
  tablet_uniques int, desktop_uniques int, free_sign_up int, paid_conversion int,
  events string)
PARTITIONED BY (year string, month string, day string)
ROW FORMAT SERDE 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe'
STORED AS INPUTFORMAT 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat'
OUTPUTFORMAT 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat'
LOCATION 's3://{bucket}/marketing/'
TBLPROPERTIES ('classification'='parquet', 'compressionType'='none', 'typeOfData'='file')"""

R1_FIXED = """CREATE TABLE {db}.sales_marketing_revenue AS
SELECT * FROM (
  SELECT marketing.year, marketing.month, total_paid_conversion, total_weighted_revenue
  FROM (SELECT year, month, sum(paid_conversion) AS total_paid_conversion
        FROM {db}.marketing_data_output GROUP BY year, month) marketing
  INNER JOIN (SELECT year, month, sum(weighted_revenue) AS total_weighted_revenue
        FROM {db}.sales_data_output GROUP BY year, month) sales
  ON marketing.year = sales.year AND marketing.month = sales.month)
ORDER BY CAST(year AS integer) DESC, CAST(month AS integer) DESC"""


def _expected() -> list[list[str]]:
    con = duckdb.connect()
    rows = con.execute(f"""
        WITH s AS (SELECT strptime("Date", '%m/%d/%Y') AS d, "Weighted Revenue" AS w
                   FROM read_csv('{SALES_CSV}', all_varchar=true)),
             m AS (SELECT strptime("Date", '%m/%d/%Y') AS d, "Paid conversion" AS p
                   FROM read_csv('{MARKETING_CSV}', all_varchar=true)),
             sa AS (SELECT year(d) AS y, month(d) AS mo, sum(CAST(w AS BIGINT)) AS tw FROM s GROUP BY 1, 2),
             ma AS (SELECT year(d) AS y, month(d) AS mo, sum(CAST(p AS BIGINT)) AS tp FROM m GROUP BY 1, 2)
        SELECT ma.y, ma.mo, tp, tw FROM ma JOIN sa ON ma.y = sa.y AND ma.mo = sa.mo ORDER BY 1 DESC, 2 DESC
    """).fetchall()
    return [[str(v) for v in row] for row in rows]


def test_reference_flow_sql_over_workshop_parquet(sandbox_env, capsys):
    sb = sandbox_env
    s3, athena, glue = sb.client("s3"), sb.client("athena"), sb.client("glue")
    data, results = f"transformed-{uuid.uuid4().hex[:8]}", f"athena-query-{uuid.uuid4().hex[:8]}"
    db = f"workshop_{uuid.uuid4().hex[:8]}"
    wg = f"StepFunctionsWorkshopWorkgroup{uuid.uuid4().hex[:6]}"
    s3.create_bucket(Bucket=data)
    s3.create_bucket(Bucket=results)
    athena.create_work_group(
        Name=wg, Configuration={"ResultConfiguration": {"OutputLocation": f"s3://{results}/"}}
    )
    sales = shape_csv(SALES_CSV, SALES_RENAMES)  # as the flow's DataBrew recipe writes them
    marketing = shape_csv(MARKETING_CSV, None)
    assert sales.num_rows == 20994 and "mailing_list_adds_" in marketing.column_names
    sales_files = write_partitioned(sales, lambda key, body: s3_put(data, f"sales/{key}", body))
    marketing_files = write_partitioned(marketing, lambda key, body: s3_put(data, f"marketing/{key}", body))
    assert sales_files > 2000

    def run(sql: str, database: str = db) -> dict:
        qid = athena.start_query_execution(
            QueryString=sql,
            WorkGroup=wg,
            QueryExecutionContext={"Database": database},
            ResultConfiguration={"OutputLocation": f"s3://{results}/"},
        )["QueryExecutionId"]
        while True:
            ex = athena.get_query_execution(QueryExecutionId=qid)["QueryExecution"]
            if ex["Status"]["State"] in ("SUCCEEDED", "FAILED", "CANCELLED"):
                assert ex["Status"]["State"] == "SUCCEEDED", ex["Status"]
                return ex
            time.sleep(0.1)

    run(f"CREATE DATABASE IF NOT EXISTS {db}", "default")
    for ddl, table in ((S1, "sales_data_output"), (M1, "marketing_data_output")):
        run(f"DROP TABLE IF EXISTS {table}")
        run(ddl.format(bucket=data))
        run(f"MSCK REPAIR TABLE {table}")
    assert (
        len(
            glue.get_partitions(DatabaseName=db, TableName="sales_data_output", MaxResults=1000)["Partitions"]
        )
        > 0
    )
    run(f"DROP TABLE IF EXISTS {db}.sales_marketing_revenue")
    started = time.perf_counter()
    ctas = run(R1_FIXED.format(db=db))
    wall = time.perf_counter() - started
    engine_ms = ctas["Statistics"]["EngineExecutionTimeInMillis"]
    with capsys.disabled():
        print(
            f"\n[R1 CTAS over {sales_files}+{marketing_files} Parquet files: engine {engine_ms} ms, "
            f"wall {wall:.3f}s, scanned {ctas['Statistics']['DataScannedInBytes']} bytes]"
        )
    assert engine_ms > 0  # the statistics are reported (their speed is measured by make bench)
    qid = ctas["QueryExecutionId"]
    location = glue.get_table(DatabaseName=db, Name="sales_marketing_revenue")["Table"]["StorageDescriptor"][
        "Location"
    ]
    assert (
        location == f"s3://{results}/tables/{qid}/"
    )  # no external_location: the workgroup's output location
    got = athena.get_paginator("get_query_results")
    select = run(
        f"SELECT * FROM {db}.sales_marketing_revenue ORDER BY CAST(year AS integer) DESC, "
        f"CAST(month AS integer) DESC"
    )
    rows = []
    for page in got.paginate(QueryExecutionId=select["QueryExecutionId"]):
        rows += [[d.get("VarCharValue") for d in r["Data"]] for r in page["ResultSet"]["Rows"]]
    assert rows[0] == ["year", "month", "total_paid_conversion", "total_weighted_revenue"]
    expected = _expected()
    assert len(expected) == 48
    assert rows[1:] == expected
