"""GoogleWorkspace (on the Airflow Google provider) against the sandbox's Calendar v3 and Gmail v1."""

from __future__ import annotations

import datetime as dt
import json
from email.message import EmailMessage
from zoneinfo import ZoneInfo

import pytest
import requests

from ooo.services.google import GoogleApiError, GoogleCredentialsRefused, GoogleWorkspace, SyncTokenExpired
from ooo.services.once import write_once
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


# -- incremental sync (the calendars' out-of-office events) -------------------------------------
LENA = "lena.fischer@yellowstonelocal.com"


def _lists(connections) -> list[dict]:
    return [r for r in connections.sandbox.requests if r["method"] == "GET" and r["path"].endswith("/events")]


def _ooo(day: int, days: int = 1, **fields):
    start = dt.datetime(2027, 2, day, tzinfo=DENVER)
    return {"eventType": "outOfOffice", "summary": "Out of office",
            "start": {"dateTime": start.isoformat(), "timeZone": "America/Denver"},
            "end": {"dateTime": (start + dt.timedelta(days=days)).isoformat(), "timeZone": "America/Denver"},
            "outOfOfficeProperties": {"autoDeclineMode": "declineOnlyNewConflictingInvitations",
                                      "declineMessage": "Out, back soon."}, **fields}


def test_a_sync_lists_only_what_changed_and_one_request_when_nothing_did(google, connections):
    maya = client()
    maya.insert_event(_ooo(8, id="ooomm00001"))
    maya.insert_event(timed(9, 10, summary="Focus block", id="focus000001"))  # not an out-of-office event

    full = maya.changed_events(None)

    assert [e["id"] for e in full.events] == ["ooomm00001"]
    assert full.events[0]["outOfOfficeProperties"]["declineMessage"] == "Out, back soon."
    before = len(_lists(connections))
    unchanged = maya.changed_events(full.next_sync_token)
    assert unchanged.events == [] and len(_lists(connections)) == before + 1  # one request, no more
    assert unchanged.next_sync_token == full.next_sync_token  # as Google: no change, the same token

    maya.patch_event("ooomm00001", {"summary": "Out: dentist"})
    maya.insert_event(_ooo(15, 2, id="ooomm00002"))
    maya.patch_event("focus000001", {"summary": "Deep work"})
    changed = maya.changed_events(unchanged.next_sync_token)

    assert [(e["id"], e["summary"]) for e in changed.events] == [("ooomm00001", "Out: dentist"),
                                                                 ("ooomm00002", "Out of office")]

    assert maya.delete_event("ooomm00002")
    deleted = maya.changed_events(changed.next_sync_token)
    assert deleted.events == [{"kind": "calendar#event", "etag": deleted.events[0]["etag"], "id": "ooomm00002",
                               "status": "cancelled"}]  # only its id, as Google sends a deleted event
    assert maya.changed_events(deleted.next_sync_token).events == []
    shown = maya.changed_events(changed.next_sync_token, show_deleted=True).events
    assert [(e["id"], e["status"], e["summary"]) for e in shown] == [("ooomm00002", "cancelled", "Out of office")]


def test_every_event_type_and_a_full_sync_from_a_date(google, connections):
    maya = client()
    maya.insert_event(_ooo(8, id="ooomm00001"))
    maya.insert_event(_ooo(1, id="ooomm00000"))  # ends before the sync's start
    maya.insert_event(timed(9, 10, summary="Focus block", id="focus000001"))

    since = maya.changed_events(None, event_types=(), time_min=at(3, 0))
    assert {(e["id"], e.get("eventType")) for e in since.events} >= {("ooomm00001", "outOfOffice"),
                                                                      ("focus000001", "default")}
    assert "ooomm00000" not in [e["id"] for e in since.events]
    assert since.next_sync_token  # a full sync bounded by timeMin still ends with a sync token
    maya.patch_event("ooomm00000", {"summary": "Out (moved)"})
    assert [e["id"] for e in maya.changed_events(since.next_sync_token, event_types=()).events] == ["ooomm00000"]


