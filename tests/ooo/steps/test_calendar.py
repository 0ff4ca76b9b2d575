"""calendar_cleanup against the sandbox's Calendar and Gmail.

Maya Patel (CSM, America/Denver) is out Monday 2026-12-07 to Friday 2026-12-11, asked on
2026-11-23; Jordan Reyes is her backup buddy. Her calendar holds one week of every kind of entry.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from typing import Any
from zoneinfo import ZoneInfo

import pendulum
import pytest

from ooo.keys import MARKER
from ooo.steps.calendar import calendar_cleanup
from sandbox import connection_env, start_sandbox
from sandbox.scenario import demo_absences

MAYA = "maya.patel@yellowstonelocal.com"
JORDAN = "jordan.reyes@yellowstonelocal.com"
ALLISON = "allison.reed@yellowstonelocal.com"
CASEY = "casey.morgan@yellowstonelocal.com"
LENA = "lena.fischer@yellowstonelocal.com"
HANNAH = "hannah.ortiz@bigskydental.com"
OFFICE = "office@bigskydental.com"
OWEN = "owen.price@bluebirdbakery.com"
DENVER = ZoneInfo("America/Denver")


def slot(day: int, hour: int, minutes: int = 30, month: int = 12) -> dict[str, Any]:
    start = dt.datetime(2026, month, day, hour, tzinfo=DENVER)
    return {"start": {"dateTime": start.isoformat(), "timeZone": "America/Denver"},
            "end": {"dateTime": (start + dt.timedelta(minutes=minutes)).isoformat(), "timeZone": "America/Denver"}}


@pytest.fixture
def maya_week(google) -> dict[str, str]:
    """Maya's week out, as her calendar holds it; returns name -> event id."""
    ids = {}
    ids["weekly"] = google.add_event(ALLISON, {
        **slot(8, 10, 60), "id": "teammtg20261208", "summary": "Client Services Weekly",
        "description": "Agenda: renewals at risk; support queue; who is out next week",
        "attachments": [{"fileUrl": "https://docs.google.com/document/d/agenda1208/edit", "title": "Agenda Dec 8"}],
        "attendees": [{"email": a, "responseStatus": "accepted"} for a in (MAYA, JORDAN, LENA)]})["id"]
    ids["client"] = google.add_event(HANNAH, {
        **slot(9, 11, 45), "id": "clientmtg1209", "summary": "Monthly performance review: Big Sky Dental",
        "attendees": [{"email": MAYA, "responseStatus": "accepted"},
                      {"email": HANNAH, "displayName": "Hannah Ortiz"}, {"email": OFFICE}]})["id"]
    ids["organised"] = google.add_event(MAYA, {
        **slot(10, 15), "id": "bluebirdkickoff1210", "summary": "Website refresh kickoff: Bluebird Bakery",
        "attendees": [{"email": OWEN, "displayName": "Owen Price"},
                      {"email": JORDAN, "responseStatus": "accepted"}]})["id"]
    ids["all_day"] = google.add_event(MAYA, {
        "id": "planning1209", "summary": "Quarterly planning day", "transparency": "transparent",
        "start": {"date": "2026-12-09"}, "end": {"date": "2026-12-10"}})["id"]
    ids["one_on_one"] = google.add_event(ALLISON, {
        **slot(25, 9, month=11), "id": "oneonone00007", "summary": "1:1 Allison / Maya",
        "recurrence": ["RRULE:FREQ=WEEKLY;COUNT=6"],
        "attendees": [{"email": MAYA, "responseStatus": "accepted"}]})["id"]
    ids["declined"] = google.add_event(CASEY, {
        **slot(10, 9), "id": "tetonmtg1210", "summary": "Teton Outfitters sync",
        "attendees": [{"email": MAYA, "responseStatus": "declined", "comment": "Dentist, sorry"},
                      {"email": "grace.kim@tetonoutfitters.com"}]})["id"]
    ids["after"] = google.add_event(HANNAH, {
        **slot(14, 10), "id": "clientlater1214", "summary": "Big Sky Dental follow-up",
        "attendees": [{"email": MAYA, "responseStatus": "accepted"}, {"email": HANNAH}]})["id"]
    ids["before"] = google.add_event(MAYA, {
        **slot(4, 9), "id": "beforeabsence1204", "summary": "Cody Auto Care check-in",
        "attendees": [{"email": "nina.walsh@codyautocare.com"}]})["id"]
    return ids


