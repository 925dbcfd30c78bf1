"""Sales summary report, scheduled on the summary table's Asset.

The DAG ships in the airflow-sfn-etl-flows distribution
(``airflow_sfn_etl_flows/dags/sales_summary_report.py``); this file puts it in Airflow's DAG folder.
"""

from airflow_sfn_etl_flows.dags.sales_summary_report import dag  # noqa: F401