def test_an_invitation_declined_or_withdrawn_reaches_the_guests_sync(google):
    jordan = client(JORDAN)
    start = jordan.changed_events(None, event_types=())
    google.add_event(MAYA, timed(10, 11, id="planning0001", summary="Planning",
                                 attendees=[{"email": JORDAN}, {"email": ALLISON}]))
    invited = jordan.changed_events(start.next_sync_token, event_types=())
    assert [e["id"] for e in invited.events] == ["planning0001"]

    client().patch_event("planning0001", {"attendees": [{"email": ALLISON}]})  # Maya takes Jordan off

    withdrawn = jordan.changed_events(invited.next_sync_token, event_types=())
    assert [(e["id"], e["status"]) for e in withdrawn.events] == [("planning0001", "cancelled")]
    assert "summary" not in withdrawn.events[0]


def test_a_recurring_out_of_office_lists_as_instances_declines_and_syncs(google):
    maya = client()
    google.add_event(JORDAN, timed(12, 10, id="clientfeb12", summary="Client call", attendees=[{"email": MAYA}]))
    friday = dt.datetime(2027, 2, 5, tzinfo=DENVER)
    maya.insert_event({**_ooo(5, id="fridooo00001", recurrence=["RRULE:FREQ=WEEKLY;COUNT=3"]),
                       "outOfOfficeProperties": {"autoDeclineMode": "declineAllConflictingInvitations",
                                                 "declineMessage": "Fridays off."}})

    listed = [e for e in maya.list_events(at(1, 0), at(28, 0)) if e.get("eventType") == "outOfOffice"]
    assert [e["start"]["dateTime"][:10] for e in listed] == ["2027-02-05", "2027-02-12", "2027-02-19"]
    assert {e["recurringEventId"] for e in listed} == {"fridooo00001"}
    assert google.response_of(JORDAN, "clientfeb12", MAYA) == "declined"  # the second Friday's block
    google.add_event(JORDAN, timed(19, 9, id="clientfeb19", summary="Client call", attendees=[{"email": MAYA}]))
    assert google.response_of(JORDAN, "clientfeb19", MAYA) == "declined"  # new, on the third Friday

    synced = maya.changed_events(None)
    assert [e["id"] for e in synced.events] == [e["id"] for e in listed]
    second = f"fridooo00001_{(friday + dt.timedelta(weeks=1)).astimezone(dt.timezone.utc):%Y%m%dT%H%M%SZ}"
    assert maya.delete_event(second)  # that Friday she works after all

    changed = maya.changed_events(synced.next_sync_token).events
    assert [(e["id"], e["status"], e["recurringEventId"]) for e in changed] == [(second, "cancelled", "fridooo00001")]
    assert changed[0]["originalStartTime"]["dateTime"].startswith("2027-02-12T00:00:00-07:00")
    assert [e["start"]["dateTime"][:10] for e in maya.list_events(at(1, 0), at(28, 0))
            if e.get("eventType") == "outOfOffice"] == ["2027-02-05", "2027-02-19"]
    series = maya.changed_events(None, single_events=False).events  # the series and its changed instance
    assert [(e["id"], e.get("status")) for e in series] == [("fridooo00001", "confirmed")]
    shown = maya.changed_events(None, single_events=False, show_deleted=True).events
    assert [(e["id"], e["status"]) for e in shown] == [("fridooo00001", "confirmed"), (second, "cancelled")]


def test_an_expired_or_unknown_sync_token_raises_sync_token_expired(google, connections):
    maya, jordan = client(), client(JORDAN)
    token = maya.changed_events(None).next_sync_token
    jordans = jordan.changed_events(None).next_sync_token

    expired = requests.post(connections.url + "/_sandbox/google/expire-sync-tokens", json={"user": MAYA}, timeout=5)
    assert expired.status_code == 200 and expired.json()["expired"] >= 1

    with pytest.raises(SyncTokenExpired) as gone:
        maya.changed_events(token)
    assert (gone.value.status, gone.value.reason) == (410, "fullSyncRequired")
    assert "sync again from scratch" in str(gone.value) and not gone.value.transient
    assert jordan.changed_events(jordans).events == []  # his still holds
    assert maya.changed_events(maya.changed_events(None).next_sync_token).events == []  # a full sync starts over
    with pytest.raises(SyncTokenExpired):
        maya.changed_events("Cnot-a-token-google-made")
    requests.post(connections.url + "/_sandbox/google/expire-sync-tokens", json={"all": True}, timeout=5)
    with pytest.raises(SyncTokenExpired):
        jordan.changed_events(jordans)
    for bad in ({}, {"user": "nobody@yellowstonelocal.com"}, {"all": False}, {"user": MAYA, "all": True}):
        answer = requests.post(connections.url + "/_sandbox/google/expire-sync-tokens", json=bad, timeout=5)
        assert answer.status_code == 400, bad


