"""Glue crawler -> poll -> Glue job, on the Step Functions engine.

The state machine is the one compiled from ``glue_crawler_job`` (the Airflow-engine twin) and
committed as ``state_machines/glue_crawler_job.asl.json`` (``airflow-sfn-etl build-state-machines``):
``aws-sdk:glue:startCrawler`` (joining a running crawl), a Wait / ``getCrawler`` / Choice loop
bounded by a ``States.MathAdd`` counter, then ``glue:startJobRun.sync``; no Lambda. This DAG
deploys it (create or update, with an execution role holding the generated least-privilege
policy) and runs it once per DAG run, with this run's params as the execution input.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from airflow.sdk import DAG

from airflow_sfn_etl.operators.step_function import StepFunctionDeployOperator, StepFunctionRunOperator
from airflow_sfn_etl_flows.assets import crawler_job_output
from airflow_sfn_etl_flows.params import glue_crawler_job_params, state_machine_params

DEFINITION = Path(__file__).resolve().parent.parent / "state_machines" / "glue_crawler_job.asl.json"

with DAG(
    dag_id="glue_crawler_job_sfn",
    description="Glue crawler se2_in0 -> poll -> Glue job se2_job0 as one Step Functions execution "
                "(compiled from glue_crawler_job)",
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=4,
    params={
        **glue_crawler_job_params(),
        **state_machine_params(name="glue-crawler-job", role_name="sfn-etl-glue-crawler-job"),
    },
    tags=["sfn-etl", "step-functions"],
    doc_md=__doc__,
) as dag:
    deploy = StepFunctionDeployOperator(
        task_id="deploy_state_machine", task_display_name="Deploy State Machine",
        state_machine_name="{{ params.state_machine_name }}",
        definition=str(DEFINITION),
        create_role=True, role_name="{{ params.role_name }}",
        retries=2, retry_delay=timedelta(seconds=10),
    )
    run = StepFunctionRunOperator(
        task_id="run_state_machine", task_display_name="Run State Machine",
        state_machine_arn="{{ ti.xcom_pull(task_ids='deploy_state_machine') }}",
        poll_interval=5, max_poll_interval=15, deferrable=True,
        outlets=[crawler_job_output()],
    )
    deploy >> run
