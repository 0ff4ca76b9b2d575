"""The Slack status while out, on real Airflow (api-server, scheduler, dag-processor, triggerer).

Someone out sick yesterday, filed as of yesterday morning, back today at the next minute (the
return steps' local time): the status goes on at once (catch-up), saying who covers and when they
are back, with Slack's own expiration at the return moment; the run then waits, deferred, for that
moment, and on return the status they had before is back.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import requests

from devstack.stack import Stack
from ooo.team import load_team
from ooo.templates import short_date
from sandbox import SandboxServer
from sandbox.apis.slack import ADMIN_USER_TOKEN
from tests.e2e.stack import by_task, finished, next_minute, real_stack, write_team

# In the long suite: it waits for a return moment three minutes off, on the real clock.
pytestmark = [pytest.mark.e2e, pytest.mark.scheduler, pytest.mark.long]

PEOPLE_BY_ZONE = ["maya.patel@yellowstonelocal.com", "sam.okafor@yellowstonelocal.com",
                  "priya.nair@yellowstonelocal.com"]
#: Time for the run to reach its wait before the return moment on a loaded machine.
LEAD_S = 180


@pytest.fixture(scope="module")
def stack(tmp_path_factory) -> Iterator[tuple[Stack, SandboxServer]]:
    employee, moment, hhmm = next_minute(PEOPLE_BY_ZONE, lead=LEAD_S)
    with real_stack(tmp_path_factory.mktemp("airflow"), return_digest=hhmm) as running:
        yield running


def set_status(sandbox: SandboxServer, user: str, text: str, emoji: str) -> None:
    """The person's own status before the absence (set here with the admin's token, as Slack allows)."""
    answer = requests.post(f"{sandbox.url}/slack/api/users.profile.set", timeout=10,
                           headers={"Authorization": f"Bearer {ADMIN_USER_TOKEN}"},
                           json={"user": user, "profile": {"status_text": text, "status_emoji": emoji}}).json()
    assert answer["ok"], answer


def test_the_status_is_set_while_out_with_its_expiration_and_the_one_before_is_back_on_return(stack):
    airflow, sandbox = stack
    team_file = Path(airflow.extra_env["OOO_TEAM_FILE"])
    # The moment is picked now (the stack took a while to start); each run reads the team file anew.
    employee, moment, hhmm = next_minute(PEOPLE_BY_ZONE, lead=LEAD_S)
    write_team(team_file, return_digest=hhmm)
    team = load_team(team_file)
    person = team.person(employee)
    assert person is not None
    buddy = team.person(person.buddy)
    assert buddy is not None
    slack = sandbox.sandbox.api("slack")
    user = slack.user_id(employee)
    set_status(sandbox, user, "Renewals week", ":spiral_calendar_pad:")

    yesterday = (moment - dt.timedelta(days=1)).date()
    filed = dt.datetime.combine(yesterday, dt.time(8, 0), ZoneInfo(person.timezone))
    params = {"employee": employee, "start_date": yesterday.isoformat(), "end_date": yesterday.isoformat(),
              "kind": "unexpected"}
    run_id = airflow.api.trigger_absence(params, logical_date=filed.isoformat())["dag_run_id"]

    # Everything before the return morning has run at once; the run waits for the return moment.
    tis = airflow.api.wait_for(run_id, lambda tis: by_task(tis).get("sms_review[1]") == "deferred", timeout=150)
    states = by_task(tis)
    assert states["auto_reply_on"] == states["slack_status_on"] == "success", states
    assert slack.status(user) == {"text": f"Out of office · back {short_date(moment.date())} (expected) · "
                                          f"ask {buddy.name}",
                                  "emoji": ":palm_tree:", "expiration": int(moment.timestamp())}

    tis = airflow.api.wait_for(run_id, finished(airflow, run_id), timeout=240)
    states = by_task(tis)
    assert airflow.api.run(run_id)["state"] == "success", states
    status_off = next(t for t in tis if t["task_id"] == "slack_status_off")
    assert dt.datetime.fromisoformat(status_off["start_date"]) >= moment  # on return, not before
    assert slack.status(user) == {"text": "Renewals week", "emoji": ":spiral_calendar_pad:", "expiration": 0}
    note = (airflow.api.run(run_id).get("note") or "").replace("\\", "")
    assert "Slack status set" in note and "Slack status back as before" in note