def test_the_sandbox_refuses_what_google_refuses_beside_a_sync_token(google):
    maya = client()
    token = maya.changed_events(None).next_sync_token
    events = maya.get_conn().events()
    for restriction in ({"timeMin": "2027-02-01T00:00:00Z"}, {"timeMax": "2027-02-01T00:00:00Z"},
                        {"q": "out"}, {"orderBy": "updated"}, {"iCalUID": "x@google.com"},
                        {"updatedMin": "2027-02-01T00:00:00Z"}, {"privateExtendedProperty": "a=b"},
                        {"sharedExtendedProperty": "a=b"}, {"showDeleted": False}):
        with pytest.raises(GoogleApiError) as refused:
            maya._run(events.list(calendarId="primary", syncToken=token, **restriction), "sync")
        assert (refused.value.status, refused.value.reason) == (400, "syncTokenWithRequestRestrictions"), restriction
    ordered = maya._run(events.list(calendarId="primary", singleEvents=True, orderBy="startTime", maxResults=2500),
                        "list")
    assert "nextPageToken" not in ordered and "nextSyncToken" not in ordered  # an ordered list is no full sync


def test_a_sync_pages_from_a_snapshot_so_a_change_meanwhile_comes_next_time(google):
    maya = client()
    for n in range(5):
        maya.insert_event(_ooo(8 + n, id=f"ooomm0000{n}"))
    events = maya.get_conn().events()
    query = {"calendarId": "primary", "eventTypes": ["outOfOffice"], "singleEvents": True, "maxResults": 2}

    first = maya._run(events.list(**query), "page 1")
    assert [e["id"] for e in first["items"]] == ["ooomm00000", "ooomm00001"]
    assert "nextSyncToken" not in first
    maya.delete_event("ooomm00000")  # while the pages are read
    rest = []
    page = first
    while page.get("nextPageToken"):
        page = maya._run(events.list(**query, pageToken=page["nextPageToken"]), "next page")
        rest += page["items"]
    assert [e["id"] for e in rest] == ["ooomm00002", "ooomm00003", "ooomm00004"]  # nothing shifted

    after = maya.changed_events(page["nextSyncToken"])
    assert [(e["id"], e["status"]) for e in after.events] == [("ooomm00000", "cancelled")]
    with pytest.raises(GoogleApiError) as bad:
        maya._run(events.list(**{**query, "maxResults": 3, "eventTypes": ["default"]},
                              pageToken=first["nextPageToken"]), "page with other filters")
    assert bad.value.status == 400


def test_lena_made_her_own_out_of_office_event_two_weeks_out(google, team):
    """The seed: an out-of-office event Lena Fischer put in her calendar herself, as Calendar's form
    makes it; the intake's full sync finds it, and it declined her meetings in those days."""
    anchor = google.sandbox.anchor
    lena = client(LENA)

    [own] = lena.changed_events(None, time_min=dt.datetime.combine(anchor, dt.time(), dt.timezone.utc)).events

    zone = ZoneInfo("America/New_York")
    start = dt.datetime.fromisoformat(own["start"]["dateTime"])
    end = dt.datetime.fromisoformat(own["end"]["dateTime"])
    first, back = start.date(), end.date()
    assert start == dt.datetime.combine(first, dt.time(), zone) and end == dt.datetime.combine(back, dt.time(), zone)
    assert 13 <= (first - anchor).days <= 17 and team.is_working_day(first)
    assert sum(team.is_working_day(first + dt.timedelta(days=n)) for n in range((back - first).days)) == 3
    assert (own["eventType"], own["transparency"], own["status"]) == ("outOfOffice", "opaque", "confirmed")
    assert "attendees" not in own and own["organizer"]["self"] and own["creator"]["self"]
    assert own["outOfOfficeProperties"] == {"autoDeclineMode": "declineAllConflictingInvitations",
                                            "declineMessage": "Declined because I am out of office"}
    assert "extendedProperties" not in own  # nothing of the product's
    meetings = lena.list_events(start, end)
    invited = [e for e in meetings if e.get("attendees") and not e["organizer"].get("self")]
    assert invited and all(a["responseStatus"] == "declined" for e in invited for a in e["attendees"] if a.get("self"))
    assert [e["id"] for e in google.out_of_office()] == [own["id"]]  # nobody else's
    page = requests.get(google.sandbox.base_url + "/", timeout=10).text
    assert f"href='#google-ooo-{own['id']}'" in page and f"id='google-ooo-{own['id']}'" in page


