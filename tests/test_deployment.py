"""The deployment files agree with the code: run-id pattern, connection ids, compose services."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from ooo.absence import run_id_for
from ooo.airflow_api import CONNECTION
from ooo.services import FATHOM_CONN_ID, GOOGLE_CONN_ID, HUBSPOT_CONN_ID, JUSTCALL_CONN_ID, SLACK_CONN_ID

ROOT = Path(__file__).resolve().parents[1]


def test_compose_runs_every_airflow_component_with_the_run_id_pattern():
    services = compose()["services"]
    for name in ("airflow-apiserver", "airflow-scheduler", "airflow-dag-processor", "airflow-triggerer"):
        assert name in services
    pattern = services["airflow-scheduler"]["environment"]["AIRFLOW__SCHEDULER__ALLOWED_RUN_ID_PATTERN"]
    assert re.fullmatch(pattern, run_id_for("maya.patel@yellowstonelocal.com", "2026-12-07", "2026-12-11"))
    assert pattern in (ROOT / "config" / "airflow.env").read_text()


# What only the single-machine checkout sets: its executor (and how the scheduler starts its task
# processes: with Celery it starts none), and a quicker look for new DAG files.
CHECKOUT_ONLY = {"AIRFLOW__CORE__EXECUTOR", "AIRFLOW__SCHEDULER__STANDALONE_DAG_PROCESSOR",
                 "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL", "AIRFLOW__SCHEDULER__MP_START_METHOD",
                 "AIRFLOW__SCHEDULER__MP_FORKSERVER_PRELOAD"}


def test_compose_has_the_checkouts_airflow_settings():
    """A setting the product relies on (run ids, retries, slots freed at once) holds in both."""
    from devstack.stack import checkout_settings

    compose_env = compose()["x-airflow-common"]["environment"]
    shared = {key: value for key, value in checkout_settings().items() if key not in CHECKOUT_ONLY}
    assert "AIRFLOW__WORKERS__MIN_HEARTBEAT_INTERVAL" in shared
    assert {key: compose_env.get(key) for key in shared} == shared


AIRFLOW_SERVICES = ("airflow-apiserver", "airflow-scheduler", "airflow-dag-processor", "airflow-worker",
                    "airflow-triggerer", "airflow-init")


def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yaml").read_text())


def test_compose_has_the_official_shape_with_celery_workers():
    services = compose()["services"]
    assert {"postgres", "redis", *AIRFLOW_SERVICES} <= set(services)
    for name in AIRFLOW_SERVICES:
        service = services[name]
        env = service["environment"]
        assert service["build"] == "." and service["image"].startswith("ooo-pipelines:"), name
        assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor", name
        assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].startswith("postgresql+psycopg2://"), name
        assert env["AIRFLOW__CELERY__BROKER_URL"].startswith("redis://"), name
        assert env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == "http://airflow-apiserver:8080/execution/", name
        mounts = {v.split(":")[1] for v in service["volumes"]}
        assert {"/opt/airflow/dags", "/opt/airflow/plugins", "/opt/airflow/include"} <= mounts, name
    for name, service in services.items():  # every long-running service says whether it is healthy
        if name not in ("airflow-init", "flower"):
            assert service.get("healthcheck", {}).get("test"), name
    assert services["airflow-init"]["restart"] == "no"


def test_compose_commands_are_airflow_commands():
    from airflow.cli.cli_parser import get_parser

    parser = get_parser()
    services = compose()["services"]
    for name in AIRFLOW_SERVICES:
        command = services[name]["command"]
        if command[:2] == ["airflow", "celery"]:  # the Celery provider, which Airflow's image ships
            assert command[2] in ("worker", "flower"), name
        elif command[0] == "airflow":
            parser.parse_args(command[1:])  # exits (SystemExit) on an unknown command or option
    init = services["airflow-init"]["command"][-1]
    for line in ("airflow db migrate", "airflow connections get"):
        assert line in init
    for check in ('jobs check --job-type DagProcessorJob', 'jobs check --job-type TriggererJob'):
        parser.parse_args(check.split() + ["--hostname", "x"])
        assert any(check in " ".join(s.get("healthcheck", {}).get("test", [])) for s in services.values()), check


def test_compose_holds_no_secret_and_env_example_names_what_it_needs():
    text = (ROOT / "docker-compose.yaml").read_text()
    required = set(re.findall(r"\$\{(\w+):\?", text))
    assert {"POSTGRES_PASSWORD", "AIRFLOW_FERNET_KEY", "AIRFLOW_JWT_SECRET", "AIRFLOW_ADMIN_PASSWORD",
            "OOO_BOT_PASSWORD"} <= required
    assert not re.search(r"\$\{\w*(PASSWORD|SECRET|KEY)\w*:-", text), "a secret with a default"
    assert "airflow:airflow@" not in text
    env = (ROOT / ".env.example").read_text()
    for name in required | set(re.findall(r"\$\{(\w+):-", text)):
        assert re.search(rf"^{name}=", env, re.M), f".env.example does not document {name}"


def test_env_example_names_every_connection():
    env = (ROOT / ".env.example").read_text()
    for conn_id in (GOOGLE_CONN_ID, SLACK_CONN_ID, JUSTCALL_CONN_ID, HUBSPOT_CONN_ID, FATHOM_CONN_ID, CONNECTION):
        assert f"AIRFLOW_CONN_{conn_id.upper()}=" in env
