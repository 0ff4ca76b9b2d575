"""DAG tests: the real DAG run with ``dag.test()`` (deferred waits run inline) against the sandbox."""

from __future__ import annotations

from pathlib import Path

import pytest

DAGS = Path(__file__).resolve().parents[2] / "dags"


@pytest.fixture
def absence_dag():
    """A freshly parsed DAG: ``dag.test(run_conf=...)`` leaves the conf in the DAG's params."""
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(DAGS)).dags["ooo_absence"]
