"""Half days and client visits on real Airflow (api-server, scheduler, dag-processor, triggerer).

* Half-day absences filed late (every moment past) in two time zones, each across its DST change:
  the plan, the out-of-office block, the auto-reply's bounds, the notice, the reviews and the run
  note all land on the first afternoon and the last morning.
* A client visit starting this afternoon, the team's split time a few minutes away: the notice goes
  out at once and asks the team in its thread; teammates reply; the auto-reply and the visit's
  requests wait, deferred, for the split, and the replies reach the employee's DM then.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml

from devstack.stack import Stack
from ooo.cli import main
from ooo.keys import run_key
from ooo.steps.calendar import MARKER
from ooo.team import load_team
from sandbox import SandboxServer
from tests.e2e.stack import as_ops, by_task, finished, next_minute, real_stack, state_of

pytestmark = [pytest.mark.e2e, pytest.mark.scheduler]

MAYA, SAM = "maya.patel@yellowstonelocal.com", "sam.okafor@yellowstonelocal.com"
ALLISON = "allison.reed@yellowstonelocal.com"
PEOPLE_BY_ZONE = [MAYA, SAM, "priya.nair@yellowstonelocal.com"]


@pytest.fixture(scope="module")
def stack(tmp_path_factory, metadata_db) -> Iterator[tuple[Stack, SandboxServer]]:
    with real_stack(tmp_path_factory.mktemp("airflow"), env=metadata_db) as (airflow, sandbox):
        yield airflow, sandbox


def split_at(airflow: Stack, hhmm: str) -> None:
    """The team's half-day split time (each run's validate reads the team file anew)."""
    path = Path(airflow.extra_env["OOO_TEAM_FILE"])
    raw = yaml.safe_load(path.read_text())
    raw["team"]["half_day_split"] = hhmm
    path.write_text(yaml.safe_dump(raw))


def ms(moment: dt.datetime) -> str:
    return str(int(moment.timestamp() * 1000))


def bot_messages(messages: list[dict[str, Any]], event_type: str) -> list[dict[str, Any]]:
    return [m for m in messages if m.get("bot_id") and (m.get("metadata") or {}).get("event_type") == event_type]


@pytest.mark.parametrize(
    ("employee", "start", "end", "out_from", "back_at", "reviews", "said"),
    [
        # Denver over the US fall back (Sun Nov 1): out Friday from noon MDT, back Tuesday at noon MST.
        (MAYA, "2026-10-30", "2026-11-03", "2026-10-30T12:00:00-06:00", "2026-11-03T12:00:00-07:00",
         ["2026-10-30", "2026-10-31", "2026-11-01", "2026-11-02", "2026-11-03 (return morning)"],
         ("from 12:00 PM MDT on Friday, October 30, 2026 to the morning of Tuesday, November 3, 2026",
          "Back on Tuesday, November 3, 2026 at 12:00 PM MST")),
        # London over the European fall back (Sun Oct 25): out Friday from noon BST, back Monday at noon GMT.
        (SAM, "2026-10-23", "2026-10-26", "2026-10-23T12:00:00+01:00", "2026-10-26T12:00:00+00:00",
         ["2026-10-23", "2026-10-24", "2026-10-25", "2026-10-26 (return morning)"],
         ("from 12:00 PM BST on Friday, October 23, 2026 to the morning of Monday, October 26, 2026",
          "Back on Monday, October 26, 2026 at 12:00 PM GMT")),
    ],
)
def test_half_days_land_on_the_afternoon_and_the_morning_across_dst(stack, employee, start, end, out_from,
                                                                    back_at, reviews, said):
    airflow, sandbox = stack
    split_at(airflow, "12:00")
    zone = ZoneInfo(load_team().person(employee).timezone)
    # Filed (approved in the HR tool) the morning before, by an ops backfill: every moment has passed.
    filed = dt.datetime.combine(dt.date.fromisoformat(start) - dt.timedelta(days=1), dt.time(9), zone)
    run_id = airflow.api_as("hr-integration").trigger_absence(
        {"employee": employee, "start_date": start, "end_date": end, "kind": "planned", "start_half": "afternoon",
         "end_half": "morning", "approved_by": ALLISON, "reachable": False, "note": ""},
        logical_date=filed.isoformat())["dag_run_id"]
    tis = airflow.api.wait_for(run_id, finished(airflow, run_id), timeout=360)
    states = by_task(tis)
    assert airflow.api.run(run_id)["state"] == "success", states

    timeline = airflow.api.xcom(run_id, "validate", key="plan")["timeline"]
    assert (timeline["out_from"], timeline["back_at"]) == (out_from, back_at)
    assert timeline["moments"]["auto_reply_on"]["at"] == out_from
    assert timeline["moments"]["return_digest"]["at"] == back_at
    labels = sorted((t for t in tis if t["task_id"] == "sms_review"), key=lambda t: t["map_index"])
    assert [t["rendered_map_index"] for t in labels] == reviews
    assert states["visit_requests"] == "skipped"  # not a client visit

    # What the employee, the clients and the team see.
    google, slack = sandbox.sandbox.api("google"), sandbox.sandbox.api("slack")
    [block] = [e for e in google.list_events(employee) if e.get("eventType") == "outOfOffice"
               and MARKER in (e.get("extendedProperties") or {}).get("private", {})]
    assert dt.datetime.fromisoformat(block["start"]["dateTime"]) == dt.datetime.fromisoformat(out_from)
    assert dt.datetime.fromisoformat(block["end"]["dateTime"]) == dt.datetime.fromisoformat(back_at)
    vacation = google.vacation(employee)
    assert (vacation["startTime"], vacation["endTime"]) == (ms(dt.datetime.fromisoformat(out_from)),
                                                            ms(dt.datetime.fromisoformat(back_at)))
    assert vacation["enableAutoReply"] is False  # on for the half days, off (verified) at the return
    user = slack.user_id(employee)
    [notice] = [m for m in bot_messages(slack.messages("#dept-client-services-must-reads"), "ooo_team_notice")
                if f"<@{user}>" in m["text"]]
    assert said[0] in notice["text"] and said[1] in notice["text"]
    note = airflow.api.run(run_id)["note"].replace("\\", "")
    first, last = dt.date.fromisoformat(start), dt.date.fromisoformat(end)
    assert (f"out {first:%a %b} {first.day} from 12:00 – {last:%a %b} {last.day} morning, "
            f"back {last:%a %b} {last.day} at 12:00") in note


@pytest.mark.long  # it waits for a split time minutes off, on the real clock
def test_a_client_visits_thread_reaches_the_employee_when_the_afternoon_begins(stack):
    airflow, sandbox = stack
    employee, moment, hhmm = next_minute(PEOPLE_BY_ZONE, lead=150)
    split_at(airflow, hhmm)  # the afternoon begins in two and a half minutes
    today = moment.date()
    run_id = airflow.api_as("hr-integration").trigger_absence(
        {"employee": employee, "start_date": today.isoformat(), "end_date": today.isoformat(),
         "kind": "client_visit", "client_company": "bigskyoutfitters.com", "start_half": "afternoon",
         "approved_by": ALLISON, "reachable": True, "note": ""})["dag_run_id"]
    # The notice's moment (the working day before) has passed: it goes out at once; the auto-reply waits.
    tis = airflow.api.wait_for(run_id, lambda tis: state_of("auto_reply_on")(tis) == "deferred", timeout=120)
    assert by_task(tis)["team_notice"] == "success"
    slack = sandbox.sandbox.api("slack")
    user = slack.user_id(employee)
    [notice] = [m for m in bot_messages(slack.messages("#dept-client-services-must-reads"), "ooo_team_notice")
                if f"<@{user}>" in m["text"] and "Client visit" in m["text"]]
    assert "I will be visiting Big Sky Outfitters on the afternoon of" in notice["text"]
    assert "*Need anything from Big Sky Outfitters while I'm there?*" in notice["text"]

    # Teammates answer in the thread, as people do in Slack.
    jordan, rosa = slack.user_id("jordan.reyes@yellowstonelocal.com"), slack.user_id(
        "rosa.alvarez@yellowstonelocal.com")
    slack.add_message("#dept-client-services-must-reads", "Photos of their new showroom, please!", user=jordan,
                      thread_ts=notice["ts"])
    slack.add_message("#dept-client-services-must-reads", "Can you get the Q1 plan approved while there?",
                      user=rosa, thread_ts=notice["ts"])
    assert dt.datetime.now(dt.timezone.utc) < moment, "the replies came after the split: the machine was too slow"
    assert not bot_messages(slack.dm_messages(user), "ooo_visit_requests")  # nothing before the afternoon

    tis = airflow.api.wait_for(run_id, lambda tis: state_of("visit_requests")(tis) in ("success", "failed"),
                               timeout=300)
    by_id = {t["task_id"]: t for t in tis if t["map_index"] < 0}
    assert by_id["visit_requests"]["state"] == "success", by_task(tis)
    # The auto-reply waited, deferred, for the split (a deferred task keeps its first start); the
    # requests went after it.
    assert dt.datetime.fromisoformat(by_id["auto_reply_on"]["end_date"]) >= moment
    assert dt.datetime.fromisoformat(by_id["visit_requests"]["start_date"]) >= moment
    [dm] = bot_messages(slack.dm_messages(user), "ooo_visit_requests")
    assert dm["text"].startswith(":handshake: *What the team needs from Big Sky Outfitters*")
    assert f"<@{jordan}>" in dm["text"] and "> Photos of their new showroom, please!" in dm["text"]
    assert f"<@{rosa}>" in dm["text"] and "> Can you get the Q1 plan approved while there?" in dm["text"]
    google = sandbox.sandbox.api("google")
    vacation = google.vacation(employee)
    assert vacation["enableAutoReply"] is True and vacation["startTime"] == ms(moment)
    assert vacation["responseSubject"].startswith("Visiting a client until ")

    # The visit is called off by ops: the run stops (its reviews were still to come; a cancel is an outcome,
    # not a failure) and the block comes off.
    assert main(["cancel", "--run-id", run_id, *as_ops(airflow)]) == 0
    assert airflow.api.run(run_id)["state"] == "success"
    assert not [e for e in google.list_events(employee) if e.get("eventType") == "outOfOffice"  # the visit's block
                and (e.get("extendedProperties") or {}).get("private", {}).get(MARKER) == run_key(run_id)]
