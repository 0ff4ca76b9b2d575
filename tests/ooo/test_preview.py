"""The preview of an absence: its steps, their moments and statuses, as JSON, text and a run note."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json

import pendulum
import pytest

from ooo.preview import ReadOnly, ReadOnlyServices, dry_run_note, planned_steps, preview, render_json, render_text
from ooo.services.google import GoogleWorkspace
from ooo.services.hubspot import HubSpotClient
from ooo.services.slack import SlackClient
from ooo.timeline import plan_timeline

MAYA = "maya.patel@yellowstonelocal.com"  # CSM, America/Denver; manager Allison Reed
JORDAN = "jordan.reyes@yellowstonelocal.com"  # CSM, America/Chicago
LENA = "lena.fischer@yellowstonelocal.com"  # CC, America/New_York, no JustCall number
FILED = pendulum.datetime(2026, 11, 23, 16, 0, tz="UTC")  # Monday 9:00 in Denver


def preview_of(make_absence, team, now=FILED, **kw):
    absence = make_absence(requested_at=now, **kw)
    return preview(absence, plan_timeline(absence, team, now), now)


def by_step(result) -> dict[str, dict]:
    return {s["step"]: s for s in result.to_dict()["steps"] if s["step"] != "sms_review"}


def test_a_planned_week_asks_the_manager_now_and_waits_for_each_later_moment(make_absence, team):
    steps = by_step(preview_of(make_absence, team, start="2026-12-07", end="2026-12-11"))
    assert steps["approval"]["status"] == "at_once"
    assert steps["approval"]["reason"] == ("asks Allison Reed at once; no answer by Mon Dec 7, 12:00 AM MST "
                                           "counts as a rejection")
    assert steps["calendar_cleanup"] == {**steps["calendar_cleanup"], "status": "at_once",
                                         "reason": "right after the approval"}
    assert steps["team_notice"] == {"step": "team_notice", "at": "2026-12-04T15:00:00-07:00",
                                    "at_utc": "2026-12-04T22:00:00+00:00", "status": "scheduled",
                                    "reason": "waits for its moment (deferred)"}
    assert steps["handover_meeting"]["status"] == "scheduled"
    assert steps["handover_meeting"]["at"] == "2026-12-04T14:00:00-07:00"
    assert steps["coverage_review"]["status"] == "skipped"
    assert steps["coverage_review"]["reason"] == "a coverage review is for CCs; Maya Patel is csm"
    assert steps["auto_reply_on"]["at"] == "2026-12-07T00:00:00-07:00"


def test_daily_reviews_appear_once_a_day_and_steps_come_in_time_order(make_absence, team):
    result = preview_of(make_absence, team, start="2026-12-07", end="2026-12-11")
    steps = result.to_dict()["steps"]
    reviews = [s for s in steps if s["step"] == "sms_review"]
    assert [r["at"][:10] for r in reviews] == ["2026-12-07", "2026-12-08", "2026-12-09", "2026-12-10",
                                              "2026-12-11", "2026-12-14"]
    assert reviews[1]["reason"] == "texts since Mon Dec 7, 5:00 PM MST"
    moments = [dt.datetime.fromisoformat(s["at_utc"]) for s in steps]
    assert moments == sorted(moments)  # nothing is late here: the order is the moments
    # the return morning: the last review, then the responder and the status off, then the digest, as the DAG
    # runs them; the status goes on with the responder
    assert [s["step"] for s in steps[-4:]] == ["sms_review", "auto_reply_off", "slack_status_off", "return_digest"]
    assert len({s["at"] for s in steps[-4:]}) == 1
    on = [s for s in steps if s["step"] in ("auto_reply_on", "slack_status_on")]
    assert [s["step"] for s in on] == ["auto_reply_on", "slack_status_on"] and on[0]["at"] == on[1]["at"]


def test_a_sick_week_logged_late_runs_past_moments_at_once(make_absence, team):
    logged = pendulum.datetime(2026, 12, 9, 11, 0, tz="America/Chicago")  # Wednesday, out since Monday
    result = preview_of(make_absence, team, now=logged, employee=JORDAN, kind="unexpected",
                        start="2026-12-07", end="2026-12-11")
    steps = by_step(result)
    assert steps["approval"] == {**steps["approval"], "status": "skipped",
                                 "reason": "unexpected absence: no approval needed"}
    assert steps["team_notice"]["status"] == steps["auto_reply_on"]["status"] == "at_once"
    assert steps["team_notice"]["reason"] == "unexpected absence: at once"
    assert steps["handover_meeting"]["status"] == "skipped"
    reviews = [s for s in result.to_dict()["steps"] if s["step"] == "sms_review"]
    assert [(r["at"][:10], r["status"]) for r in reviews[:3]] == [
        ("2026-12-07", "at_once"), ("2026-12-08", "at_once"), ("2026-12-09", "scheduled")]
    assert reviews[0]["reason"] == "catch-up: due Mon Dec 7, 5:00 PM CST, already past"
    # what runs at once happens now, in the DAG's order: the notices first, then the missed reviews
    order = [s["step"] for s in result.to_dict()["steps"] if s["status"] != "skipped"]
    assert order[:10] == ["calendar_cleanup", "team_notice", "customer_notice", "buddy_handover",
                          "voicemail_reminder", "auto_reply_on", "slack_status_on", "sms_review", "sms_review",
                          "sms_review"]


def test_an_absence_logged_after_it_ended_skips_what_lapsed(make_absence, team):
    logged = pendulum.datetime(2026, 12, 20, 12, 0, tz="UTC")
    steps = by_step(preview_of(make_absence, team, now=logged, employee=JORDAN, kind="unexpected",
                               start="2026-12-07", end="2026-12-11"))
    for step in ("team_notice", "buddy_handover", "voicemail_reminder", "auto_reply_on", "slack_status_on"):
        assert steps[step]["status"] == "skipped"
        assert steps[step]["reason"] == "the absence was over before it was logged"
    assert steps["slack_status_off"] == {**steps["slack_status_off"], "status": "skipped",
                                         "reason": "no Slack status was set: the absence was over before it was logged"}
    assert steps["return_digest"]["status"] == "at_once"
    assert steps["return_digest"]["reason"].startswith("catch-up: due Mon Dec 14, 8:30 AM CST")


def test_a_cc_gets_a_coverage_review_and_no_voicemail_step(make_absence, team):
    steps = by_step(preview_of(make_absence, team, employee=LENA, start="2026-12-07", end="2026-12-11"))
    assert steps["coverage_review"]["status"] == "scheduled"
    assert steps["coverage_review"]["at"] == "2026-11-30T10:00:00-05:00"  # a week before, 10:00 local
    assert steps["voicemail_reminder"] == {**steps["voicemail_reminder"], "status": "skipped",
                                           "reason": "no JustCall number in the roster"}


def test_the_json_form(make_absence, team):
    raw = json.loads(render_json(preview_of(make_absence, team, start="2026-12-07", end="2026-12-11")))
    assert raw["employee"] == MAYA and raw["timezone"] == "America/Denver"
    assert raw["return_date"] == "2026-12-14"
    for step in raw["steps"]:
        assert set(step) == {"step", "at", "at_utc", "status", "reason"}
        assert step["status"] in ("scheduled", "at_once", "skipped") and step["reason"]
        local, utc = dt.datetime.fromisoformat(step["at"]), dt.datetime.fromisoformat(step["at_utc"])
        assert local == utc and utc.utcoffset() == dt.timedelta(0) and local.utcoffset() is not None
    assert "services" not in raw  # only with --services


def test_the_text_form(make_absence, team):
    text = render_text(preview_of(make_absence, team, start="2026-12-07", end="2026-12-11", note="Ski trip"))
    lines = text.splitlines()
    assert lines[0] == ("Maya Patel (maya.patel@yellowstonelocal.com, CSM): planned absence, "
                        "Monday, December 7, 2026 to Friday, December 11, 2026 (5 days)")
    assert "Back on Monday, December 14, 2026." in lines[1]
    assert "Filed as of Mon Nov 23, 9:00 AM MST" in text
    header = next(line for line in lines if line.startswith("Local (America/Denver)"))
    assert header.split() == ["Local", "(America/Denver)", "UTC", "Step", "Status", "Why"]
    notice = next(line for line in lines if " team_notice " in line)
    assert notice.split()[:7] == ["Fri", "2026-12-04", "15:00", "MST", "2026-12-04", "22:00", "team_notice"]
    assert notice.endswith("scheduled  waits for its moment (deferred)")
    assert any("sms_review 2026-12-14 (return morning)" in line for line in lines)
    assert all(line == line.rstrip() for line in lines)
    # every column starts where the header's does
    assert notice.index("team_notice") == header.index("Step") and notice.index("scheduled") == header.index("Status")


def test_the_text_form_with_what_the_steps_would_do(make_absence, team):
    absence = make_absence(start="2026-12-07", end="2026-12-11")
    result = preview(absence, plan_timeline(absence, team, FILED), FILED)
    services = {
        "calendar_cleanup": {
            "ooo_block": {"summary": "Out of office", "from": "Mon Dec 7, 12:00 AM MST",
                          "until": "Mon Dec 14, 12:00 AM MST", "decline_message": "I'm out until Monday."},
            "decline": [{"summary": "QBR: Big Sky", "when": "Tue Dec 8, 10:00 AM MST", "kind": "external",
                         "organised": False, "reschedule_to": ["hannah@bigsky.com"],
                         "reschedule_subject": "Rescheduling \"QBR: Big Sky\""},
                        {"summary": "Team sync", "when": "Wed Dec 9, 9:00 AM MST", "kind": "internal",
                         "organised": True, "reschedule_to": []}],
            "left_alone": [{"summary": "Dentist", "when": "Thu Dec 10, 8:00 AM MST", "reason": "already declined"}],
        },
        "team_notice": {"channel": "#dept-client-services-must-reads", "text": "Out: Maya\n\nBack Monday"},
        "customer_notice": {
            "to": [{"name": "Dana Whitfield", "address": "dana@bigsky.example", "companies": ["Big Sky"]},
                   {"name": "", "address": "chris@hale.example", "companies": ["Big Sky", "Gallatin"]}],
            "left_out": [{"company": "Livingston", "contact": "", "address": None, "reason": "opted out"},
                         {"company": "Teton", "contact": "Pat Quinn", "address": "orders@shop",
                          "reason": "'orders@shop' is not a valid email address"}],
            "subject": "Out of the office from Monday", "companies": 2,
            "cc": {"name": "Lena Fischer", "email": "lena@yl.example"}},
        "auto_reply_on": {"subject": "Out of office", "text": "Hi there,\n\nBack Monday.", "from": "a", "until": "b"},
        "slack_status_on": {"emoji": ":palm_tree:", "text": "Out of office · back Mon Dec 14 · ask Jordan Reyes",
                            "until": "Mon Dec 14, 8:30 AM MST", "skipped": None},
    }
    text = render_text(dataclasses.replace(result, services=services))
    assert ("slack_status_on, until Mon Dec 14, 8:30 AM MST (when Slack clears it)\n"
            "    :palm_tree: Out of office · back Mon Dec 14 · ask Jordan Reyes\n") in text
    assert "Not set" not in text
    services["slack_status_on"]["skipped"] = "no ooo_slack_user connection"
    assert "    Not set: no ooo_slack_user connection.\n" in render_text(dataclasses.replace(result, services=services))
    assert "  Decline (external): QBR: Big Sky, Tue Dec 8, 10:00 AM MST\n" \
           "    reschedule email to hannah@bigsky.com, subject: Rescheduling \"QBR: Big Sky\"\n" in text
    assert "  Decline (internal, Maya organises it: it stays on the guests' calendars): Team sync" in text
    assert "  Leave as it is: Dentist, Thu Dec 10, 8:00 AM MST (already declined)" in text
    assert "team_notice, in #dept-client-services-must-reads\n    Out: Maya\n\n    Back Monday\n" in text
    assert ("customer_notice, from maya.patel@yellowstonelocal.com: 2 contacts at 2 companies, subject: Out of the "
            "office from Monday\n"
            "  Email Dana Whitfield <dana@bigsky.example> (Big Sky)\n"
            "  Email <chris@hale.example> (Big Sky, Gallatin)\n"
            "  Leave out: Livingston (opted out)\n"
            "  Leave out: Teton, Pat Quinn <orders@shop> ('orders@shop' is not a valid email address)\n"
            "  CC told in a Slack DM: Lena Fischer (lena@yl.example)\n\nauto_reply_on") in text
    assert all(line == line.rstrip() for line in text.splitlines())
    skipped = {**services, "customer_notice": {"skipped": "customer notices are for CSMs; Lena Fischer is cc"}}
    text = render_text(dataclasses.replace(result, services=skipped))
    assert "customer_notice: no customer is told (customer notices are for CSMs; Lena Fischer is cc)\n\n" in text


def test_a_dry_runs_note_says_nothing_changed_and_fits_airflows_limit(make_absence, team):
    absence = make_absence(start="2026-12-01", end="2026-12-30")  # the longest the team allows
    note = dry_run_note(preview(absence, plan_timeline(absence, team, FILED), FILED))
    assert note.startswith("**Dry run**, nothing was changed: Maya Patel (planned) out Tue Dec 1 – Wed Dec 30")
    assert "Mon Nov 30, 3:00 PM MST: team\\_notice; customer\\_notice; buddy\\_handover" in note  # Markdown-escaped
    assert "SMS reviews: 21," in note  # 20 working days out (Dec 24, 25 are holidays), and the return morning
    assert note.endswith("slack\\_status\\_off; return\\_digest")  # every step, none clipped
    assert len(note) <= 1000


def test_the_preview_clients_only_read():
    class Client:
        def list_events(self):
            return ["read"]

        def patch_event(self):  # pragma: no cover - must never be reached
            raise AssertionError("written")

    client = ReadOnly(Client(), frozenset({"list_events"}), "google")
    assert client.list_events() == ["read"]
    with pytest.raises(PermissionError, match="the preview only reads: google.patch_event is not allowed"):
        client.patch_event()
    # the allowed calls exist on the real clients and read (list/get/find/lookups)
    for cls, names in ((GoogleWorkspace, ReadOnlyServices.GOOGLE_READS), (SlackClient, ReadOnlyServices.SLACK_READS),
                       (HubSpotClient, ReadOnlyServices.HUBSPOT_READS)):
        for name in names:
            assert callable(getattr(cls, name)), name
            assert name.startswith(("list_", "get_", "find_", "user_id_for", "channel_id", "owned_", "company_")), name


def test_planned_steps_cover_every_moment_and_review(make_absence, team):
    absence = make_absence(start="2026-12-07", end="2026-12-11")
    timeline = plan_timeline(absence, team, FILED)
    steps = planned_steps(absence, timeline, FILED)
    assert sorted(s.step for s in steps if s.step != "sms_review") == sorted(timeline.moments)
    assert [s.at for s in steps if s.step == "sms_review"] == [r.at for r in timeline.reviews]
