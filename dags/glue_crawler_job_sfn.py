"""Glue crawler -> poll -> Glue job, on the Step Functions engine.

The DAG, its SQL, recipes and scripts ship in the airflow-sfn-etl-flows distribution
(``airflow_sfn_etl_flows/dags/glue_crawler_job_sfn.py``); this file puts it in Airflow's DAG folder.
"""

from airflow_sfn_etl_flows.dags.glue_crawler_job_sfn import dag  # noqa: F401
