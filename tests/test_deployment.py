"""The deployment files agree with the code: run-id pattern, connection ids, compose services."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from ooo.absence import run_id_for
from ooo.airflow_api import CONNECTION
from ooo.services import (
    FATHOM_CONN_ID,
    GOOGLE_CONN_ID,
    HUBSPOT_CONN_ID,
    JUSTCALL_CONN_ID,
    SLACK_CONN_ID,
    SLACK_USER_CONN_ID,
)

ROOT = Path(__file__).resolve().parents[1]


def test_compose_runs_every_airflow_component_with_the_run_id_pattern():
    services = compose()["services"]
    for name in ("airflow-apiserver", "airflow-scheduler", "airflow-dag-processor", "airflow-triggerer"):
        assert name in services
    pattern = services["airflow-scheduler"]["environment"]["AIRFLOW__SCHEDULER__ALLOWED_RUN_ID_PATTERN"]
    assert re.fullmatch(pattern, run_id_for("maya.patel@yellowstonelocal.com", "2026-12-07", "2026-12-11"))
    assert pattern in (ROOT / "config" / "airflow.env").read_text()


# What only the single-machine checkout sets: its executor and a quicker look for new DAG files.
CHECKOUT_ONLY = {"AIRFLOW__CORE__EXECUTOR", "AIRFLOW__SCHEDULER__STANDALONE_DAG_PROCESSOR",
                 "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL"}


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
    assert {"POSTGRES_PASSWORD", "AIRFLOW_FERNET_KEY", "AIRFLOW_JWT_SECRET", "AIRFLOW_SECRET_KEY",
            "AIRFLOW_ADMIN_PASSWORD", "OOO_BOT_PASSWORD"} <= required
    # An optional secret may default to nothing (no such login), never to a value.
    assert not re.search(r"\$\{\w*(PASSWORD|SECRET|KEY)\w*:-[^}]", text), "a secret with a default"
    assert "airflow:airflow@" not in text
    env = (ROOT / ".env.example").read_text()
    for name in required | set(re.findall(r"\$\{(\w+):-", text)):
        assert re.search(rf"^{name}=", env, re.M), f".env.example does not document {name}"


def test_env_example_names_every_connection():
    env = (ROOT / ".env.example").read_text()
    for conn_id in (GOOGLE_CONN_ID, SLACK_CONN_ID, JUSTCALL_CONN_ID, HUBSPOT_CONN_ID, FATHOM_CONN_ID, CONNECTION,
                    SLACK_USER_CONN_ID):
        assert f"AIRFLOW_CONN_{conn_id.upper()}=" in env
    # the admin's user token is opt-in: named and explained, not set by copying the file
    assert re.search(rf"^# AIRFLOW_CONN_{SLACK_USER_CONN_ID.upper()}=.*xoxp-", env, re.M)


def test_compose_requires_the_needed_connections_and_only_mentions_the_optional_ones():
    init = compose()["services"]["airflow-init"]["command"][-1]
    loops = re.findall(r"for conn in ([\w ]+); do\n(.*?)\n\s*done", init, re.S)
    required = {c for names, body in loops if "exit 1" in body for c in names.split()}
    optional = {c for names, body in loops if "exit 1" not in body for c in names.split()}
    assert required == {GOOGLE_CONN_ID, SLACK_CONN_ID, JUSTCALL_CONN_ID, HUBSPOT_CONN_ID, CONNECTION}
    assert optional == {FATHOM_CONN_ID, SLACK_USER_CONN_ID}


def test_compose_signs_people_in_with_the_fab_auth_manager_and_the_projects_roles():
    """No simple auth manager (Airflow's, for development only) anywhere; every component runs the
    checkout's auth manager; airflow-init applies the roles and logins with ooo.access's command."""
    import shlex

    from ooo.access import BOT, parser
    from ooo.auth_manager import CLASS_PATH

    text = (ROOT / "docker-compose.yaml").read_text()
    assert "SIMPLE_AUTH_MANAGER" not in text.upper() and "simple_auth_manager" not in text
    services = compose()["services"]
    for name in AIRFLOW_SERVICES:
        assert services[name]["environment"]["AIRFLOW__CORE__AUTH_MANAGER"] == CLASS_PATH, name
    init = services["airflow-init"]["command"][-1].replace("\\\n", " ")
    line = next(line for line in init.splitlines() if "python -m ooo.access" in line)
    words = shlex.split(line.replace("$$", "$"))
    assert words[:3] == ["python", "-m", "ooo.access"]
    args = parser().parse_args(words[3:])  # exits (SystemExit) on an unknown option
    assert args.command == "apply" and args.roster_managers
    logins = {spec.split(":")[0]: spec.split(":")[1] for spec in args.login}
    assert logins["admin"] == "Admin" and logins["ooo-bot"] == BOT
    assert init.index("airflow db migrate") < init.index("python -m ooo.access apply")
    conn = (ROOT / ".env.example").read_text().split("AIRFLOW_CONN_OOO_AIRFLOW=", 1)[1].splitlines()[0]
    assert '"login": "ooo-bot"' in conn  # the connection signs in as the bot, not as admin


def test_the_checkout_runs_the_same_auth_manager():
    from devstack.stack import checkout_settings
    from ooo.auth_manager import CLASS_PATH

    assert checkout_settings()["AIRFLOW__CORE__AUTH_MANAGER"] == CLASS_PATH
    assert "SIMPLE_AUTH_MANAGER" not in (ROOT / "devstack" / "stack.py").read_text()


def test_the_production_stack_runs_with_the_composes_airflow_settings(tmp_path):
    """devstack's production shape takes every compose setting but what names compose's machines, secrets
    and logins; those it sets for its own database, broker and URL. The executor is Celery."""
    from devstack.production import MACHINE_SPECIFIC, ProductionStack
    from devstack.redis import Redis

    compose_env = compose()["x-airflow-common"]["environment"]
    redis = Redis()
    redis.port = 6390
    database = "postgresql+psycopg2://airflow:pw@127.0.0.1:5499/airflow_1"
    stack = ProductionStack(tmp_path, 8099, database, redis, env={"AIRFLOW__CORE__DEFAULT_TASK_RETRIES": "0"})
    env = stack.env()
    portable = {k: str(v) for k, v in compose_env.items()
                if k.startswith("AIRFLOW__") and k not in MACHINE_SPECIFIC and "${" not in str(v)}
    assert portable["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    expected = {**portable, "AIRFLOW__CORE__DEFAULT_TASK_RETRIES": "0"}  # a test's own setting wins
    assert {k: env.get(k) for k in expected} == expected
    assert len(portable) >= 8 and "AIRFLOW__CELERY__CELERY_CONFIG_OPTIONS" in portable
    assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] == database
    assert env["AIRFLOW__CELERY__RESULT_BACKEND"] == f"db+{database}"
    assert env["AIRFLOW__CELERY__BROKER_URL"] == "redis://127.0.0.1:6390/0"
    assert env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == "http://localhost:8099/execution/"
    assert len(stack.workers) == len(stack.triggerers) == 2
    commands = {name: stack.command(name) for name in stack.components}
    assert commands["worker-1"][1:4] == ["celery", "worker", "--celery-hostname"]
    assert commands["worker-1"][4] != commands["worker-2"][4]
    ports = {stack.component_env(w)["AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT"] for w in stack.workers}
    ports |= {stack.component_env(t)["AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT"] for t in stack.triggerers}
    assert len(ports) == 4  # each log server its own port, as each container has its own


def test_the_celery_config_is_airflows_with_a_publish_retry_longer_than_the_operation_timeout():
    """A Celery worker's app takes celery_config_options alone: it must hold all of Airflow's defaults (the
    broker above all); the publish retry must outlast [celery] operation_timeout, so that a broker outage
    is a timeout the executor tries again, not a failed task (docs/RELIABILITY.md, "The production shape")."""
    from airflow.configuration import conf
    from airflow.providers.celery.executors.default_celery import DEFAULT_CELERY_CONFIG

    from ooo.celery_config import CELERY_CONFIG

    assert {key: CELERY_CONFIG[key] for key in DEFAULT_CELERY_CONFIG} == DEFAULT_CELERY_CONFIG
    policy = CELERY_CONFIG["task_publish_retry_policy"]
    waits = [min(policy["interval_start"] + n * policy["interval_step"], policy["interval_max"])
             for n in range(policy["max_retries"])]
    assert sum(waits) > 10 * conf.getfloat("celery", "operation_timeout")
    compose_env = compose()["x-airflow-common"]["environment"]
    assert compose_env["AIRFLOW__CELERY__CELERY_CONFIG_OPTIONS"] == "ooo.celery_config.CELERY_CONFIG"
    assert int(compose_env["AIRFLOW__CELERY__TASK_PUBLISH_MAX_RETRIES"]) >= 60
