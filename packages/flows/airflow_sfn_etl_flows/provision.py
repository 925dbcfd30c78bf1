"""Create (or bring up to date) the AWS resources the two reference flows use.

Idempotent: running it again updates what exists and creates what is missing. Works on
any endpoint: the local sandbox or a real AWS account (give it a boto3 session with the
right credentials and region). Never called at DAG import.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import ClientError

from .settings import DAGS_FOLDER, CrawlerJobSettings, SalesMarketingSettings

log = logging.getLogger(__name__)

SALES_CSV = "sales_pipeline_data.csv"
MARKETING_CSV = "marketing_data.csv"
CRAWLER_CSV = "csvlog.csv"
RECIPES = DAGS_FOLDER / "databrew"
GLUE_SCRIPTS = DAGS_FOLDER / "glue_scripts"


def _code(err: ClientError) -> str:
    return str(err.response.get("Error", {}).get("Code", ""))


def ensure_bucket(s3: Any, bucket: str, region: str) -> None:
    try:
        if region == "us-east-1":
            s3.create_bucket(Bucket=bucket)
        else:
            s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": region})
    except ClientError as err:
        if _code(err) not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
            raise


def ensure_glue_database(glue: Any, name: str) -> None:
    try:
        glue.create_database(DatabaseInput={"Name": name})
    except ClientError as err:
        if _code(err) != "AlreadyExistsException":
            raise


def load_recipe(name: str) -> list[dict[str, Any]]:
    """The recipe steps in ``dags/databrew/<name>.json``."""
    path = RECIPES / f"{name}.json"
    if not path.exists():
        raise FileNotFoundError(f"DataBrew recipe file {path} is missing; expected one of "
                                f"{sorted(p.name for p in RECIPES.glob('*.json'))}")
    return json.loads(path.read_text())["Steps"]


def ensure_databrew_job(databrew: Any, *, job: str, dataset: str, bucket: str, key: str, recipe: str,
                        output_bucket: str, output_prefix: str, role_arn: str) -> None:
    """Dataset + published recipe + recipe job writing partitioned Parquet."""
    dataset_args = {"Name": dataset, "Format": "CSV",
                    "FormatOptions": {"Csv": {"Delimiter": ",", "HeaderRow": True}},
                    "Input": {"S3InputDefinition": {"Bucket": bucket, "Key": key}}}
    try:
        databrew.create_dataset(**dataset_args)
    except ClientError as err:
        if _code(err) != "ConflictException":
            raise
        databrew.update_dataset(**dataset_args)
    steps = load_recipe(recipe)
    try:
        databrew.create_recipe(Name=recipe, Steps=steps)
    except ClientError as err:
        if _code(err) != "ConflictException":
            raise
        databrew.update_recipe(Name=recipe, Steps=steps)
    databrew.publish_recipe(Name=recipe)
    job_args = {
        "Name": job,
        "RoleArn": role_arn,
        "RecipeReference": {"Name": recipe, "RecipeVersion": "LATEST_PUBLISHED"},
        "Outputs": [{
            "Location": {"Bucket": output_bucket, "Key": output_prefix},
            "Format": "PARQUET",
            "CompressionFormat": "SNAPPY",
            "PartitionColumns": ["year", "month", "day"],
            "Overwrite": True,
        }],
    }
    try:
        databrew.create_recipe_job(DatasetName=dataset, **job_args)
    except ClientError as err:
        if _code(err) != "ConflictException":
            raise
        databrew.update_recipe_job(**job_args)


def ensure_workgroup(athena: Any, name: str, output_location: str) -> None:
    config = {"ResultConfiguration": {"OutputLocation": output_location}}
    try:
        athena.create_work_group(Name=name, Configuration=config)
    except ClientError as err:
        if _code(err) != "InvalidRequestException":
            raise
        athena.update_work_group(WorkGroup=name, ConfigurationUpdates={
            "ResultConfigurationUpdates": {"OutputLocation": output_location}})


def provision_sales_marketing(session: boto3.Session, data_dir: Path,
                              settings: SalesMarketingSettings | None = None,
                              endpoint_url: str | None = None) -> dict[str, str]:
    """Buckets, raw data, DataBrew jobs, Athena workgroup, Glue database and SNS topic.

    Returns the ARNs/URLs created: ``topic_arn`` and ``queue_url`` (an SQS queue subscribed
    to the topic, where the flow's notices can be read back).
    """
    s = settings or SalesMarketingSettings()
    region = session.region_name or "us-east-1"
    kw = {"endpoint_url": endpoint_url} if endpoint_url else {}
    s3 = session.client("s3", **kw)
    for bucket in (s.raw_bucket, s.transformed_bucket, s.athena_query_bucket):
        ensure_bucket(s3, bucket, region)
    for prefix, name in (("sales", SALES_CSV), ("marketing", MARKETING_CSV)):
        path = data_dir / name
        if not path.exists():
            raise FileNotFoundError(f"workshop data file {path} is missing (expected the shared data folder)")
        s3.upload_file(str(path), s.raw_bucket, f"{prefix}/{name}")
    databrew = session.client("databrew", **kw)
    for kind, job, csv in (("sales", s.sales_job, SALES_CSV), ("marketing", s.marketing_job, MARKETING_CSV)):
        ensure_databrew_job(databrew, job=job, dataset=f"{kind}-data", bucket=s.raw_bucket,
                            key=f"{kind}/{csv}", recipe=f"{kind}-data-recipe",
                            output_bucket=s.transformed_bucket, output_prefix=f"{kind}/",
                            role_arn=s.databrew_role_arn)
    ensure_workgroup(session.client("athena", **kw), s.workgroup, f"s3://{s.athena_query_bucket}/")
    ensure_glue_database(session.client("glue", **kw), s.database)
    sns = session.client("sns", **kw)
    topic_arn = sns.create_topic(Name=s.topic)["TopicArn"]
    sqs = session.client("sqs", **kw)
    queue_url = sqs.create_queue(QueueName=f"{s.topic}-notices")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    subs = sns.list_subscriptions_by_topic(TopicArn=topic_arn)["Subscriptions"]
    if not any(sub["Endpoint"] == queue_arn for sub in subs):
        sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn,
                      Attributes={"RawMessageDelivery": "true"})
    log.info("sales/marketing resources ready (topic %s)", topic_arn)
    return {"topic_arn": topic_arn, "queue_url": queue_url}


def provision_crawler_job(session: boto3.Session, data_dir: Path, settings: CrawlerJobSettings | None = None,
                          endpoint_url: str | None = None) -> dict[str, str]:
    """Bucket, crawler input, Glue database, crawler ``se2_in0`` and Glue Spark job ``se2_job0``."""
    s = settings or CrawlerJobSettings()
    region = session.region_name or "us-east-1"
    kw = {"endpoint_url": endpoint_url} if endpoint_url else {}
    s3 = session.client("s3", **kw)
    ensure_bucket(s3, s.bucket, region)
    csv = data_dir / CRAWLER_CSV
    if not csv.exists():
        raise FileNotFoundError(f"crawler input {csv} is missing (expected the shared data folder)")
    s3.upload_file(str(csv), s.bucket, f"{s.input_prefix}{CRAWLER_CSV}")
    script_key = "scripts/se2_job0_pyspark.py"
    s3.upload_file(str(GLUE_SCRIPTS / "se2_job0_pyspark.py"), s.bucket, script_key)
    glue = session.client("glue", **kw)
    ensure_glue_database(glue, s.glue_database)
    crawler_args = {"Role": s.glue_role_arn, "DatabaseName": s.glue_database, "TablePrefix": s.table_prefix,
                    "Targets": {"S3Targets": [{"Path": f"s3://{s.bucket}/{s.input_prefix}"}]}}
    try:
        glue.create_crawler(Name=s.crawler, **crawler_args)
    except ClientError as err:
        if _code(err) != "AlreadyExistsException":
            raise
        glue.update_crawler(Name=s.crawler, **crawler_args)
    job_args = {
        "Role": s.glue_role_arn,
        # The seed's PySpark script as a Glue 5.0 Spark job (Spark 3.5, Python 3), 2 G.1X workers.
        "Command": {"Name": "glueetl", "ScriptLocation": f"s3://{s.bucket}/{script_key}", "PythonVersion": "3"},
        "GlueVersion": "5.0",
        "WorkerType": "G.1X",
        "NumberOfWorkers": 2,
        # The flow passes each run's own --output_path (a prefix per run): the Spark sink appends.
        "DefaultArguments": {"--database": s.glue_database, "--table": s.table,
                             "--output_path": f"s3://{s.bucket}/{s.output_prefix}"},
        # The DAG allows 4 active runs; AWS's default of 1 concurrent job run would refuse the others.
        "ExecutionProperty": {"MaxConcurrentRuns": 4},
    }
    try:
        glue.get_job(JobName=s.job)
        glue.update_job(JobName=s.job, JobUpdate=job_args)
    except ClientError as err:
        if _code(err) != "EntityNotFoundException":
            raise
        glue.create_job(Name=s.job, **job_args)
    return {"crawler": s.crawler, "job": s.job}
