"""Operators for Glue, DataBrew, Athena, SNS and Step Functions."""
