#!/usr/bin/env bash
# Entrypoint of the airflow-sfn-etl image: set the AWS environment (sandbox or real AWS, from
# SFN_ETL_AWS_ENDPOINT_URL), then hand over to the official Airflow image's /entrypoint.
set -euo pipefail
# shellcheck source=docker/aws-env.sh
source "$(dirname "$0")/aws-env.sh"
exec /entrypoint "$@"