def calendar_of(google, user: str) -> list[dict[str, Any]]:
    lo = dt.datetime(2026, 11, 20, tzinfo=dt.timezone.utc)
    return google.list_events(user, lo, lo + dt.timedelta(days=40))


def test_calendar_cleanup_blocks_declines_and_notifies_once(google, maya_week, make_absence, step_context):
    ids = maya_week
    absence = make_absence()  # Maya, 2026-12-07..11, planned, asked 2026-11-23
    one_on_one_out = "oneonone00007_20261209T160000Z"

    record = calendar_cleanup(step_context(absence)).to_dict()

    # the out-of-office block, whole local days, auto-declining, naming the buddy
    ooo = google.get_event(MAYA, record["ooo_event_id"])
    assert ooo["eventType"] == "outOfOffice"
    assert ooo["start"]["dateTime"] == "2026-12-07T00:00:00-07:00"
    assert ooo["end"]["dateTime"] == "2026-12-14T00:00:00-07:00"
    assert ooo["outOfOfficeProperties"]["autoDeclineMode"] == "declineAllConflictingInvitations"
    assert "Jordan Reyes" in ooo["outOfOfficeProperties"]["declineMessage"]
    assert "Monday, December 14, 2026" in ooo["outOfOfficeProperties"]["declineMessage"]

    # declined on Maya's copy; the others' answers and the meetings themselves untouched
    for name in ("weekly", "client", "organised"):
        assert google.response_of(MAYA, ids[name], MAYA) == "declined", name
    assert google.response_of(ALLISON, ids["weekly"], JORDAN) == "accepted"
    assert google.response_of(MAYA, ids["organised"], OWEN) == "needsAction"
    assert google.response_of(JORDAN, ids["organised"], JORDAN) == "accepted"
    assert google.get_event(JORDAN, ids["organised"])["status"] == "confirmed"  # never cancelled for others
    one_on_ones = {e["id"]: e for e in calendar_of(google, ALLISON) if e.get("recurringEventId") == ids["one_on_one"]}
    declined_one_on_ones = [i for i, e in one_on_ones.items()
                            if next(a for a in e["attendees"] if a["email"] == MAYA)["responseStatus"] == "declined"]
    assert declined_one_on_ones == [one_on_one_out]
    assert google.response_of(MAYA, ids["declined"], MAYA) == "declined"
    assert next(a for a in google.get_event(MAYA, ids["declined"])["attendees"] if a["email"] == MAYA)["comment"] \
        == "Dentist, sorry"
    assert google.response_of(MAYA, ids["after"], MAYA) == "accepted"
    assert google.get_event(MAYA, ids["all_day"])["summary"] == "Quarterly planning day"

    # the reschedule notes: one per external meeting, to the clients only, from Maya's mailbox
    sent = google.sent()
    assert sorted((tuple(m["to"]), m["user"]) for m in sent) == [((HANNAH, OFFICE), MAYA), ((OWEN,), MAYA)]
    note = next(m for m in sent if HANNAH in m["to"])
    assert note["subject"] == 'Rescheduling "Monthly performance review: Big Sky Dental" (Wed Dec 9, 11:00 AM MST)'
    for text in (note["text"], note["html"]):
        assert "Monday, December 7, 2026" in text and "Friday, December 11, 2026" in text
        assert "Monday, December 14, 2026" in text
        assert "Jordan Reyes" in text and JORDAN in text
        assert "Maya Patel" in text and "Yellowstone Local" in text
    assert note["auto_submitted"] == "auto-generated"
    assert note["headers"]["From"] == "Maya Patel <maya.patel@yellowstonelocal.com>"

    # the record: what was done, for undo, the buddy and the digest
    assert {(d["id"], d["kind"]) for d in record["declined"]} == {
        (ids["weekly"], "internal"), (ids["client"], "external"), (ids["organised"], "external"),
        (one_on_one_out, "internal")}
    assert [o["id"] for o in record["organised"]] == [ids["organised"]]
    assert record["organised"][0]["external"] == [OWEN]
    owen_note = next(m for m in sent if OWEN in m["to"])
    assert {(e["event_id"], e["message_id"]) for e in record["reschedule_emails"]} == {
        (ids["client"], note["message_id"]), (ids["organised"], owen_note["message_id"])}
    missed = {m["id"]: m for m in record["missed_internal"]}
    assert set(missed) == {ids["weekly"], one_on_one_out}
    assert "renewals at risk" in missed[ids["weekly"]]["description"]
    assert missed[ids["weekly"]]["attachments"] == [
        {"title": "Agenda Dec 8", "fileUrl": "https://docs.google.com/document/d/agenda1208/edit"}]
    assert missed[ids["weekly"]]["htmlLink"]
    assert [s["id"] for s in record["skipped"]] == [ids["declined"]]
    json.dumps(record)  # an XCom

    # the CSM's handover with the buddy, the working day before, team's meeting length
    handover = google.get_event(JORDAN, record["handover_event_id"])
    assert handover["start"]["dateTime"] == "2026-12-04T14:00:00-07:00"
    assert handover["end"]["dateTime"] == "2026-12-04T14:30:00-07:00"
    assert {a["email"] for a in handover["attendees"]} == {MAYA, JORDAN}
    assert "Big Sky Dental" in handover["description"]
    assert record["coverage_review_event_id"] is None

    # a retry or a re-run changes nothing more
    before = (calendar_of(google, MAYA), calendar_of(google, ALLISON), calendar_of(google, JORDAN))
    again = calendar_cleanup(step_context(absence)).to_dict()
    assert again == record
    assert len(google.sent()) == 2
    assert (calendar_of(google, MAYA), calendar_of(google, ALLISON), calendar_of(google, JORDAN)) == before


