"""The real ooo_absence DAG run through Airflow (``dag.test``) against the sandbox."""

from __future__ import annotations

import datetime as dt

import pendulum
import pytest

from devstack.demo import sample_absences
from ooo.absence import Absence
from ooo.timeline import plan_timeline
from tests.dags.runs import review_records, run_absence, run_plan
from tests.e2e.effects import effects_of

pytestmark = pytest.mark.e2e
JORDAN = "jordan.reyes@yellowstonelocal.com"
MAYA = "maya.patel@yellowstonelocal.com"
ORDER = ["validate", "calendar_cleanup", "team_notice", "customer_notice", "buddy_handover", "voicemail_reminder",
         "auto_reply_on", "slack_status_on", "sms_review", "auto_reply_off", "slack_status_off", "return_digest"]
JORDANS_CUSTOMERS = {"hank@codyautorepair.com", "mia@codyautorepair.com", "tess@jacksonholeyoga.com",
                     "owen@redlodgeskirentals.com"}  # sandbox.scenario.customer_book


def states(tis) -> dict[str, str]:
    return {t.task_id if t.map_index < 0 else f"{t.task_id}[{t.map_index}]": t.state for t in tis}


def test_a_backfilled_absence_runs_every_step_in_timeline_order(absence_dag, connections, team):
    # The demo's replay: out sick for a week two weeks ago, filed as of that morning, so every
    # moment has passed and the whole procedure runs now, in order, against the seeded sandbox.
    params, filed = next((p, f) for p, f in sample_absences(dt.date.today()) if p["kind"] == "unexpected")
    run, tis = run_absence(absence_dag, params, dt.datetime.fromisoformat(filed))
    assert run.state == "success", states(tis)
    by_id = states(tis)
    assert by_id.pop("approval") == "skipped"  # unexpected: no approval
    assert by_id.pop("visit_requests") == "skipped"  # not a client visit
    assert set(by_id.values()) == {"success"}, by_id
    timeline = plan_timeline(Absence.from_dict(run_plan(tis)["absence"]), team, dt.datetime.fromisoformat(filed))
    reviews = sorted((t for t in tis if t.task_id == "sms_review"), key=lambda t: t.map_index)
    assert [t.rendered_map_index for t in reviews] == [r.label for r in timeline.reviews]
    # each step started after the one before it had finished
    starts = {t.task_id: min(x.start_date for x in tis if x.task_id == t.task_id) for t in tis}
    ends = {t.task_id: max(x.end_date for x in tis if x.task_id == t.task_id) for t in tis}
    for before, after in zip(ORDER, ORDER[1:], strict=False):
        assert ends[before] <= starts[after], f"{after} started before {before} ended"

    # ...and what Jordan, his team and support see:
    seen = effects_of(connections.sandbox, team, JORDAN, MAYA)
    assert len(seen.ooo_events) == 1
    block = seen.ooo_events[0]
    assert block["start"]["dateTime"].startswith(params["start_date"])
    assert "Maya Patel" in block["outOfOfficeProperties"]["declineMessage"]
    assert len(seen.team_notices) == 1 and "backup buddy" in seen.team_notices[0]["text"]
    assert len(seen.buddy_dms) == 1 and len(seen.employee_dms) == 1  # handover; voicemail script
    assert not seen.auto_reply_on  # on at the start, off (and verified) on return
    slack = connections.sandbox.api("slack")
    assert slack.status(slack.user_id(JORDAN))["text"] == ""  # back a week ago: no status to set now
    assert len(seen.digests) == 1
    assert seen.digests[0]["headers"]["Auto-Submitted"] == "auto-generated"
    unanswered = sum(len(r["raised"]) for r in review_records(tis))
    assert unanswered > 0 and len(seen.support_alerts) == unanswered
    # his customers' contacts, each emailed once and logged on HubSpot; Tom Becker, his CC, told
    notices = [m for m in seen.sent if m["to"][0] in JORDANS_CUSTOMERS]
    assert sorted(m["to"][0] for m in notices) == sorted(JORDANS_CUSTOMERS)
    logged = {e["props"]["hs_email_message_id"] for e in connections.sandbox.api("hubspot").crm.emails.values()}
    assert {m["message_id"] for m in notices} <= logged
    slack = connections.sandbox.api("slack")
    tom = [m["text"] for m in slack.dm_messages(slack.user_id("tom.becker@yellowstonelocal.com"))]
    assert len(tom) == 1 and "4 contacts at 3 customers were emailed who covers" in tom[0]


