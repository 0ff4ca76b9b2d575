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

from devstack.stack import Stack, free_port
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
def real_stack(home: Path, env: dict[str, str] | None = None, intake: dict[str, Any] | None = None,
               **times: str) -> Iterator[tuple[Stack, SandboxServer]]:
    """Airflow against a fresh sandbox; ``env`` adds to or overrides the Airflow settings; ``intake``
    turns the intake on (:func:`write_team`)."""
    team_file = write_team(home / "team.yaml", intake, **times)
    sandbox = start_sandbox(load_team(team_file))
    settings = {
        **connection_env(sandbox.sandbox.connections()),
        "OOO_TEAM_FILE": str(team_file),
        "AIRFLOW__SENSORS__DEFAULT_TIMEOUT": "5",  # any sensor-style timeout would cut our waits
        "AIRFLOW__CORE__DEFAULT_TASK_RETRIES": "0",
        **(env or {}),
    }
    airflow = Stack(home, free_port(), env=settings)
    try:
        airflow.start()
        yield airflow, sandbox
    finally:
        airflow.stop()
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


def answer(airflow: Stack, run_id: str, approve: bool, reason: str = "") -> None:
    """The manager answers once Airflow has fully parked the approval.

    On Airflow 3.3.2 an answer that lands before the scheduler has processed the executor's
    "success" event of the worker that parked the task fails the re-queued task (the event is
    taken for a task changed externally). That lag was seen to exceed 5 s here; people answer
    minutes later. So wait for the scheduler to log the event, then answer.
    """
    wait_parked(airflow, run_id)
    airflow.api.answer_approval(run_id, approve=approve, reason=reason)


def wait_parked(airflow: Stack, run_id: str) -> None:
    """Until the approval awaits input and the scheduler has logged its worker's "success" event."""
    airflow.api.wait_for(run_id, lambda tis: state_of("approval")(tis) == "awaiting_input", timeout=120)
    parked = (f"Received executor event with state success for task instance TaskInstanceKey("
              f"dag_id='ooo_absence', task_id='approval', run_id='{run_id}'")
    deadline = time.monotonic() + 120
    while parked not in (airflow.logs / "scheduler.log").read_text(errors="replace"):
        assert time.monotonic() < deadline, "the scheduler never processed the parked approval"
        time.sleep(0.5)


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