def test_a_first_try_mails_without_looking_and_a_later_try_mails_nothing_twice(google, maya_week, make_absence,
                                                                              step_context):
    absence = make_absence()
    log = google.sandbox.requests
    before = len(log)

    calendar_cleanup(dataclasses.replace(step_context(absence), try_number=1))

    looks = [r for r in list(log)[before:] if r["method"] == "GET" and r["path"].endswith("/messages")]
    assert looks == [] and len(google.sent()) == 2  # nothing could have been sent before the first try
    calendar_cleanup(dataclasses.replace(step_context(absence), try_number=2))  # a retry looks, and finds them
    assert len(google.sent()) == 2


def test_invitations_after_the_block_are_declined_by_calendar(google, make_absence, step_context):
    calendar_cleanup(step_context(make_absence()))
    late = google.add_event(CASEY, {**slot(9, 13), "id": "lateinvite1209", "summary": "Ad-hoc sync",
                                    "attendees": [{"email": MAYA}]})
    attendee = next(a for a in google.get_event(MAYA, late["id"])["attendees"] if a["email"] == MAYA)
    assert attendee["responseStatus"] == "declined"
    assert "Jordan Reyes" in attendee["comment"]


def test_meetings_already_begun_when_an_unexpected_absence_is_logged_get_no_note(google, make_absence,
                                                                               step_context):
    for event_id_, hour in (("morningcall1207", 8), ("latecall1207", 15)):
        google.add_event(MAYA, {**slot(7, hour, 60), "id": event_id_, "summary": f"Client call at {hour}",
                                "attendees": [{"email": HANNAH, "displayName": "Hannah Ortiz"}]})
    absence = make_absence(start="2026-12-07", end="2026-12-08", kind="unexpected",
                           requested_at=dt.datetime(2026, 12, 7, 8, 30, tzinfo=DENVER))

    record = calendar_cleanup(step_context(absence)).to_dict()

    assert [m["subject"] for m in google.sent()] == ['Rescheduling "Client call at 15" (Mon Dec 7, 3:00 PM MST)']
    assert record["skipped"] == [{"id": "morningcall1207", "summary": "Client call at 8",
                                  "reason": "it began before the absence was logged"}]
    assert record["handover_event_id"] is None  # no time for one


