"""Typed records: what a step stores is what later steps, the note and undo read back, across releases."""

from __future__ import annotations

from ooo.procedure import Step
from ooo.records import (
    ApprovalAnswer,
    BackEarly,
    CalendarCleanup,
    Cancellation,
    CustomerNotice,
    DeclinedMeeting,
    RecordedStatus,
    Records,
    ReviewedText,
    SlackPost,
    SlackStatusOn,
    SmsReview,
)

# What calendar_cleanup stored before typed records (a run filed under an earlier release, still waiting).
OLD_CLEANUP = {
    "ooo_event_id": "abc", "handover_event_id": None, "coverage_review_event_id": None,
    "declined": [{"id": "m1", "summary": "QBR", "start": "2026-12-08T15:00:00-07:00", "when": "Tue Dec 8, 3:00 PM MST",
                  "kind": "external", "organised": False, "htmlLink": "https://calendar.example/m1"}],
    "reschedule_emails": [{"event_id": "m1", "event": "QBR", "to": ["a@client.example"], "subject": "Rescheduling",
                           "message_id": "<x@y>", "gmail_id": "g1"}],
    "organised": [], "missed_internal": [], "skipped": [],
}


def test_a_record_stored_by_an_earlier_release_reads_back_and_stores_the_same_keys():
    cleanup = CalendarCleanup.from_dict(OLD_CLEANUP)
    assert cleanup.declined[0].html_link == "https://calendar.example/m1"  # stored as htmlLink
    assert cleanup.reschedule_emails[0].to == ["a@client.example"]
    # what it stores again: the same keys, and the ones added since at their defaults
    added = {"logged": None, "not_in_hubspot": []}
    assert cleanup.to_dict() == {**OLD_CLEANUP, "ooo_event_adopted": False,
                                 "reschedule_emails": [{**OLD_CLEANUP["reschedule_emails"][0], **added}]}


def test_a_missing_field_takes_its_default_and_a_wrong_one_is_dropped():
    read = CalendarCleanup.from_dict({"ooo_event_id": 7, "declined": "not a list", "future_field": {"x": 1}})
    assert read == CalendarCleanup()
    assert DeclinedMeeting.from_dict({"id": "m1"}).kind == "internal"
    assert SlackPost.from_dict(None) == SlackPost()


def test_records_from_xcoms_keep_a_missing_step_apart_from_one_that_did_nothing():
    records = Records.from_xcoms({"calendar_cleanup": OLD_CLEANUP, "team_notice": None, "auto_reply_on": "junk"},
                                 [{"day": "2026-12-09"}, None, {"day": "2026-12-08", "raised": [{"id": 3}]}])
    assert records.calendar_cleanup is not None and records.team_notice is None and records.auto_reply_on is None
    assert [r.day for r in records.reviews] == ["2026-12-08", "2026-12-09"]  # day by day
    assert records.reviews[0].raised == [ReviewedText(id=3)]


def test_a_running_step_sees_its_own_record_beside_the_others():
    records = Records.from_xcoms({}, [{"day": "2026-12-08"}])
    today = SmsReview(day="2026-12-09", raised=[ReviewedText(id=1)])
    assert [r.day for r in records.with_record(Step.SMS_REVIEW, today).reviews] == ["2026-12-08", "2026-12-09"]
    again = records.with_record(Step.SMS_REVIEW, today).with_record(Step.SMS_REVIEW, today)
    assert len(again.reviews) == 2
    posted = SlackPost(channel="C1", ts="1.0", posted=True)
    assert records.with_record(Step.TEAM_NOTICE, posted).team_notice == posted


def test_records_round_trip_as_the_digest_preview_reads_them():
    records = Records.from_xcoms({"calendar_cleanup": OLD_CLEANUP}, [{"day": "2026-12-08"}])
    raw = records.to_dicts()
    assert Records.from_xcoms({k: v for k, v in raw.items() if k != "reviews"}, raw["reviews"]) == records


def test_the_approval_answer_says_approved_and_why_not():
    assert ApprovalAnswer.from_dict({"chosen_options": ["Approve"]}).approved
    rejected = ApprovalAnswer.from_dict({"chosen_options": ["Reject"], "params_input": {"reason": " busy "}})
    assert not rejected.approved and rejected.reason == "busy"


def test_a_customer_notice_reads_back_and_says_how_many_were_told():
    raw = {"told": [{"address": "dana@bigsky.example", "company": "Big Sky", "company_ids": ["11"],
                     "message_id": "<a@b>", "engagement_id": "61"},
                    {"address": "chris@hale.example", "company": "Big Sky", "company_ids": ["11", "12"]},
                    "junk"],
           "left_out": [{"company": "Livingston", "reason": "opted out"}], "cc": {"ts": "1.2", "posted": True},
           "a_later_field": 3}
    notice = CustomerNotice.from_dict(raw)
    assert [t.address for t in notice.told] == ["dana@bigsky.example", "chris@hale.example"]
    assert notice.told[0].engagement_id == "61" and notice.told[1].companies == []  # older: no names
    assert notice.left_out[0].reason == "opted out" and notice.cc == SlackPost(ts="1.2", posted=True)
    assert notice.summary == "customers told: 2 contacts at 2 companies"
    assert CustomerNotice(told=[notice.told[0]]).summary == "customers told: 1 contact at 1 company"
    assert Records.from_xcoms({Step.CUSTOMER_NOTICE.value: raw}).customer_notice == notice
    assert Records.from_xcoms({}).customer_notice is None  # a run filed before the step existed


def test_the_status_steps_records_read_back_with_the_status_before():
    on = {"user": "U02MAYA00", "status": {"text": "Out of office", "emoji": ":palm_tree:",
                                          "expiration": "2026-12-14T15:30:00+00:00"},
          "before": {"text": "Renewals week", "emoji": ":spiral_calendar_pad:", "expiration": None}, "changed": True}
    records = Records.from_xcoms({"slack_status_on": on, "slack_status_off": {"put_back": True}})
    assert records.slack_status_on is not None and records.slack_status_on.before == RecordedStatus(
        "Renewals week", ":spiral_calendar_pad:")
    assert records.slack_status_off is not None and records.slack_status_off.put_back
    assert records.to_dicts()["slack_status_on"] == {**on, "skipped": None}
    # a retry that found ours already set knows no status before (None), which is not "no status" (clear)
    assert SlackStatusOn.from_dict({**on, "before": None}).before is None
    # runs filed before the status steps existed read back with nothing done, and so do their changes
    assert Records.from_xcoms({}).slack_status_on is None
    assert not Cancellation.from_dict({"auto_reply_off": True}).status_put_back
    assert not BackEarly.from_dict({}).status_updated
