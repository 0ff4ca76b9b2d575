"""An absence's life on real Airflow: approved, rejected, unanswered, pre-approved, unexpected,
cancelled before the start or half-way, ended early; refused when the buddy is out or when it
was filed twice. Answers go through the REST API's HITL endpoint, as the manager's do; changes go
through the ``ooo_cancel`` and ``ooo_shorten`` DAGs, as ops make them; what is checked is what
people see afterwards (calendars, mailboxes, channels, the run's note in the UI).
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from devstack.stack import Stack
from ooo.absence import absence_of_run
from ooo.airflow_api import AirflowApiError
from ooo.cli import main
from ooo.team import load_team
from ooo.templates import day_range as days
from sandbox import SandboxServer
from tests.e2e.stack import (
    answer,
    as_ops,
    by_task,
    finished,
    manager_of,
    manager_of_person,
    next_minute,
    planned,
    real_stack,
    state_of,
    wait_until_no_trigger,
    write_team,
)

pytestmark = [pytest.mark.e2e, pytest.mark.scheduler]

DOMAIN = "@yellowstonelocal.com"
MAYA, JORDAN, PRIYA, SAM = (f"{n}{DOMAIN}" for n in ("maya.patel", "jordan.reyes", "priya.nair", "sam.okafor"))
LENA, TOM, ROSA = (f"{n}{DOMAIN}" for n in ("lena.fischer", "tom.becker", "rosa.alvarez"))
NOTICE = "#dept-client-services-must-reads"
SERVICES = ("google", "justcall", "hubspot", "fathom")


@pytest.fixture(scope="module")
def stack(tmp_path_factory, metadata_db) -> Iterator[tuple[Stack, SandboxServer]]:
    with real_stack(tmp_path_factory.mktemp("airflow"), env=metadata_db) as running:
        yield running


def note(airflow: Stack, run_id: str) -> str:
    return (airflow.api.run(run_id).get("note") or "").replace("\\", "")  # as the UI shows the Markdown


def dms(sandbox: SandboxServer, email: str) -> list[str]:
    slack = sandbox.sandbox.api("slack")
    return [m["text"] for m in slack.dm_messages(slack.user_id(email))]


def blocks(sandbox: SandboxServer, email: str) -> list[dict[str, Any]]:
    return [e for e in sandbox.sandbox.api("google").list_events(email) if e.get("eventType") == "outOfOffice"]


def filed_yesterday(airflow: Stack, employee: str, days_left: int) -> tuple[str, dt.date]:
    """An unexpected absence from yesterday (when ops filed it) to ``days_left`` days from today."""
    zone = ZoneInfo(load_team(airflow.extra_env["OOO_TEAM_FILE"]).person(employee).timezone)
    today = dt.datetime.now(zone).date()
    yesterday = today - dt.timedelta(days=1)
    params = {"employee": employee, "start_date": yesterday.isoformat(), "kind": "unexpected",
              "end_date": (today + dt.timedelta(days=days_left)).isoformat()}
    filed = dt.datetime.combine(yesterday, dt.time(8, 0), zone).isoformat()
    return airflow.api.trigger_absence(params, logical_date=filed)["dag_run_id"], today


def day_range(run_id: str) -> str:
    filed = absence_of_run(run_id)
    assert filed is not None
    return days(filed.start, filed.end)


def cancelled_is_an_outcome(airflow: Stack, run_id: str) -> None:
    """A cancelled absence ends as a success: nothing failed, every step left skipped with the reason in its note."""
    airflow.api.wait_for(run_id, finished(airflow, run_id), timeout=120)
    assert airflow.api.run(run_id)["state"] == "success"
    tis = airflow.api.task_instances(run_id)
    assert not [t for t in tis if t["state"] in ("failed", "upstream_failed")], by_task(tis)
    why = "Skipped: the absence was cancelled by ops"
    skipped = [t for t in tis if t["state"] == "skipped" and (t.get("note") or "").startswith(why)]
    assert skipped, by_task(tis)
    assert " · cancelled by ops on " in note(airflow, run_id).splitlines()[0]


def waiting_for_a_review(airflow: Stack, run_id: str) -> dict[str, str]:
    tis = airflow.api.wait_for(run_id, lambda tis: any(t["task_id"] == "sms_review" and t["state"] == "deferred"
                                                       for t in tis), timeout=180)
    return by_task(tis)


def test_a_rejection_tells_the_employee_why_and_changes_nothing(stack):
    airflow, sandbox = stack
    run_id = airflow.api.trigger_absence(planned(LENA, in_days=10, days=2))["dag_run_id"]
    airflow.api.wait_for(run_id, lambda tis: state_of("approval")(tis) == "awaiting_input", timeout=120)
    assert "waiting for Casey Morgan" in note(airflow, run_id)
    before = len(sandbox.sandbox.requests)
    notices = len(sandbox.sandbox.api("slack").messages(NOTICE))
    answer(airflow, run_id, approve=False, reason="Quarter-end reviews that week")
    airflow.api.wait_for(run_id, finished(airflow, run_id), timeout=120)
    states = by_task(airflow.api.task_instances(run_id))
    assert airflow.api.run(run_id)["state"] == "success"
    assert states.pop("validate") == states.pop("approval") == "success" and set(states.values()) == {"skipped"}
    touched = [r for r in list(sandbox.sandbox.requests)[before:] if r["api"] in SERVICES]
    assert touched == []  # no calendar, mailbox or text queue
    assert len(sandbox.sandbox.api("slack").messages(NOTICE)) == notices  # nor the team channel
    told = [t for t in dms(sandbox, LENA) if "was not approved" in t]
    assert len(told) == 1 and "Quarter-end reviews that week" in told[0]
    assert "rejected by Casey Morgan: Quarter-end reviews that week" in note(airflow, run_id)  # a roster name
    assert note(airflow, run_id).startswith(f"**Lena Fischer · {day_range(run_id)} · rejected by Casey Morgan**")
    # Nothing to cancel: the command refuses it in one line and files nothing.
    assert main(["cancel", "--run-id", run_id, *as_ops(airflow)]) == 2
    with pytest.raises(AirflowApiError, match="404"):
        airflow.api.run(f"cancel__{run_id}", dag_id="ooo_cancel")


def test_no_answer_by_the_start_is_not_an_approval(stack):
    airflow, sandbox = stack
    zone = ZoneInfo(load_team().person(TOM).timezone)
    today = dt.datetime.now(zone).date()
    filed = dt.datetime.combine(today - dt.timedelta(days=1), dt.time(9, 0), zone)  # asked yesterday
    params = {"employee": TOM, "start_date": today.isoformat(), "end_date": today.isoformat(), "kind": "planned"}
    run_id = airflow.api.trigger_absence(params, logical_date=filed.isoformat())["dag_run_id"]
    # Casey never answers; the scheduler applies the default (Reject) once the start has come.
    airflow.api.wait_for(run_id, finished(airflow, run_id), timeout=180)
    states = by_task(airflow.api.task_instances(run_id))
    assert states.pop("approval") == "success" and set(states.values()) - {"success"} == {"skipped"}
    assert [t for t in dms(sandbox, TOM) if "no answer from Casey Morgan by the start" in t]
    assert "not approved: no answer from Casey Morgan by the start" in note(airflow, run_id)
    assert blocks(sandbox, TOM) == []


def test_a_pre_approved_absence_skips_the_wait_and_a_cancel_before_the_start_leaves_nothing(stack):
    airflow, sandbox = stack
    google = sandbox.sandbox.api("google")
    params = planned(MAYA, in_days=10, days=5, approved_by=f"allison.reed{DOMAIN}")
    run_id = airflow.api_as("hr-integration").trigger_absence(params)["dag_run_id"]  # the HR tool's login
    tis = airflow.api.wait_for(run_id, lambda tis: state_of("team_notice")(tis) == "deferred", timeout=120)
    assert by_task(tis)["approval"] == "success"  # no wait in Required Actions
    assert airflow.api.xcom(run_id, "approval")["responded_by_user"]["name"] == "Allison Reed"
    assert "approved by Allison Reed (recorded when filed)" in note(airflow, run_id)
    assert "filed by hr-integration" in note(airflow, run_id)
    assert "out-of-office block" in note(airflow, run_id)
    assert len(blocks(sandbox, MAYA)) == 1

    # Her buddy Jordan cannot be out over the same days, and the same absence cannot be filed twice.
    clash = airflow.api.trigger_absence(planned(JORDAN, in_days=11, days=2, backup_buddy=MAYA))["dag_run_id"]
    airflow.api.wait_for(clash, finished(airflow, clash), timeout=120)
    assert by_task(airflow.api.task_instances(clash))["validate"] == "failed"
    assert "The backup buddy Maya Patel is out" in note(airflow, clash)
    with pytest.raises(Exception, match="exists already"):
        airflow.api_as("hr-integration").trigger_absence(params)

    declined = [e["id"] for e in google.list_events(MAYA)
                if any(a.get("self") and a.get("responseStatus") == "declined" for a in e.get("attendees", []))]
    assert declined  # the team's weekly meetings in her week
    assert main(["cancel", "--run-id", run_id, *as_ops(airflow)]) == 0
    cancelled_is_an_outcome(airflow, run_id)
    assert blocks(sandbox, MAYA) == []
    still = [e["id"] for e in google.list_events(MAYA) if e["id"] in declined and any(
        a.get("self") and a.get("responseStatus") == "declined" for a in e.get("attendees", []))]
    assert still == []  # every declined meeting is back
    assert not google.vacation(MAYA).get("enableAutoReply")
    # Jordan was never handed the cover (that is the day before), so is not bothered with the cancel.
    assert not [t for t in dms(sandbox, JORDAN) if "Maya" in t]
    assert "Cancelled: by ops" in note(airflow, run_id)
    wait_until_no_trigger(airflow, run_id)


def test_the_approver_is_warned_of_thin_coverage(stack):
    airflow, _ = stack
    for person in (LENA, ROSA):  # both out in six weeks, approved when filed
        other = airflow.api_as("hr-integration").trigger_absence(
            planned(person, in_days=40, days=5, approved_by=manager_of_person(airflow, person)))["dag_run_id"]
        airflow.api.wait_for(other, lambda tis: state_of("validate")(tis) == "success", timeout=120)
    run_id = airflow.api.trigger_absence(planned(JORDAN, in_days=41, days=2, backup_buddy=TOM))["dag_run_id"]
    airflow.api.wait_for(run_id, lambda tis: state_of("approval")(tis) == "awaiting_input", timeout=120)
    body = airflow.api.call("GET", f"dags/ooo_absence/dagRuns/{run_id}/taskInstances/approval/-1/hitlDetails")["body"]
    assert "Coverage warnings" in body
    assert "people out on 2 working days" in body.replace("\\", "")  # Jordan, Lena and Rosa
    assert "more than the team's limit of 2 at once" in body.replace("\\", "")
    assert "The backup buddy Tom Becker already covers Lena Fischer" in body.replace("\\", "")


def test_an_unexpected_absence_runs_at_once_and_a_cancel_half_way_reverses_it(stack):
    airflow, sandbox = stack
    google, slack = sandbox.sandbox.api("google"), sandbox.sandbox.api("slack")
    run_id, today = filed_yesterday(airflow, PRIYA, days_left=3)
    states = waiting_for_a_review(airflow, run_id)
    assert states["approval"] == "skipped" and states["team_notice"] == states["auto_reply_on"] == "success"
    posted = airflow.api.xcom(run_id, "team_notice")["ts"]
    notice = next(m for m in slack.messages(NOTICE) if m["ts"] == posted)
    assert "expect to be back on" in notice["text"] and "Expected back on" in notice["text"]
    assert "expect to return on" in google.vacation(PRIYA)["responseBodyPlainText"]
    assert len(blocks(sandbox, PRIYA)) == 1

    assert main(["cancel", "--run-id", run_id, *as_ops(airflow)]) == 0
    cancelled_is_an_outcome(airflow, run_id)
    assert blocks(sandbox, PRIYA) == [] and not google.vacation(PRIYA)["enableAutoReply"]
    correction = slack.messages(NOTICE)[-1]
    assert correction["thread_ts"] == notice["ts"] and "is cancelled: they are back" in correction["text"]
    assert [t for t in dms(sandbox, SAM) if "is cancelled" in t]
    assert not [m for m in slack.messages("#ooo-ops") if run_id in str(m)]  # a cancel is no failure to alert
    assert "Cancelled: by ops" in note(airflow, run_id)
    wait_until_no_trigger(airflow, run_id)


def test_coming_back_early_moves_the_return_to_the_new_date(stack, tmp_path):
    airflow, sandbox = stack
    google, slack = sandbox.sandbox.api("google"), sandbox.sandbox.api("slack")
    team_file = airflow.extra_env["OOO_TEAM_FILE"]
    employee, moment, hhmm = next_minute([SAM, MAYA, JORDAN], team_file, lead=100)
    run_id, today = filed_yesterday(airflow, employee, days_left=3)
    done_before = {k for k, v in waiting_for_a_review(airflow, run_id).items() if v == "success"}
    assert google.vacation(employee)["enableAutoReply"]

    # A new last day after the old one is refused, and changes nothing.
    plan = airflow.api.xcom(run_id, "validate", key="plan")
    later = (today + dt.timedelta(days=5)).isoformat()
    assert main(["shorten", "--run-id", run_id, "--end", later, *as_ops(airflow)]) == 2
    assert airflow.api.xcom(run_id, "validate", key="plan") == plan

    # Back today after all: the return (auto-reply off, digest) moves to today's digest time.
    write_team(tmp_path / "team.yaml", return_digest=hhmm).replace(team_file)
    yesterday = (today - dt.timedelta(days=1)).isoformat()
    assert main(["shorten", "--run-id", run_id, "--end", yesterday, *as_ops(airflow)]) == 0
    assert "back early" in note(airflow, run_id)
    block = blocks(sandbox, employee)[0]
    assert dt.datetime.fromisoformat(block["end"]["dateTime"]) == dt.datetime.combine(today, dt.time(), moment.tzinfo)
    update = slack.messages(NOTICE)[-1]
    assert "back early" in update["text"] and update.get("thread_ts")

    tis = airflow.api.wait_for(run_id, finished(airflow, run_id), timeout=240)
    states = by_task(tis)
    assert airflow.api.run(run_id)["state"] == "success", states
    reviews = sorted(k for k in states if k.startswith("sms_review["))
    final = f"sms_review[{len(reviews) - 1}]"
    assert states[final] == "success"  # the return morning's review, moved to today
    for review in set(reviews) - done_before - {final}:
        assert states[review] == "skipped", review  # the days she is no longer out
    digest = next(t for t in tis if t["task_id"] == "return_digest")
    assert dt.datetime.fromisoformat(digest["start_date"]) >= moment
    assert not google.vacation(employee)["enableAutoReply"]
    assert [m for m in google.sent(employee) if employee in m["to"] and m["subject"].startswith("Welcome back")]


@pytest.mark.parametrize("delay", [0, 0.5, 1, 5])
def test_an_approval_answered_at_once_or_later_never_fails_the_run(stack, delay):
    """The manager answers the moment the request is parked (or a little later), as a Slack link invites:
    Airflow 3.3.2 can fail such an attempt; the approval's retry goes on with the answer given."""
    airflow, sandbox = stack
    in_days = {0: 60, 0.5: 70, 1: 80, 5: 90}[delay]  # apart, so no two of them clash
    run_id = airflow.api.trigger_absence(planned(SAM, in_days=in_days, days=2))["dag_run_id"]
    airflow.api.wait_for(run_id, lambda tis: state_of("approval")(tis) == "awaiting_input", timeout=120, every=0.1)
    time.sleep(delay)
    airflow.api_as(manager_of(airflow, run_id)).answer_approval(run_id, approve=True)
    tis = airflow.api.wait_for(run_id, lambda tis: state_of("calendar_cleanup")(tis) in ("success", "failed"),
                               timeout=180)
    states = by_task(tis)
    assert (states["approval"], states["calendar_cleanup"]) == ("success", "success"), states
    assert airflow.api.run(run_id)["state"] == "running"  # waiting for its notice, not failed
    assert "approved by Allison Reed" in note(airflow, run_id)
    assert not [m for m in sandbox.sandbox.api("slack").messages("#ooo-ops") if run_id in str(m)]  # no alert
    assert main(["cancel", "--run-id", run_id, *as_ops(airflow)]) == 0  # leave the team free for the next


