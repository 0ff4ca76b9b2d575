"""End-to-end fixtures: the real DAG, run through Airflow against the sandbox."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from airflow.models import DagRun, TaskInstance
from airflow.models.xcom import XComModel
from airflow.utils.session import create_session

from devstack.postgres import Postgres

DAGS = Path(__file__).resolve().parents[2] / "dags"


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """A real-stack module runs once per metadata DB: ``--metadata-db``, else its ``metadata_dbs`` mark."""
    if "metadata_backend" not in metafunc.fixturenames:
        return
    chosen = metafunc.config.getoption("metadata_db")
    mark = metafunc.definition.get_closest_marker("metadata_dbs")
    backends = [chosen] if chosen else list(mark.args) if mark else ["sqlite"]
    metafunc.parametrize("metadata_backend", backends, indirect=True, scope="module")


@pytest.fixture(scope="module")
def metadata_backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture(scope="session")
def postgres() -> Iterator[Postgres]:
    """One throwaway PostgreSQL for the session, started when a module first asks for it."""
    with Postgres() as server:
        yield server


@pytest.fixture(scope="module")
def metadata_db(metadata_backend: str, request: pytest.FixtureRequest) -> dict[str, str]:
    """Airflow settings for a real stack's metadata DB: none for SQLite, else a fresh PostgreSQL database."""
    if metadata_backend == "sqlite":
        return {}
    return {"AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": request.getfixturevalue("postgres").database()}


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


def _xcom(ti: TaskInstance, key: str = "return_value") -> Any:
    with create_session() as session:
        row = session.query(XComModel).filter_by(dag_id=ti.dag_id, run_id=ti.run_id, task_id=ti.task_id,
                                                 map_index=ti.map_index, key=key).one_or_none()
        return XComModel.deserialize_value(row) if row else None


def run_plan(tis: list[TaskInstance]) -> dict[str, Any]:
    return _xcom(next(t for t in tis if t.task_id == "validate"), key="plan")


def review_records(tis: list[TaskInstance]) -> list[dict[str, Any]]:
    return [_xcom(t) for t in sorted(tis, key=lambda t: t.map_index) if t.task_id == "sms_review"]
