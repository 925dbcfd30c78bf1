#!/usr/bin/env bash
# Create (or bring up to date) the AWS resources of both reference flows: buckets, raw data,
# DataBrew datasets/recipes/jobs, Athena workgroup, Glue database, crawler, Glue Spark job,
# SNS topic (+ an SQS queue to read the notices back). Idempotent.
#
# Runs against SFN_ETL_AWS_ENDPOINT_URL (the sandbox by default). With it empty (real AWS) it
# does nothing unless SFN_ETL_PROVISION_REAL_AWS=true, so a stack pointed at an account never
# creates resources there by surprise. Data files come from SFN_ETL_DATA_DIR (its workshop/
# and seed/ folders).
set -euo pipefail
# shellcheck source=docker/aws-env.sh
source "$(dirname "$0")/aws-env.sh"

if [ -z "${SFN_ETL_AWS_ENDPOINT_URL-}" ] && [ "${SFN_ETL_PROVISION_REAL_AWS:-false}" != "true" ]; then
    echo "provision: SFN_ETL_AWS_ENDPOINT_URL is empty (real AWS) and SFN_ETL_PROVISION_REAL_AWS is not" \
         "'true': not creating anything."
    exit 0
fi

exec python -c '
import os
import boto3
from airflow_sfn_etl_flows.provision import provision_crawler_job, provision_sales_marketing
from airflow_sfn_etl_flows.settings import shared_data_dir

endpoint = os.environ.get("SFN_ETL_AWS_ENDPOINT_URL") or None
session = boto3.Session(region_name=os.environ.get("AWS_DEFAULT_REGION", "us-east-1"))
data = shared_data_dir()
where = endpoint or "real AWS"
sales = provision_sales_marketing(session, data / "workshop", endpoint_url=endpoint)
print(f"provision: sales/marketing resources ready on {where}: {sales}", flush=True)
crawler = provision_crawler_job(session, data / "seed", endpoint_url=endpoint)
print(f"provision: crawler/job resources ready on {where}: {crawler}", flush=True)
'
