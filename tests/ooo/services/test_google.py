"""GoogleWorkspace (on the Airflow Google provider) against the sandbox's Calendar v3 and Gmail v1."""

from __future__ import annotations

import datetime as dt
import json
from email.message import EmailMessage
from zoneinfo import ZoneInfo

import pytest
import requests

from ooo.services.google import GoogleApiError, GoogleCredentialsRefused, GoogleWorkspace
from sandbox import SandboxServer
from sandbox.core import Faults

MAYA = "maya.patel@yellowstonelocal.com"
JORDAN = "jordan.reyes@yellowstonelocal.com"
ALLISON = "allison.reed@yellowstonelocal.com"
DENVER = ZoneInfo("America/Denver")


def at(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2027, 2, day, hour, minute, tzinfo=DENVER)


def timed(day: int, hour: int, minutes: int = 30, **fields):
    start = at(day, hour)
    return {"start": {"dateTime": start.isoformat(), "timeZone": "America/Denver"},
            "end": {"dateTime": (start + dt.timedelta(minutes=minutes)).isoformat(), "timeZone": "America/Denver"},
            **fields}


@pytest.fixture
def google(connections: SandboxServer):
    """The sandbox's Google API (seeded around today; these tests work in February 2027)."""
    return connections.sandbox.api("google")


def client(user: str = MAYA) -> GoogleWorkspace:
    return GoogleWorkspace("ooo_google", subject=user)


def test_lists_what_the_calendar_holds_and_declines_on_one_copy_only(google):
    google.add_event(ALLISON, timed(2, 10, 60, id="teamfeb02", summary="Client Services Weekly",
                                    attendees=[{"email": MAYA}, {"email": JORDAN, "responseStatus": "accepted"}]))
    google.add_event(MAYA, timed(3, 9, summary="Focus block"))

    events = client().list_events(at(1, 0), at(8, 0))

    assert [e["summary"] for e in events] == ["Client Services Weekly", "Focus block"]
    weekly = events[0]
    assert weekly["organizer"] == {"email": ALLISON, "displayName": "Allison Reed", "self": False}
    assert [a["email"] for a in weekly["attendees"] if a.get("self")] == [MAYA]
    assert client().get_event("teamfeb02")["summary"] == "Client Services Weekly"
    assert client().get_event("nosuchevent1") is None

    client().patch_event("teamfeb02", {"attendeesOmitted": True,
                                         "attendees": [{"email": MAYA, "responseStatus": "declined"}]})

    assert google.response_of(ALLISON, "teamfeb02", MAYA) == "declined"  # everyone sees it
    assert google.response_of(ALLISON, "teamfeb02", JORDAN) == "accepted"
    assert google.get_event(ALLISON, "teamfeb02")["status"] == "confirmed"


def test_an_attendee_cannot_change_the_organizers_meeting(google):
    google.add_event(ALLISON, timed(2, 10, id="teamfeb02", summary="Weekly", attendees=[{"email": MAYA}]))
    with pytest.raises(GoogleApiError) as refused:
        client().patch_event("teamfeb02", {"summary": "Cancelled by Maya"})
    assert refused.value.status == 403 and refused.value.reason == "forbiddenForNonOrganizer"
    assert google.get_event(ALLISON, "teamfeb02")["summary"] == "Weekly"


