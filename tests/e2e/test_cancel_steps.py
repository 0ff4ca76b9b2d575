"""Cancelling an absence undoes what it did, from the records, and only that; twice is once."""

from __future__ import annotations

from ooo.steps import Records
from ooo.steps.auto_reply import auto_reply_on
from ooo.steps.calendar import calendar_cleanup
from ooo.steps.cancel import cancel_absence
from ooo.steps.notices import buddy_handover, team_notice

MAYA = "maya.patel@yellowstonelocal.com"
NOTICE = "#dept-client-services-must-reads"


def test_cancel_removes_the_block_switches_off_the_reply_and_corrects_the_notice(connections, make_absence,
                                                                              step_context):
    google, slack = connections.sandbox.api("google"), connections.sandbox.api("slack")
    absence = make_absence(employee=MAYA, start="2026-12-07", end="2026-12-11")
    records = {}
    for step in (calendar_cleanup, team_notice, buddy_handover, auto_reply_on):
        records[step.__name__] = step(step_context(absence, records=Records(records)))
    handover = records["calendar_cleanup"]["handover_event_id"]
    assert google.get_event(MAYA, handover) and google.vacation(MAYA)["enableAutoReply"]
    notices = len(slack.messages(NOTICE))

    done = cancel_absence(step_context(absence, records=Records(records)))
    assert [e for e in google.list_events(MAYA) if e.get("eventType") == "outOfOffice"] == []
    assert (google.get_event(MAYA, handover) or {}).get("status", "cancelled") == "cancelled"
    assert not google.vacation(MAYA)["enableAutoReply"]
    corrections = slack.messages(NOTICE)[notices:]
    assert len(corrections) == 1
    assert corrections[0]["thread_ts"] == records["team_notice"]["ts"]
    assert "time off from Monday, December 7, 2026 to Friday, December 11, 2026 is cancelled" in corrections[0]["text"]
    buddy_dm = slack.dm_messages(slack.user_id("jordan.reyes@yellowstonelocal.com"))
    assert "nothing to cover" in buddy_dm[-1]["text"]
    assert done["left_declined"] == [d["summary"] for d in records["calendar_cleanup"]["declined"]]

    again = cancel_absence(step_context(absence, records=Records(records)))
    assert again["deleted_events"] == [] and len(slack.messages(NOTICE)) == notices + 1
    assert all(not c["posted"] for c in again["corrections"])


def test_cancel_leaves_an_auto_reply_it_did_not_set(connections, make_absence, step_context):
    google = connections.sandbox.api("google")
    google.set_vacation(MAYA, {"enableAutoReply": True, "responseSubject": "My own", "responseBodyPlainText": "x"})
    absence = make_absence(employee=MAYA, start="2026-12-07", end="2026-12-11")
    cleanup = calendar_cleanup(step_context(absence))
    done = cancel_absence(step_context(absence, records=Records({"calendar_cleanup": cleanup})))
    assert done["auto_reply"] is None and google.vacation(MAYA)["enableAutoReply"]
