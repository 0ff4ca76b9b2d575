"""Cancelling an absence, or ending it early, against the sandbox: what people see afterwards.

Maya Patel (CSM, America/Denver) is out Monday 2026-12-07 to Friday 2026-12-11 (asked on
2026-11-23, Jordan Reyes covering); the seeded sandbox holds her meetings that week.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import pendulum
import pytest

from ooo.records import Records
from ooo.steps.auto_reply import auto_reply_on
from ooo.steps.back_early import back_early
from ooo.steps.calendar import calendar_cleanup
from ooo.steps.cancel import cancel_absence
from ooo.steps.notices import buddy_handover, team_notice
from ooo.timeline import plan_timeline

MAYA = "maya.patel@yellowstonelocal.com"
JORDAN = "jordan.reyes@yellowstonelocal.com"
NOTICE = "#dept-client-services-must-reads"


def denver(day: int, hour: int = 9) -> dt.datetime:
    return pendulum.datetime(2026, 12, day, hour, tz="America/Denver")


@pytest.fixture
def announced(connections, make_absence, step_context):
    """Maya's week after the calendar cleanup, the notices and the auto-reply: (absence, records)."""
    absence = make_absence(employee=MAYA, start="2026-12-07", end="2026-12-11")
    records = {}
    for step in (calendar_cleanup, team_notice, buddy_handover, auto_reply_on):
        records[step.__name__] = step(step_context(absence, now=denver(4, 15), records=Records(**records)))
    return absence, records


def my_response(google, event_id: str) -> str | None:
    return google.response_of(MAYA, event_id, MAYA)


def test_cancel_before_the_start_leaves_nothing_behind(connections, announced, step_context):
    google, slack = connections.sandbox.api("google"), connections.sandbox.api("slack")
    absence, records = announced
    cleanup = records["calendar_cleanup"]
    declined = [m.id for m in cleanup.declined]
    notes = {n.event_id: n for n in cleanup.reschedule_emails}
    assert declined and notes and all(my_response(google, e) == "declined" for e in declined)
    notices = len(slack.messages(NOTICE))
    sent = len(google.sent(MAYA))

    done = cancel_absence(step_context(absence, now=denver(4, 16), records=Records(**records)))

    assert [e for e in google.list_events(MAYA) if e.get("eventType") == "outOfOffice"] == []
    assert (google.get_event(MAYA, cleanup.handover_event_id) or {}).get("status") == "cancelled"
    organised = {m.id for m in cleanup.organised}
    for event in declined:  # back as they were: to answer again (or accepted, where she hosts)
        assert my_response(google, event) == ("accepted" if event in organised else "needsAction"), event
    assert not google.vacation(MAYA)["enableAutoReply"]
    stands = google.sent(MAYA)[sent:]
    assert sorted(m["headers"]["In-Reply-To"] for m in stands) == sorted(n.message_id for n in notes.values())
    for message in stands:
        assert message["auto_submitted"] == "auto-generated"
        assert "time out of the office has been cancelled" in message["text"]
    correction = slack.messages(NOTICE)[notices:]
    assert len(correction) == 1 and correction[0]["thread_ts"] == records["team_notice"].ts
    assert "is cancelled: they will be in as usual" in correction[0]["text"]
    assert "nothing to cover" in slack.dm_messages(slack.user_id(JORDAN))[-1]["text"]
    assert len(done.restored) == len(declined)

    again = cancel_absence(step_context(absence, now=denver(4, 17), records=Records(**records)))
    assert again.deleted_events == [] and again.restored == [] and not again.auto_reply_off
    assert len(google.sent(MAYA)) == sent + len(stands) and len(slack.messages(NOTICE)) == notices + 1


def test_cancel_mid_absence_puts_back_only_what_is_still_to_come(connections, announced, step_context):
    google, slack = connections.sandbox.api("google"), connections.sandbox.api("slack")
    absence, records = announced
    now = denver(9, 12)  # Wednesday noon: she is back
    declined = records["calendar_cleanup"].declined
    past = [m.id for m in declined if dt.datetime.fromisoformat(m.start) < now]
    to_come = [m.id for m in declined if dt.datetime.fromisoformat(m.start) >= now]
    assert past and to_come

    cancel_absence(step_context(absence, now=now, records=Records(**records)))

    assert all(my_response(google, e) == "declined" for e in past)  # history stays as it was
    assert all(my_response(google, e) in ("needsAction", "accepted") for e in to_come)
    assert not google.vacation(MAYA)["enableAutoReply"]
    assert "is cancelled: they are back" in slack.messages(NOTICE)[-1]["text"]


