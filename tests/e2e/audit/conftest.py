"""One real Airflow stack for the security and long-absence audits (issue 8, items 4 and 5).

The long absences are filed as soon as the stack is up, so that their waits have aged by the time
their tests look (the security tests run first). The stack runs with ``[sensors] default_timeout``
= 5 s (``real_stack`` sets it) and the sample team's real calendar: weekends off, its holidays plus
two more in the long absence's window, and absences up to 120 days. The roster reaches the runs
through the Airflow Variable ``ooo_team_file``, which a team sets the same way to use its own roster.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from devstack.stack import Stack
from ooo.team import SAMPLE_TEAM_FILE, TEAM_FILE_VARIABLE, Team, load_team
from sandbox import SandboxServer
from tests.e2e.stack import planned, real_stack

MAYA = "maya.patel@yellowstonelocal.com"
SAM = "sam.okafor@yellowstonelocal.com"
ALLISON = "allison.reed@yellowstonelocal.com"


def nth_weekday(year: int, month: int, weekday: int, n: int) -> dt.date:
    """The ``n``th ``weekday`` (Monday 0) of the month: US holidays and DST changes are set so."""
    first = dt.date(year, month, 1)
    return first + dt.timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))


def next_new_year(today: dt.date) -> int:
    """The coming New Year's year, at least ten days away (time to file a planned absence)."""
    return today.year + 1 if today <= dt.date(today.year, 12, 20) else today.year + 2


def extra_holidays(year: int) -> list[dt.date]:
    """New Year's Day, Martin Luther King Jr. Day, Presidents' Day of ``year``."""
    return [dt.date(year, 1, 1), nth_weekday(year, 1, 0, 3), nth_weekday(year, 2, 0, 3)]


def write_calendar_team(path: Path) -> Path:
    """The sample team as shipped (weekends and holidays), with the coming winter's holidays and
    absences up to 120 days."""
    raw = yaml.safe_load(SAMPLE_TEAM_FILE.read_text())
    added = {d.isoformat() for d in extra_holidays(next_new_year(dt.date.today()))}
    raw["team"]["holidays"] = sorted({str(d) for d in raw["team"]["holidays"]} | added)
    raw["team"]["max_absence_days"] = 120
    raw["team"]["intake"] = {**raw["team"].get("intake", {}), "enabled": False}  # the audits file their own
    path.write_text(yaml.safe_dump(raw))
    return path


def file_long_absences(airflow: Stack, team: Team) -> dict[str, Any]:
    """Maya out from the last working day of the year to the Monday after the clocks go forward
    (approved when filed), and Sam three weeks ahead, left to the manager's answer."""
    year = next_new_year(dt.date.today())
    start = dt.date(year - 1, 12, 31)
    start = start if team.is_working_day(start) else team.previous_working_day(start)
    dst = nth_weekday(year, 3, 6, 2)  # the second Sunday of March: US clocks go forward
    end = dst + dt.timedelta(days=1)
    maya = {"employee": MAYA, "start_date": start.isoformat(), "end_date": end.isoformat(), "kind": "planned",
            "approved_by": ALLISON, "reachable": False, "note": ""}
    sam = planned(SAM, in_days=21, days=3)
    return {"maya": airflow.api_as("hr-integration").trigger_absence(maya)["dag_run_id"], "start": start, "end": end,
            "dst": dst,
            "year": year, "sam": airflow.api.trigger_absence(sam)["dag_run_id"], "sam_start": sam["start_date"]}


def sam_start(long: dict[str, Any]) -> dt.date:
    return dt.date.fromisoformat(long["sam_start"])


@pytest.fixture(scope="package")
def audit_stack(tmp_path_factory) -> Iterator[tuple[Stack, SandboxServer, Team, dict[str, Any]]]:
    """The stack, the sandbox, the roster, and the long absences filed at once."""
    home = tmp_path_factory.mktemp("audit")
    team_file = write_calendar_team(home / "calendar_team.yaml")
    with real_stack(home) as (airflow, sandbox):
        airflow.api.call("POST", "variables", json={"key": TEAM_FILE_VARIABLE, "value": str(team_file)}, ok=(201,))
        team = load_team(team_file)
        yield airflow, sandbox, team, file_long_absences(airflow, team)
