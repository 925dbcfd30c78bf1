"""Clean a staging prefix, then rebuild and run the job from its script: listing the bucket and
creating the job are not what a state machine task does."""

from __future__ import annotations

from datetime import datetime

from airflow.providers.amazon.aws.operators.glue import GlueJobOperator
from airflow.providers.amazon.aws.operators.s3 import S3DeleteObjectsOperator
from airflow.sdk import DAG

with DAG(dag_id="corpus_s3_prefix_cleanup", schedule=None, start_date=datetime(2026, 1, 1)):
    clean_staging = S3DeleteObjectsOperator(task_id="clean_staging", bucket="corpus-bucket", prefix="staging/")
    rebuild = GlueJobOperator(
        task_id="rebuild",
        job_name="corpus_rebuild",
        script_location="s3://corpus-bucket/scripts/rebuild.py",
        iam_role_name="corpus-glue",
        create_job_kwargs={"GlueVersion": "4.0", "WorkerType": "G.1X", "NumberOfWorkers": 2},
    )
    clean_staging >> rebuild