@pytest.mark.parametrize("first, second", [(MAYA, JORDAN), (JORDAN, MAYA)])
def test_of_two_clashing_absences_filed_together_the_first_filed_is_kept(stack, first, second):
    """Maya and Jordan are each other's buddy: filed a moment apart for the same days, both are checked
    while both are in flight; the one filed first stands, whichever is checked first."""
    airflow, _ = stack
    kept = airflow.api.trigger_absence(planned(first, in_days=120, days=3))["dag_run_id"]
    refused = airflow.api.trigger_absence(planned(second, in_days=121, days=3))["dag_run_id"]
    for run_id in (kept, refused):
        airflow.api.wait_for(run_id, lambda tis: state_of("validate")(tis) in ("success", "failed"), timeout=120)
    assert state_of("validate")(airflow.api.task_instances(kept)) == "success"
    assert state_of("validate")(airflow.api.task_instances(refused)) == "failed"
    name = load_team().person(first).name
    assert f"The backup buddy {name} is out" in note(airflow, refused)
    assert main(["cancel", "--run-id", kept, *as_ops(airflow)]) == 0


MAYAS_CUSTOMERS = {"dana@bigskyoutfitters.com", "luis.ortega@bigskyoutfitters.com", "chris@halemanagement.com",
                   "dr.chen@tetonfamilydental.com", "sam@gallatincoffeeroasters.com"}  # sandbox.scenario.customer_book
