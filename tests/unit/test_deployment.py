"""The deployment files agree with the code: run-id pattern, connection ids, compose services."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from ooo.absence import run_id_for
from ooo.airflow_api import CONNECTION
from ooo.services import FATHOM_CONN_ID, GOOGLE_CONN_ID, HUBSPOT_CONN_ID, JUSTCALL_CONN_ID, SLACK_CONN_ID

ROOT = Path(__file__).resolve().parents[2]


def test_compose_runs_every_airflow_component_with_the_run_id_pattern():
    compose = yaml.safe_load((ROOT / "docker-compose.yaml").read_text())
    services = compose["services"]
    for name in ("airflow-apiserver", "airflow-scheduler", "airflow-dag-processor", "airflow-triggerer"):
        assert name in services
    pattern = services["airflow-scheduler"]["environment"]["AIRFLOW__SCHEDULER__ALLOWED_RUN_ID_PATTERN"]
    assert re.fullmatch(pattern, run_id_for("maya.patel@yellowstonelocal.com", "2026-12-07", "2026-12-11"))
    assert pattern in (ROOT / "config" / "airflow.env").read_text()


def test_env_example_names_every_connection():
    env = (ROOT / ".env.example").read_text()
    for conn_id in (GOOGLE_CONN_ID, SLACK_CONN_ID, JUSTCALL_CONN_ID, HUBSPOT_CONN_ID, FATHOM_CONN_ID, CONNECTION):
        assert f"AIRFLOW_CONN_{conn_id.upper()}=" in env
