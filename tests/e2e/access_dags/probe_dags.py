"""Throwaway DAGs for tests/e2e/test_access.py, copied beside the product's DAGs into that test
stack's own dags folder (never the product's): ``not_ooo``, a DAG outside the ooo roles' reach,
and ``hitl_probe``, an approval assigned to one manager by login (their roster email).

``hitl_probe`` gives the ooo-manager role, through Airflow's per-DAG ``access_control``, the same
rights on it that the role has on ``ooo_absence`` (read, and edit to answer): so whether a
manager may answer it is decided by the assignment alone (``ooo.auth_manager``).
"""

from __future__ import annotations

import pendulum
from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.providers.standard.operators.hitl import HITLOperator
from airflow.sdk import DAG

ASSIGNED = {"id": "allison.reed@yellowstonelocal.com", "name": "Allison Reed"}
START = pendulum.datetime(2026, 1, 1, tz="UTC")

with DAG(dag_id="not_ooo", schedule=None, start_date=START, catchup=False):
    EmptyOperator(task_id="nothing")

with DAG(dag_id="hitl_probe", schedule=None, start_date=START, catchup=False,
         access_control={"ooo-manager": {"DAGs": {"can_read", "can_edit"}}}):
    HITLOperator(task_id="approve", subject="Probe approval", options=["Approve", "Reject"],
                 assigned_users=[ASSIGNED])