def test_a_cc_gets_a_coverage_review_with_the_manager(google, make_absence, step_context):
    absence = make_absence(employee=LENA, start="2026-12-14", end="2026-12-18")

    record = calendar_cleanup(step_context(absence)).to_dict()

    review = google.get_event(CASEY, record["coverage_review_event_id"])
    assert review["start"]["dateTime"] == "2026-12-07T10:00:00-05:00"  # a week before, 10:00 her time
    assert {a["email"] for a in review["attendees"]} == {LENA, CASEY}
    assert "Allison Reed" in review["description"]  # who takes CC requests meanwhile
    assert record["handover_event_id"] is None
    assert calendar_cleanup(step_context(absence)).coverage_review_event_id == record["coverage_review_event_id"]
    assert len([e for e in calendar_of(google, CASEY) if e["id"] == review["id"]]) == 1


def test_the_demo_scenario_shows_declines_and_notes(team, make_absence, step_context, monkeypatch):
    """The seeded sandbox and the demo's planned absence (Maya, the next working week)."""
    anchor = dt.date(2026, 11, 23)
    server = start_sandbox(team, anchor=anchor)
    try:
        for name, value in connection_env(server.sandbox.connections()).items():
            monkeypatch.setenv(name, value)
        demo = demo_absences(anchor, team)[0]
        absence = make_absence(employee=demo["employee"], start=demo["start"], end=demo["end"],
                               requested_at=pendulum.datetime(2026, 11, 23, 16, tz="UTC"))
        record = calendar_cleanup(step_context(absence)).to_dict()
        kinds = {d["kind"] for d in record["declined"]}
        assert kinds == {"internal", "external"}
        assert record["reschedule_emails"] and record["organised"]
        assert any(m["summary"] == "Client Services Weekly" for m in record["missed_internal"])
        assert any(m["summary"].startswith("Lunch & Learn") for m in record["missed_internal"])
        assert len(server.sandbox.api("google").sent(MAYA)) == len(record["reschedule_emails"])
        assert "Maya Patel" in server.sandbox.api("google").render()
    finally:
        server.stop()



def lenas_own_week(google) -> dict[str, Any]:
    """Lena's own out-of-office event, Monday 2026-12-07 to the Saturday midnight, as Calendar's form makes it."""
    return google.add_event(LENA, {
        "id": "lenaoff120700", "eventType": "outOfOffice", "summary": "Vacation",
        "description": "Lake house, no signal",
        "start": {"dateTime": "2026-12-07T00:00:00-05:00", "timeZone": "America/New_York"},
        "end": {"dateTime": "2026-12-12T00:00:00-05:00", "timeZone": "America/New_York"},
        "outOfOfficeProperties": {"autoDeclineMode": "declineAllConflictingInvitations",
                                  "declineMessage": "Away this week, back Monday."}})