NOT_HER_CUSTOMERS = {"grace@livingstonrealty.com", "erin@bozemanbrewing.com"}  # opted out; a lead


def test_a_csms_customers_hear_once_who_covers_and_a_cancel_corrects_it(stack):
    airflow, sandbox = stack
    google, hubspot = sandbox.sandbox.api("google"), sandbox.sandbox.api("hubspot")
    sent, told = len(google.sent(MAYA)), len(dms(sandbox, LENA))  # what other tests of the module left
    # days_left=2: not the run id test_coming_back_early_... may have filed for her (days_left=3)
    run_id, _ = filed_yesterday(airflow, MAYA, days_left=2)
    assert waiting_for_a_review(airflow, run_id)["customer_notice"] == "success"  # at once: she is out already

    notices = [m for m in google.sent(MAYA)[sent:] if m["subject"].startswith("Out of the office")]
    assert sorted(m["to"][0] for m in notices) == sorted(MAYAS_CUSTOMERS)  # each contact once, Chris too
    assert not NOT_HER_CUSTOMERS & {a for m in google.sent(MAYA)[sent:] for a in m["to"]}
    assert all("Jordan Reyes (jordan.reyes@yellowstonelocal.com) is your point of contact" in m["text"]
               for m in notices)
    logged = {e["props"]["hs_email_message_id"]: e for e in hubspot.crm.emails.values()}
    assert all(logged[m["message_id"]]["contacts"] and logged[m["message_id"]]["companies"] for m in notices)
    told_lena = [t for t in dms(sandbox, LENA)[told:] if "<@U02MAYA00> is out of the office" in t]
    assert len(told_lena) == 1 and "5 contacts at 3 customers were emailed who covers" in told_lena[0]
    assert "customers told: 5 contacts at 3 companies · CC told" in note(airflow, run_id)

    assert main(["cancel", "--run-id", run_id, *as_ops(airflow)]) == 0
    corrections = [m for m in google.sent(MAYA)[sent:] if m["subject"].startswith("Re: Out of the office")]
    assert sorted(m["to"][0] for m in corrections) == sorted(MAYAS_CUSTOMERS)
    by_notice = {m["message_id"]: m for m in notices}
    for m in corrections:  # a reply to the notice each contact had, on their HubSpot record too
        assert by_notice[m["headers"]["In-Reply-To"]]["to"] == m["to"]
        assert "I'm back in the office, earlier than planned" in m["text"]
    logged = {e["props"]["hs_email_message_id"] for e in hubspot.crm.emails.values()}
    assert {m["message_id"] for m in corrections} <= logged
    assert [t for t in dms(sandbox, LENA)[told:] if "<@U02MAYA00>'s time off" in t and "is cancelled" in t]
    assert "5 customer contacts told" in note(airflow, run_id)
    wait_until_no_trigger(airflow, run_id)