def test_cancel_leaves_an_auto_reply_it_did_not_set(connections, make_absence, step_context):
    google = connections.sandbox.api("google")
    google.set_vacation(MAYA, {"enableAutoReply": True, "responseSubject": "My own", "responseBodyPlainText": "x"})
    absence = make_absence(employee=MAYA, start="2026-12-07", end="2026-12-11")
    cleanup = calendar_cleanup(step_context(absence, now=denver(4)))
    done = cancel_absence(step_context(absence, now=denver(4, 10), records=Records(calendar_cleanup=cleanup)))
    assert not done.auto_reply_off and google.vacation(MAYA)["responseSubject"] == "My own"


def test_back_early_cuts_the_block_the_reply_and_the_meetings_to_the_new_end(connections, announced, step_context,
                                                                           team):
    google, slack = connections.sandbox.api("google"), connections.sandbox.api("slack")
    absence, records = announced
    was = step_context(absence, now=denver(8, 12), records=Records(**records))
    shorter = dataclasses.replace(absence, end=dt.date(2026, 12, 8))  # back Wednesday instead of next Monday
    now = dataclasses.replace(was, absence=shorter, timeline=plan_timeline(shorter, team, absence.requested_at))
    new_back = denver(9, 0)
    declined = records["calendar_cleanup"].declined
    after = [m.id for m in declined if dt.datetime.fromisoformat(m.start) >= new_back]
    before = [m.id for m in declined if dt.datetime.fromisoformat(m.start) < new_back]
    assert after and before

    done = back_early(now, was)

    block = next(e for e in google.list_events(MAYA) if e.get("eventType") == "outOfOffice")
    assert dt.datetime.fromisoformat(block["end"]["dateTime"]) == new_back
    assert all(my_response(google, e) in ("needsAction", "accepted") for e in after)
    assert all(my_response(google, e) == "declined" for e in before)
    reply = google.vacation(MAYA)
    assert reply["enableAutoReply"] and "Wednesday, December 9, 2026" in reply["responseBodyPlainText"]
    assert int(reply["endTime"]) == int(new_back.timestamp() * 1000)
    update = slack.messages(NOTICE)[-1]
    assert update["thread_ts"] == records["team_notice"].ts
    assert "back early" in update["text"] and "Wednesday, December 9, 2026" in update["text"]
    assert "Thank you for covering" in slack.dm_messages(slack.user_id(JORDAN))[-1]["text"]
    assert done.block_cut and done.auto_reply_updated

    posts, sent = len(slack.messages(NOTICE)), len(google.sent(MAYA))
    back_early(now, was)  # a retry: nothing twice
    assert (len(slack.messages(NOTICE)), len(google.sent(MAYA))) == (posts, sent)


def test_cancel_and_back_early_leave_the_employees_own_event_to_them(connections, make_absence, step_context, team):
    google = connections.sandbox.api("google")
    lena = "lena.fischer@yellowstonelocal.com"
    own = google.add_event(lena, {
        "id": "lenaoff120700", "eventType": "outOfOffice", "summary": "Vacation",
        "start": {"dateTime": "2026-12-07T00:00:00-05:00"}, "end": {"dateTime": "2026-12-12T00:00:00-05:00"},
        "outOfOfficeProperties": {"autoDeclineMode": "declineNone", "declineMessage": "Away."}})
    absence = make_absence(employee=lena, start="2026-12-07", end="2026-12-11")
    cleanup = calendar_cleanup(step_context(absence, now=denver(2)))
    assert cleanup.ooo_event_adopted and cleanup.coverage_review_event_id
    records = Records(calendar_cleanup=cleanup)

    was = step_context(absence, now=denver(3), records=records)
    shorter = dataclasses.replace(absence, end=dt.date(2026, 12, 9))
    back_early(dataclasses.replace(was, absence=shorter, timeline=plan_timeline(shorter, team, absence.requested_at)),
               was)
    assert google.get_event(lena, own["id"]) == {**own, "etag": google.get_event(lena, own["id"])["etag"]}

    done = cancel_absence(step_context(absence, now=denver(4), records=records))

    assert done.deleted_events == [cleanup.coverage_review_event_id]  # what the absence booked, not hers
    assert google.get_event(lena, own["id"])["status"] == "confirmed"
    assert google.get_event(lena, own["id"])["end"] == own["end"]
