"""Run one reference DAG with ``dag.test()`` in a process of its own: ``python run_flow.py DAG_ID CONF_JSON``.

The OpenLineage provider reads its configuration (``AIRFLOW__OPENLINEAGE__*``) and registers its
listener when Airflow loads plugins, once per process: a fresh process sees the configuration the
test set, as a worker started with it would. Prints ``RESULT <json>``: the run's id and state and
``{task_id: state}``.
"""

from __future__ import annotations

import json
import sys

from airflow.dag_processing.dagbag import DagBag

from airflow_sfn_etl_flows.settings import DAGS_FOLDER


def main(dag_id: str, conf: dict) -> None:
    bag = DagBag(str(DAGS_FOLDER))
    dag = bag.get_dag(dag_id)
    if dag is None:
        raise SystemExit(f"{dag_id} not loaded: {bag.import_errors}")
    run = dag.test(run_conf=conf)
    states = {ti.task_id: str(ti.state) for ti in run.get_task_instances()}
    print("RESULT " + json.dumps({"run_id": run.run_id, "state": str(run.state), "tasks": states}), flush=True)


if __name__ == "__main__":
    main(sys.argv[1], json.loads(sys.argv[2]))