def test_pages_through_more_than_250_events(google, connections):
    for n in range(300):
        google.add_event(MAYA, timed(10 + n // 40, 8 + (n % 40) // 4, 10, summary=f"Block {n}", id=f"block{n:05d}"))

    events = client().list_events(at(9, 0), at(20, 0))

    assert len(events) == 300
    assert len({e["id"] for e in events}) == 300
    lists = [r for r in connections.sandbox.requests
             if r["method"] == "GET" and r["path"].endswith("/calendars/primary/events")]
    assert len(lists) == 2  # 250 + 50


def test_recurring_events_come_as_instances(google):
    series = google.add_event(ALLISON, timed(3, 9, summary="1:1 Allison / Maya", id="oneonone0001",
                                             recurrence=["RRULE:FREQ=WEEKLY;COUNT=4"],
                                             attendees=[{"email": MAYA, "responseStatus": "accepted"}]))
    maya = client()

    instances = maya.list_events(at(1, 0), at(28, 0))

    assert [e["start"]["dateTime"][:10] for e in instances] == ["2027-02-03", "2027-02-10", "2027-02-17",
                                                                "2027-02-24"]
    assert {e["recurringEventId"] for e in instances} == {series["id"]}
    assert instances[1]["id"] == "oneonone0001_20270210T160000Z"
    assert instances[1]["originalStartTime"]["dateTime"].startswith("2027-02-10T09:00:00-07:00")
    assert [e["id"] for e in maya.list_events(at(1, 0), at(28, 0), single_events=False)] == ["oneonone0001"]
    assert len(maya.list_instances("oneonone0001")) == 4

    maya.patch_event(instances[1]["id"], {"attendeesOmitted": True,
                                          "attendees": [{"email": MAYA, "responseStatus": "declined"}]})

    seen_by_allison = google.list_events(ALLISON, at(1, 0), at(28, 0))
    assert [next(a["responseStatus"] for a in e["attendees"] if a["email"] == MAYA) for e in seen_by_allison] == [
        "accepted", "declined", "accepted", "accepted"]


def test_a_duplicate_id_is_a_409_even_after_delete(google):
    maya = client()
    event = timed(4, 13, id="handover00001", summary="Handover", attendees=[{"email": JORDAN}])

    created = maya.insert_event(event)
    assert created["id"] == "handover00001"
    assert maya.insert_event(event) is None  # 409: "The requested identifier already exists."
    assert len([e for e in google.list_events(MAYA, at(1, 0), at(8, 0)) if e["id"] == "handover00001"]) == 1

    assert maya.delete_event("handover00001") is True
    assert maya.get_event("handover00001")["status"] == "cancelled"
    assert google.list_events(JORDAN, at(1, 0), at(8, 0)) == []
    assert maya.delete_event("handover00001") is False  # 410
    assert maya.insert_event(event) is None  # deleted ids stay reserved


def test_the_sandbox_refuses_what_google_refuses(google):
    maya = client()
    for bad, reason in (({"id": "UPPER-case"}, "invalid"), ({"id": "abcd"}, "invalid"),
                        ({"end": None}, "required")):
        event = {**timed(4, 13, summary="x"), **bad}
        if event.get("end") is None:
            event.pop("end")
        with pytest.raises(GoogleApiError) as refused:
            maya.insert_event(event)
        assert (refused.value.status, refused.value.reason) == (400, reason)
    with pytest.raises(GoogleApiError) as empty:
        maya.list_events(at(5, 0), at(4, 0))
    assert empty.value.reason == "timeRangeEmpty"
    with pytest.raises(GoogleApiError) as order:
        maya._run(maya.get_conn().events().list(calendarId="primary", orderBy="startTime"), "list")
    assert order.value.status == 400
    with pytest.raises(GoogleApiError) as naive:
        maya._run(maya.get_conn().events().list(calendarId="primary", timeMin="2027-02-01 00:00:00"), "list")
    assert naive.value.status == 400
    with pytest.raises(GoogleApiError) as ooo_all_day:
        maya.insert_event({"eventType": "outOfOffice", "start": {"date": "2027-02-08"}, "end": {"date": "2027-02-09"}})
    assert ooo_all_day.value.status == 400


def test_unknown_paths_and_methods_get_googles_envelope(connections):
    response = requests.get(connections.url + "/google/calendar/v3/colors/nope", timeout=5)
    assert response.status_code == 404
    assert response.json()["error"]["errors"][0]["reason"] == "notFound"
    wrong = requests.put(connections.url + "/google/token", timeout=5)
    assert wrong.status_code == 405
    assert wrong.json()["error"]["code"] == 405
    anonymous = requests.get(connections.url + "/google/calendar/v3/calendars/primary/events", timeout=5)
    assert anonymous.status_code == 401
    assert anonymous.json()["error"]["errors"][0]["location"] == "Authorization"


def test_a_429_is_retried_until_it_succeeds(google, connections):
    maya = client()
    maya.get_vacation()  # the token is fetched before the fault is armed
    connections.sandbox.faults["google"] = Faults(rate_limit_next=1, retry_after=1)

    assert maya.list_events(at(1, 0), at(2, 0)) == []

    statuses = [r["status"] for r in connections.sandbox.requests if r["path"].endswith("/events")]
    assert statuses[-2:] == [429, 200]


def test_a_5xx_that_persists_is_a_clear_error(google, connections, monkeypatch):
    _connection_with(monkeypatch, connections, num_retries=1)
    maya = client()
    maya.get_vacation()
    connections.sandbox.faults["google"] = Faults(fail_next=10, fail_status=503)
    with pytest.raises(GoogleApiError) as failed:
        maya.get_vacation()
    assert failed.value.status == 503
    assert "maya.patel@yellowstonelocal.com" in str(failed.value)


def _connection_with(monkeypatch, connections, **extra_changes):
    conn = connections.sandbox.connections()["ooo_google"]
    conn = {**conn, "extra": {**conn["extra"], **extra_changes}}
    monkeypatch.setenv("AIRFLOW_CONN_OOO_GOOGLE", json.dumps(conn))


def test_a_key_google_does_not_know_is_refused_with_a_clear_error(google, connections, monkeypatch):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    keyfile = json.loads(connections.sandbox.connections()["ooo_google"]["extra"]["keyfile_dict"])
    keyfile["private_key"] = other.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                 serialization.NoEncryption()).decode()
    _connection_with(monkeypatch, connections, keyfile_dict=json.dumps(keyfile))

    with pytest.raises(GoogleCredentialsRefused, match="Google credentials for ooo_google were refused") as refused:
        client().list_events(at(1, 0), at(2, 0))
    assert "Invalid JWT Signature" in str(refused.value)
    assert "PRIVATE KEY" not in str(refused.value)


def test_a_revoked_delegation_turns_the_next_call_into_a_401(google):
    maya = client()
    maya.get_vacation()
    google.revoke_delegation(MAYA)

    with pytest.raises(GoogleCredentialsRefused, match="Google credentials for ooo_google were refused"):
        maya.get_vacation()


def test_no_credentials_at_all_is_a_401_with_a_clear_error(google, connections, monkeypatch):
    _connection_with(monkeypatch, connections, is_anonymous=True, keyfile_dict=None)
    with pytest.raises(GoogleCredentialsRefused, match="Google credentials for ooo_google were refused"):
        client().get_vacation()


def test_missing_and_undelegated_scopes_are_named(google, connections, monkeypatch):
    _connection_with(monkeypatch, connections, scope="https://www.googleapis.com/auth/calendar.events")
    with pytest.raises(GoogleCredentialsRefused, match="lack a scope"):
        client().get_vacation()
    _connection_with(monkeypatch, connections, scope="https://www.googleapis.com/auth/cloud-platform")
    with pytest.raises(GoogleCredentialsRefused, match="unauthorized_client"):
        client().get_vacation()


def test_vacation_settings_round_trip_with_int64_strings(google):
    maya = client()
    assert maya.get_vacation()["enableAutoReply"] is False
    saved = maya.update_vacation({"enableAutoReply": True, "responseSubject": "Out of office",
                                  "responseBodyPlainText": "Back Monday.", "startTime": 1801000000000,
                                  "endTime": "1801600000000"})
    assert saved["startTime"] == "1801000000000" and saved["endTime"] == "1801600000000"
    assert google.vacation(MAYA)["enableAutoReply"] is True
    with pytest.raises(GoogleApiError):
        maya.update_vacation({"enableAutoReply": True, "responseSubject": "x", "startTime": 5, "endTime": 4})


def test_send_and_find_a_message_by_its_message_id(google):
    maya = client()
    message = EmailMessage()
    message["From"] = "Maya Patel <maya.patel@yellowstonelocal.com>"
    message["To"] = "Hannah Ortiz <hannah.ortiz@bigskydental.com>"
    message["Subject"] = "Rescheduling our call"
    message["Message-ID"] = "<ooo.test.1@yellowstonelocal.com>"
    message["Auto-Submitted"] = "auto-generated"
    message.set_content("Plain text")
    message.add_alternative("<p>HTML</p>", subtype="html")

    assert maya.find_message("<ooo.test.1@yellowstonelocal.com>") is None
    gmail_id = maya.send_message(message)

    assert maya.find_message("<ooo.test.1@yellowstonelocal.com>") == gmail_id
    assert client(JORDAN).find_message("<ooo.test.1@yellowstonelocal.com>") is None  # not in his mailbox
    [sent] = google.sent(MAYA)
    assert sent["to"] == ["hannah.ortiz@bigskydental.com"]
    assert sent["subject"] == "Rescheduling our call"
    assert sent["auto_submitted"] == "auto-generated"
    assert sent["text"].strip() == "Plain text" and "<p>HTML</p>" in sent["html"]
    with pytest.raises(GoogleApiError) as no_recipient:
        bare = EmailMessage()
        bare["Subject"] = "nobody"
        bare.set_content("x")
        maya.send_message(bare)
    assert no_recipient.value.status == 400