def test_the_employees_own_out_of_office_event_is_adopted_as_the_block(google, make_absence, step_context):
    own = lenas_own_week(google)
    client = google.add_event(HANNAH, {  # invited after her event: Calendar declines it with her message
        "start": {"dateTime": "2026-12-08T11:00:00-05:00"}, "end": {"dateTime": "2026-12-08T11:45:00-05:00"},
        "id": "lenaclient1208", "summary": "Content review: Big Sky Dental",
        "attendees": [{"email": LENA, "responseStatus": "accepted"}, {"email": HANNAH, "displayName": "Hannah Ortiz"}]})
    assert google.response_of(LENA, client["id"], LENA) == "declined"
    absence = make_absence(employee=LENA, start="2026-12-07", end="2026-12-11")
    ctx = step_context(absence)

    record = calendar_cleanup(ctx)

    assert (record.ooo_event_id, record.ooo_event_adopted) == (own["id"], True)
    blocks = [e for e in calendar_of(google, LENA) if e.get("eventType") == "outOfOffice"]
    assert [e["id"] for e in blocks] == [own["id"]]  # no second block
    assert {k: blocks[0][k] for k in ("summary", "description", "start", "end", "outOfOfficeProperties")} == \
        {k: own[k] for k in ("summary", "description", "start", "end", "outOfOfficeProperties")}  # her text, kept
    me = next(a for a in google.get_event(LENA, client["id"])["attendees"] if a["email"] == LENA)
    assert (me["responseStatus"], me["comment"]) == ("declined", "Away this week, back Monday.")
    # declined by her block, so the absence's: the clients get the reschedule note, and a cancel would restore it
    assert [m.id for m in record.declined] == [client["id"]]
    assert [m["to"] for m in google.sent(LENA)] == [[HANNAH]]
    assert google.get_event(LENA, client["id"])["extendedProperties"]["private"][MARKER] == ctx.key

    assert calendar_cleanup(step_context(absence)) == record  # a retry: the same, nothing twice
    assert len(google.sent(LENA)) == 1
    assert len([e for e in calendar_of(google, LENA) if e.get("eventType") == "outOfOffice"]) == 1


def test_an_own_event_not_covering_the_absence_is_left_and_the_absence_gets_its_block(google, make_absence,
                                                                                    step_context):
    own = lenas_own_week(google)
    absence = make_absence(employee=LENA, start="2026-12-07", end="2026-12-15")  # longer than her event

    record = calendar_cleanup(step_context(absence))

    assert not record.ooo_event_adopted and record.ooo_event_id != own["id"]
    assert {e["id"] for e in calendar_of(google, LENA) if e.get("eventType") == "outOfOffice"} == \
        {own["id"], record.ooo_event_id}


def test_a_block_made_by_an_earlier_try_is_kept_when_an_own_event_appears_meanwhile(google, make_absence,
                                                                                  step_context):
    absence = make_absence(employee=LENA, start="2026-12-07", end="2026-12-11")
    first = calendar_cleanup(step_context(absence))
    lenas_own_week(google)

    again = calendar_cleanup(step_context(absence))

    assert (again.ooo_event_id, again.ooo_event_adopted) == (first.ooo_event_id, False)


def test_half_days_block_only_the_time_out_and_leave_the_other_half_alone(google, make_absence, step_context):
    # Mon 7 from noon to Tue 8 until noon: the Monday-morning and Tuesday-afternoon calls stand.
    for event_id_, day, hour in (("call0709", 7, 9), ("call0715", 7, 15), ("call0810", 8, 10), ("call0814", 8, 14)):
        google.add_event(MAYA, {**slot(day, hour), "id": event_id_, "summary": f"Client call {event_id_}",
                                "attendees": [{"email": HANNAH, "displayName": "Hannah Ortiz"}]})
    absence = make_absence(start="2026-12-07", end="2026-12-08", start_half="afternoon", end_half="morning",
                           kind="client_visit", client_company="bigskydental.com")

    record = calendar_cleanup(step_context(absence))

    block = google.get_event(MAYA, record.ooo_event_id)
    assert block["summary"] == "Client visit (out of office)"
    assert dt.datetime.fromisoformat(block["start"]["dateTime"]) == dt.datetime(2026, 12, 7, 12, tzinfo=DENVER)
    assert dt.datetime.fromisoformat(block["end"]["dateTime"]) == dt.datetime(2026, 12, 8, 12, tzinfo=DENVER)
    assert block["outOfOfficeProperties"]["declineMessage"] == (
        "I'm visiting a client until Tuesday, December 8, 2026 at 12:00 PM MST. Jordan Reyes "
        "(jordan.reyes@yellowstonelocal.com) is my backup buddy in the meantime.")
    assert sorted(m.id for m in record.declined) == ["call0715", "call0810"]
    [note, _] = sorted(google.sent(), key=lambda m: m["subject"])
    assert "I will be visiting a client from 12:00 PM MST on Monday, December 7, 2026 through the morning of " \
           "Tuesday, December 8, 2026" in note["text"]
    assert "I'm back on Tuesday, December 8, 2026 at 12:00 PM MST." in note["text"]
