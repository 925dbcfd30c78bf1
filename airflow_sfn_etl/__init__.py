"""Airflow provider for AWS ETL: Glue, DataBrew, Athena, SNS and Step Functions."""
