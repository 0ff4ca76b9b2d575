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


@pytest.fixture(autouse=True)
def dag_test_may_record_approvals(tmp_path, monkeypatch):
    """``dag.test()`` files its runs as the login ``dag_test``: the tests' roster (the sample team) lets it
    record approvals (``approved_by``), as a team lets its HR integration."""
    import yaml

    from ooo.team import SAMPLE_TEAM_FILE

    raw = yaml.safe_load(SAMPLE_TEAM_FILE.read_text())
    raw["team"]["approvers"] = [*raw["team"].get("approvers", []), "dag_test"]
    path = tmp_path / "team.yaml"
    path.write_text(yaml.safe_dump(raw))
    monkeypatch.setenv("OOO_TEAM_FILE", str(path))
