"""Monthly Sales + Marketing refresh, on the Step Functions engine.

The state machine is the one compiled from ``sales_marketing_refresh`` (the Airflow-engine
twin) and committed as ``state_machines/sales_marketing_refresh.asl.json``
(``airflow-sfn-etl build-state-machines``). This DAG deploys it (create or update, with an execution
role holding the generated least-privilege policy) and runs it once per DAG run, with this
run's params as the execution input: both engines take identical params, and both update the
summary table's Asset (``sales_marketing_revenue``).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from airflow.sdk import DAG

from airflow_sfn_etl.operators.step_function import StepFunctionDeployOperator, StepFunctionRunOperator
from airflow_sfn_etl_flows.assets import sales_marketing_summary
from airflow_sfn_etl_flows.params import sales_marketing_params, state_machine_params

DEFINITION = Path(__file__).resolve().parent.parent / "state_machines" / "sales_marketing_refresh.asl.json"

with DAG(
    dag_id="sales_marketing_refresh_sfn",
    description="Monthly Sales + Marketing refresh as one Step Functions execution (compiled from "
                "sales_marketing_refresh)",
    schedule="@monthly",
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    params={
        **sales_marketing_params(),
        **state_machine_params(name="sales-marketing-refresh", role_name="sfn-etl-sales-marketing-refresh"),
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
        outlets=[sales_marketing_summary()],
    )
    deploy >> run