# -- Google throttling: 403 rate limits ---------------------------------------------------------
def test_throttling_403s_come_in_googles_envelope(connections):
    connections.sandbox.faults["google"] = Faults(next_kinds=["403_rateLimitExceeded", "403_userRateLimitExceeded"])
    for reason, message in (("rateLimitExceeded", "Rate Limit Exceeded"),
                            ("userRateLimitExceeded", "User Rate Limit Exceeded")):
        answer = requests.get(connections.url + "/google/calendar/v3/calendars/primary/events", timeout=5)
        assert answer.status_code == 403
        assert answer.json()["error"]["errors"] == [{"message": message, "domain": "usageLimits", "reason": reason}]
    slack_only = requests.post(connections.url + "/_sandbox/faults/slack", json={"kinds": ["403_rateLimitExceeded"]},
                               timeout=5)
    assert slack_only.status_code == 400 and "does not answer" in slack_only.json()["error"]


def test_a_list_throttled_by_403s_is_retried_and_succeeds(google, connections):
    maya = client()
    maya.get_vacation()  # the token first
    connections.sandbox.faults["google"] = Faults(next_kinds=["403_userRateLimitExceeded", "403_rateLimitExceeded"],
                                                  match="^GET /calendar/")
    maya.insert_event(_ooo(8, id="ooomm00001"))

    assert [e["id"] for e in maya.changed_events(None).events] == ["ooomm00001"]
    assert [r["status"] for r in _lists(connections)][-3:] == [403, 403, 200]


def test_a_throttled_send_is_tried_again_and_mailed_once(google, connections):
    maya = client()
    maya.get_vacation()
    connections.sandbox.faults["google"] = Faults(next_kinds=["403_userRateLimitExceeded"],
                                                  match="^POST /gmail/v1/users/me/messages/send$")
    message = _email("<ooo.throttled.1@yellowstonelocal.com>")

    maya.send_message(message)

    assert [m["message_id"] for m in google.mailbox(JORDAN)] == ["<ooo.throttled.1@yellowstonelocal.com>"]
    sends = [r["status"] for r in connections.sandbox.requests if r["path"].endswith("/messages/send")]
    assert sends == [403, 200]


# -- Gmail's search index lag and a lost send -----------------------------------------------------
def _email(message_id: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = "Maya Patel <maya.patel@yellowstonelocal.com>"
    message["To"] = "Jordan Reyes <jordan.reyes@yellowstonelocal.com>"
    message["Subject"] = "Covering Bluebird Bakery"
    message["Message-ID"] = message_id
    message.set_content("Thanks for covering.")
    return message


def test_a_lagging_search_index_does_not_find_a_message_just_sent(google, connections):
    maya = client()
    connections.sandbox.faults["google"] = Faults(search_lag=600)
    gmail_id = maya.send_message(_email("<ooo.lag.1@yellowstonelocal.com>"))

    assert maya.find_message("<ooo.lag.1@yellowstonelocal.com>") is None  # not indexed yet
    got = maya._run(maya.gmail().users().messages().get(userId="me", id=gmail_id, format="minimal"), "get")
    assert got["id"] == gmail_id  # the mailbox has it all the same
    connections.sandbox.faults["google"] = Faults()  # the index caught up
    assert maya.find_message("<ooo.lag.1@yellowstonelocal.com>") == gmail_id


def test_an_email_whose_send_answer_was_lost_goes_out_once_despite_a_lagging_search(google, connections):
    maya = client()
    maya.get_vacation()
    message_id = "<ooo.lost.1@yellowstonelocal.com>"
    message = _email(message_id)
    connections.sandbox.faults["google"] = Faults(next_kinds=["drop_after"], search_lag=3,
                                                  match="^POST /gmail/v1/users/me/messages/send$")

    gmail_id, sent_now = write_once(lambda: maya.find_message(message_id), lambda: maya.send_message(message),
                                    f"email {message_id}")

    assert [m["message_id"] for m in google.mailbox(JORDAN)] == [message_id]  # once, not twice
    assert sent_now is False and gmail_id == google.mailbox(JORDAN)[0]["id"]
    sends = [r for r in connections.sandbox.requests if r["path"].endswith("/messages/send")]
    assert [r.get("fault") for r in sends] == ["drop_after"]
