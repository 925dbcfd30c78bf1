"""The sandbox's Step Functions service integrations, for moto's interpreter.

moto (5.2.x) runs executions with an ASL interpreter ported from LocalStack. These classes give
it what the sandbox's flows need and moto lacks: ``.sync`` for Glue job runs that does not crash
(:mod:`.sync`, :mod:`.glue`), Athena (:mod:`.athena`) and DataBrew (:mod:`.databrew`)
integrations, nested executions (:mod:`.states`: ``states:startExecution`` with ``.sync``,
``.sync:2`` and ``.waitForTaskToken``), aws-sdk calls with AWS's parameter and result casing and
JSON-safe results (:mod:`.aws_sdk`, :mod:`.results`), and stopping the AWS run of a ``.sync`` task
when its execution stops waiting for it.
:mod:`airflow_sfn_etl_sandbox.moto_patches.task_services` puts them in when the sandbox starts.
"""
