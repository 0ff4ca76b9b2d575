"""Real Airflow for the end-to-end tests: the stack against a sandbox, and how people use it.

``real_stack`` starts the api-server, scheduler, dag-processor and triggerer (``devstack``)
against a fresh sandbox, with a copy of the sample team that works every day (so "yesterday"
and "in three days" are working days whenever the suite runs). The helpers answer approvals as
a manager does and read runs as ops do, through the REST API.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml

from devstack.stack import ROOT, Stack, free_port
from ooo.team import SAMPLE_TEAM_FILE, load_team
from sandbox import SandboxServer, connection_env, start_sandbox


def write_team(path: Path, intake: dict[str, Any] | None = None, **times: str) -> Path:
    """The sample team, working every day, no holidays; ``times`` overrides step times (HH:MM). The
    intake (``ooo_intake``) is off unless ``intake`` gives its settings (``{"enabled": True, ...}``)."""
    raw = yaml.safe_load(SAMPLE_TEAM_FILE.read_text())
    raw["team"]["working_days"] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
    raw["team"]["holidays"] = []
    raw["team"]["times"].update(times)
    raw["team"]["intake"] = {**raw["team"].get("intake", {}), "enabled": False, **(intake or {})}
    path.write_text(yaml.safe_dump(raw))
    return path


@contextmanager
def real_stack(home: Path, env: dict[str, str] | None = None, production: bool = False,
               intake: dict[str, Any] | None = None, code: Path = ROOT,
               **times: str) -> Iterator[tuple[Stack, SandboxServer]]:
    """Airflow against a fresh sandbox; ``env`` adds to or overrides the Airflow settings.
    ``production``: the compose file's shape (:class:`devstack.production.ProductionStack`);
    ``intake`` turns the intake on (:func:`write_team`); ``code`` is where dags/, plugins/ and
    include/ come from (the checkout, or a copy a test swaps releases in)."""
    home.mkdir(parents=True, exist_ok=True)
    team_file = write_team(home / "team.yaml", intake, **times)
    sandbox = start_sandbox(load_team(team_file))
    settings = {
        **connection_env(sandbox.sandbox.connections()),
        "OOO_TEAM_FILE": str(team_file),
        "AIRFLOW__SENSORS__DEFAULT_TIMEOUT": "5",  # any sensor-style timeout would cut our waits
        "AIRFLOW__CORE__DEFAULT_TASK_RETRIES": "0",
        **(env or {}),
    }
    try:
        if production:
            from devstack.production import production_stack

            with production_stack(home, free_port(), env=settings) as airflow:
                yield airflow, sandbox
        else:
            airflow = Stack(home, free_port(), env=settings, code=code)
            try:
                airflow.start()
                yield airflow, sandbox
            finally:
                airflow.stop()
    finally:
        sandbox.stop()


def next_minute(people: list[str], team_file: Path | None = None, lead: float = 105) -> tuple[str, dt.datetime, str]:
    """Someone for whom the minute ``lead`` seconds from now is still today, and that minute."""
    now = dt.datetime.now(dt.timezone.utc)
    team = load_team(team_file)
    for email in people:
        zone = ZoneInfo(team.person(email).timezone)
        moment = (now + dt.timedelta(seconds=lead)).astimezone(zone).replace(second=0, microsecond=0)
        if moment.date() == now.astimezone(zone).date() and moment.hour >= 1:
            return email, moment, f"{moment:%H:%M}"
    raise AssertionError("no employee's day has room for the test")


def answer(airflow: Stack, run_id: str, approve: bool, reason: str = "", by: str | None = None) -> None:
    """The approver answers as soon as the request is there, as the employee's manager (or ``by``), from
    their own login: the request is assigned to them, so nobody else could.

    No waiting for the scheduler to settle first: a quick answer is normal use (the manager gets a
    Slack link the moment it is asked), and the approval survives Airflow 3.3.2's race of a quick
    answer with the executor's report of the park (see ``ManagerApproval``).
    """
    airflow.api.wait_for(run_id, lambda tis: state_of("approval")(tis) == "awaiting_input", timeout=120)
    airflow.api_as(by or manager_of(airflow, run_id)).answer_approval(run_id, approve=approve, reason=reason)


def wait_parked(airflow: Stack, run_id: str, dag_id: str = "ooo_absence", task_id: str = "approval") -> None:
    """Until the request awaits input and the scheduler has logged its worker's "success" event.

    For Airflow's plain ``HITLOperator`` (the access probes): unlike ``ManagerApproval`` it does not
    survive an answer that races the executor's report of the park (Airflow 3.3.2).
    """
    airflow.api.wait_for(run_id, lambda tis: state_of(task_id)(tis) == "awaiting_input", timeout=120, dag_id=dag_id)
    parked = (f"Received executor event with state success for task instance TaskInstanceKey("
              f"dag_id='{dag_id}', task_id='{task_id}', run_id='{run_id}'")
    deadline = time.monotonic() + 120
    while parked not in (airflow.logs / "scheduler.log").read_text(errors="replace"):
        assert time.monotonic() < deadline, "the scheduler never processed the parked request"
        time.sleep(0.5)


def manager_of(airflow: Stack, run_id: str) -> str:
    """The login of the manager of the absence's employee (a manager's login is their roster email)."""
    from ooo.absence import absence_of_run

    filed = absence_of_run(run_id)
    assert filed is not None, run_id
    return manager_of_person(airflow, filed.person)


def manager_of_person(airflow: Stack, email: str) -> str:
    manager = load_team(airflow.extra_env.get("OOO_TEAM_FILE")).person(email).manager
    assert manager, f"{email} has no manager"
    return manager


def as_ops(airflow: Stack) -> list[str]:
    """The ``ooo`` command's Airflow options for the stack's ops login."""
    return ["--api", airflow.url, "--user", "ops", "--password", airflow.password_of("ops")]


def planned(employee: str, in_days: int, days: int, **params: Any) -> dict[str, Any]:
    start = dt.date.today() + dt.timedelta(days=in_days)
    return {"employee": employee, "start_date": start.isoformat(),
            "end_date": (start + dt.timedelta(days=days - 1)).isoformat(), "kind": "planned", **params}


def by_task(tis: list[dict[str, Any]]) -> dict[str, str]:
    return {t["task_id"] if t["map_index"] < 0 else f"{t['task_id']}[{t['map_index']}]": t["state"] for t in tis}


def state_of(task_id: str) -> Callable[[list[dict[str, Any]]], str | None]:
    return lambda tis: next((t["state"] for t in tis if t["task_id"] == task_id), None)


def finished(airflow: Stack, run_id: str, dag_id: str = "ooo_absence") -> Callable[[Any], bool]:
    return lambda tis: airflow.api.run(run_id, dag_id)["state"] in ("success", "failed")


def triggers_for(airflow: Stack, run_id: str) -> int:
    """Triggers (in the triggerer's table) that the absence's task instances point at."""
    return airflow.query("select count(*) from trigger where id in "
                         "(select trigger_id from task_instance where run_id = :run_id)", run_id=run_id)[0][0]


def wait_until_no_trigger(airflow: Stack, run_id: str, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout  # the triggerer drops triggers nothing waits on any more
    while triggers_for(airflow, run_id):
        assert time.monotonic() < deadline, f"{run_id}'s trigger was never dropped"
        time.sleep(1)