def test_a_rejected_absence_runs_nothing_after_validate(absence_dag, connections):
    filed = pendulum.datetime(2026, 11, 20, 15, 0, tz="UTC")
    run, tis = run_absence(absence_dag, {"employee": JORDAN, "start_date": "2026-12-07", "end_date": "2026-12-04",
                                         "backup_buddy": JORDAN}, filed)
    assert run.state == "failed"
    by_id = states(tis)
    assert by_id.pop("validate") == "failed"
    assert set(by_id.values()) == {"upstream_failed"}, by_id
    assert list(connections.sandbox.requests) == []  # no calendar, mailbox or channel was touched


def test_an_absence_filed_after_it_ended_skips_what_has_lapsed(absence_dag, connections):
    filed = pendulum.datetime(2026, 11, 20, 16, 0, tz="UTC")  # after the absence was over
    run, tis = run_absence(absence_dag, {"employee": JORDAN, "start_date": "2026-11-02",
                                         "end_date": "2026-11-06", "kind": "unexpected"}, filed)
    by_id = states(tis)
    assert run.state == "success", by_id
    for step in ("team_notice", "customer_notice", "buddy_handover", "voicemail_reminder", "auto_reply_on"):
        assert by_id[step] == "skipped", step
    assert by_id["calendar_cleanup"] == by_id["auto_reply_off"] == by_id["return_digest"] == "success"


def test_a_failing_step_alerts_ops_with_the_absence_the_step_and_a_link(absence_dag, connections, team):
    params, filed = next((p, f) for p, f in sample_absences(dt.date.today()) if p["kind"] == "unexpected")
    connections.sandbox.api("google").revoke_delegation(JORDAN)  # Google now refuses to act as him
    run, tis = run_absence(absence_dag, params, dt.datetime.fromisoformat(filed))
    by_id = states(tis)
    assert run.state == "failed" and by_id["calendar_cleanup"] == "failed"
    assert by_id["team_notice"] == by_id["customer_notice"] == "upstream_failed"
    slack = connections.sandbox.api("slack")
    alerts = [m["text"] for m in slack.messages(team.channels["ops"]) if m.get("bot_id")]
    assert len(alerts) == 1
    assert "calendar_cleanup" in alerts[0] and JORDAN in alerts[0]
    assert f"{params['start_date']} to {params['end_date']}" in alerts[0]
    assert "/dags/ooo_absence/runs/" in alerts[0] and "calendar_cleanup" in alerts[0]
    assert "credentials for ooo_google were refused" in alerts[0]


def test_a_backfilled_client_visit_with_half_days_sends_the_thread_to_the_employee(absence_dag, connections, team):
    # Filed (and approved in the HR tool) the day before, backfilled: every moment has passed.
    params = {"employee": MAYA, "start_date": "2026-11-09", "end_date": "2026-11-10", "kind": "client_visit",
              "client_company": "bigskyoutfitters.com", "start_half": "afternoon", "end_half": "morning",
              "approved_by": "allison.reed@yellowstonelocal.com"}
    run, tis = run_absence(absence_dag, params, pendulum.datetime(2026, 11, 6, 16, 0, tz="UTC"))
    by_id = states(tis)
    assert run.state == "success", by_id
    assert by_id["visit_requests"] == "success" and by_id["approval"] == "success"
    plan = run_plan(tis)["timeline"]
    assert (plan["out_from"], plan["back_at"]) == ("2026-11-09T12:00:00-07:00", "2026-11-10T12:00:00-07:00")
    slack = connections.sandbox.api("slack")
    [notice] = [m for m in slack.messages(team.channels["team_notice"])
                if (m.get("metadata") or {}).get("event_type") == "ooo_team_notice"]
    assert "I will be visiting Big Sky Outfitters from 12:00 PM MST on Monday, November 9, 2026" in notice["text"]
    dms = [m["text"] for m in slack.dm_messages("U02MAYA00") if m.get("bot_id")]
    assert any(t.startswith(":handshake: *What the team needs from Big Sky Outfitters*") for t in dms)
    block = next(e for e in effects_of(connections.sandbox, team, MAYA, JORDAN).ooo_events)
    assert block["summary"] == "Client visit (out of office)"
