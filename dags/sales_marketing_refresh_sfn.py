"""Monthly Sales + Marketing refresh, on the Step Functions engine.

The DAG, its SQL, recipes and scripts ship in the airflow-sfn-etl-flows distribution
(``airflow_sfn_etl_flows/dags/sales_marketing_refresh_sfn.py``); this file puts it in Airflow's DAG folder.
"""

from airflow_sfn_etl_flows.dags.sales_marketing_refresh_sfn import dag  # noqa: F401
