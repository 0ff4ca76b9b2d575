"""Running one absence with ``dag.test()`` and reading what its tasks recorded."""

from __future__ import annotations

import datetime as dt
from typing import Any

from airflow.models import DagRun, TaskInstance
from airflow.models.xcom import XComModel
from airflow.utils.session import create_session


def run_absence(dag, params: dict[str, Any], logical_date: dt.datetime) -> tuple[DagRun, list[TaskInstance]]:
    """Run one absence with ``dag.test()`` (deferred waits run inline) and return its task instances."""
    conf = {"reachable": False, "note": "", "kind": "planned", **params}
    dag_run = dag.test(logical_date=logical_date, run_conf=conf)
    with create_session() as session:
        tis = session.query(TaskInstance).filter(TaskInstance.run_id == dag_run.run_id).all()
        session.expunge_all()
    return dag_run, tis


def xcom(ti: TaskInstance, key: str = "return_value") -> Any:
    with create_session() as session:
        row = session.query(XComModel).filter_by(dag_id=ti.dag_id, run_id=ti.run_id, task_id=ti.task_id,
                                                 map_index=ti.map_index, key=key).one_or_none()
        return XComModel.deserialize_value(row) if row else None


def run_plan(tis: list[TaskInstance]) -> dict[str, Any]:
    return xcom(next(t for t in tis if t.task_id == "validate"), key="plan")


def review_records(tis: list[TaskInstance]) -> list[dict[str, Any]]:
    return [xcom(t) for t in sorted(tis, key=lambda t: t.map_index) if t.task_id == "sms_review"]
