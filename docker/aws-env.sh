# shellcheck shell=bash
# Sourced by docker/entrypoint.sh (and the sandbox-provision service): sets the AWS environment.
#
#   SFN_ETL_AWS_ENDPOINT_URL non-empty (compose default http://sandbox:4566)
#       -> the local sandbox: dummy credentials, AWS_ENDPOINT_URL, and an aws_default
#          connection whose extra carries that endpoint_url.
#   SFN_ETL_AWS_ENDPOINT_URL empty
#       -> real AWS: no endpoint override; credentials come from boto3's usual chain
#          (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY/AWS_SESSION_TOKEN, AWS_PROFILE with a mounted
#          ~/.aws, or the instance/task role).
#
# An AIRFLOW_CONN_AWS_DEFAULT given explicitly is kept as it is.

sfn_etl_endpoint="${SFN_ETL_AWS_ENDPOINT_URL-}"
export AWS_DEFAULT_REGION="${AWS_DEFAULT_REGION:-us-east-1}"

# Compose passes unset host variables as empty strings; boto3 must not see empty credentials.
for sfn_etl_var in AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN AWS_PROFILE AWS_ENDPOINT_URL \
                   AIRFLOW_CONN_AWS_DEFAULT; do
    if [ -z "${!sfn_etl_var:-}" ]; then
        unset "$sfn_etl_var"
    fi
done

if [ -n "$sfn_etl_endpoint" ]; then
    # The sandbox accepts any credentials; never hand it real ones.
    export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing
    unset AWS_SESSION_TOKEN AWS_PROFILE
    export AWS_ENDPOINT_URL="$sfn_etl_endpoint"
    if [ -z "${AIRFLOW_CONN_AWS_DEFAULT:-}" ]; then
        export AIRFLOW_CONN_AWS_DEFAULT="{\"conn_type\": \"aws\", \"login\": \"testing\", \"password\": \"testing\", \"extra\": {\"region_name\": \"${AWS_DEFAULT_REGION}\", \"endpoint_url\": \"${sfn_etl_endpoint}\"}}"
    fi
else
    unset AWS_ENDPOINT_URL
    if [ -z "${AIRFLOW_CONN_AWS_DEFAULT:-}" ]; then
        export AIRFLOW_CONN_AWS_DEFAULT="{\"conn_type\": \"aws\", \"extra\": {\"region_name\": \"${AWS_DEFAULT_REGION}\"}}"
    fi
fi
unset sfn_etl_endpoint sfn_etl_var
