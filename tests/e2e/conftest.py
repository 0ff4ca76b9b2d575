"""End-to-end fixtures: the real DAG, run through Airflow against the sandbox."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from airflow.models import DagRun, TaskInstance
from airflow.utils.session import create_session

DAGS = Path(__file__).resolve().parents[2] / "dags"


@pytest.fixture
def absence_dag():
    """A freshly parsed DAG: ``dag.test(run_conf=...)`` leaves the conf in the DAG's params."""
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(DAGS)).dags["ooo_absence"]


def run_absence(dag, params: dict[str, Any], logical_date: dt.datetime) -> tuple[DagRun, list[TaskInstance]]:
    """Run one absence with ``dag.test()`` (deferred waits run inline) and return its task instances."""
    conf = {"reachable": False, "note": "", "kind": "planned", **params}
    dag_run = dag.test(logical_date=logical_date, run_conf=conf)
    with create_session() as session:
        tis = session.query(TaskInstance).filter(TaskInstance.run_id == dag_run.run_id).all()
        session.expunge_all()
    return dag_run, tis
