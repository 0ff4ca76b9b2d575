"""The return-day digest step against the sandbox: one email, the right items, sent once."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pendulum
import pytest

from ooo.records import Records
from ooo.steps.digest import collect_digest, render_digest, return_digest
from sandbox import connection_env, start_sandbox
from sandbox.scenario import team_meetings

MAYA = "maya.patel@yellowstonelocal.com"
DENVER = ZoneInfo("America/Denver")
START, END = dt.date(2027, 3, 8), dt.date(2027, 3, 12)  # Mon..Fri; back Mon 2027-03-15
DIGEST_AT = pendulum.datetime(2027, 3, 15, 8, 30, tz="America/Denver")


def at(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2027, 3, day, hour, minute, tzinfo=DENVER)


@pytest.fixture
def quiet(team, monkeypatch):
    """An unseeded sandbox (only what each test adds), with the connections pointing at it."""
    server = start_sandbox(team, anchor=dt.date(2027, 3, 10), seed=False)
    for name, value in connection_env(server.sandbox.connections()).items():
        monkeypatch.setenv(name, value)
    yield server
    server.stop()


@pytest.fixture
def ctx(make_absence, step_context):
    absence = make_absence(employee=MAYA, start=START, end=END,
                           requested_at=pendulum.datetime(2027, 3, 1, 9, 0, tz="UTC"))

    def make(records: Records | None = None):
        return step_context(absence, now=DIGEST_AT, records=records)

    return make


def add_calendar_event(google, organizer: str, event_id: str, title: str, start: dt.datetime, minutes: int,
                       attendees: list[str], description: str = "", attachments: list | None = None) -> None:
    body = {"id": event_id, "summary": title, "description": description,
            "start": {"dateTime": start.isoformat(), "timeZone": "America/Denver"},
            "end": {"dateTime": (start + dt.timedelta(minutes=minutes)).isoformat(), "timeZone": "America/Denver"},
            "attendees": [{"email": a, "responseStatus": "accepted"} for a in attendees]}
    if attachments:
        body["attachments"] = attachments
    google.add_event(organizer, body)


def seed_absence(sb, team) -> dict:
    """Notes, comments, calendar events and recordings in and around Maya's absence."""
    hubspot, google, fathom = sb.api("hubspot"), sb.api("google"), sb.api("fathom")
    maya, jordan = team.person(MAYA), team.person("jordan.reyes@yellowstonelocal.com")
    tag = hubspot.mention(maya)
    ids = {
        "n1": hubspot.add_note(f"<p>{tag} Acme wants the April launch moved.</p>", at(9, 10), "Acme Outdoors",
                               jordan.hubspot_owner_id),
        "n2": hubspot.add_note("<p>@Maya Patel Bravo asked for a quote on two new locations.</p>", at(10, 14),
                               "Bravo Dental", "41000301"),
        "n3": hubspot.add_note(f"<p>{tag} site fixed <script>alert('pwned')</script><b>all good</b> &lt;ok&gt;</p>",
                               at(11, 9, 15), "Acme Outdoors", "41000301"),
    }
    hubspot.add_note("<p>Monthly report sent (no tag).</p>", at(10, 11), "Acme Outdoors")
    hubspot.add_note(f"<p>{tag} before the absence</p>", at(5, 10), "Acme Outdoors")
    hubspot.add_note(f"<p>{tag} after the digest</p>", at(16, 10), "Acme Outdoors")
    hubspot.add_note(f"<p>{hubspot.mention(jordan)} not for Maya</p>", at(10, 12), "Bravo Dental")
    thread = hubspot.add_thread("Bravo Dental", subject="Invoice question")
    hubspot.add_message(thread, "Were we charged twice?", at(10, 8))
    ids["c1"] = hubspot.add_comment("@Maya Patel refund issued, context only.", at(10, 9), thread_id=thread,
                                    rich_text=f"<p>{tag} refund issued, context only.</p>")["id"]
    hubspot.add_comment("@Jordan Reyes please call them", at(10, 9, 5), thread_id=thread,
                        rich_text=f"<p>{hubspot.mention(jordan)} please call them</p>")
    hubspot.add_comment("@Maya Patel old news", at(2, 9), company="Charlie Cafe",
                        rich_text=f"<p>{tag} old news</p>")

    everyone = [p.email for p in team.people]
    manager = "allison.reed@yellowstonelocal.com"
    window = [m for m in team_meetings(dt.date(2027, 3, 10), team)
              if at(8, 0) <= m["start"] < at(15, 0)]
    assert [m["title"] for m in window][0] == "Client Services Weekly" and len(window) == 2
    for m in window:
        add_calendar_event(google, manager, m["id"], m["title"], m["start"], 60, m["attendees"],
                           m["description"], m["attachments"])
        fathom.add_meeting(m["title"], m["start"], m["end"], f"## {m['title']}\n- **Renewals** discussed\n- Next steps")
    add_calendar_event(google, manager, "oneonone20270312", "Maya / Allison 1:1", at(12, 15), 30, [manager, MAYA],
                       "<p>Pipeline review</p>")
    add_calendar_event(google, MAYA, "clientqbr20270310", "Quarterly review: Acme", at(10, 15), 45,
                       [MAYA, "owner@acmeoutdoors.com"])
    add_calendar_event(google, manager, "teammtgmoved20270305", "Client Services Weekly (moved)", at(5, 10), 60,
                       everyone)
    google.add_event(MAYA, {"id": "dentist20270309", "summary": "Dentist",
                            "start": {"dateTime": at(9, 16).isoformat()}, "end": {"dateTime": at(9, 17).isoformat()}})
    fathom.add_meeting("Quarterly review: Acme", at(10, 15), at(10, 15, 45), "## external",
                       invitees=[MAYA, "owner@acmeoutdoors.com"], recorded_by=MAYA)
    return {"ids": ids, "meetings": window}


def records() -> Records:
    texts = {
        "t1": {"id": "t1", "contact_number": "+13075559001", "contact_name": "Acme Outdoors",
               "at": "2027-03-08T10:05:00-07:00", "excerpt": "Can we move the launch?"},
        "t2": {"id": "t2", "contact_number": "+13075559002", "contact_name": "Bravo Dental",
               "at": "2027-03-09T15:00:00-07:00", "excerpt": "Is Maya back Monday?"},
        "t3": {"id": "t3", "contact_number": "+13075559003", "contact_name": "", "at": "2027-03-11T11:00:00-07:00",
               "excerpt": "Call me about the <b>invoice</b>"},
    }
    reviews = [
        {"day": "2027-03-08", "label": "2027-03-08", "since": "", "until": "", "received": [texts["t1"]],
         "answered": [], "unanswered": [texts["t1"]], "raised": [texts["t1"]]},
        {"day": "2027-03-09", "label": "2027-03-09", "since": "", "until": "", "received": [texts["t2"]],
         "answered": [texts["t1"], texts["t2"]], "unanswered": [], "raised": []},
        {"day": "2027-03-11", "label": "2027-03-11", "since": "", "until": "", "received": [texts["t3"]],
         "answered": [], "unanswered": [texts["t3"]], "raised": [texts["t3"]]},
    ]
    cleanup = {  # as calendar_cleanup records it
        "declined": [{"id": "clientqbr20270310", "summary": "Quarterly review: Acme",
                      "start": "2027-03-10T15:00:00-07:00", "when": "Wed Mar 10, 3:00 PM MST", "kind": "external"}],
        "reschedule_emails": [{"event_id": "clientqbr20270310", "event": "Quarterly review: Acme",
                               "to": ["owner@acmeoutdoors.com"], "subject": "Rescheduling our quarterly review",
                               "message_id": "<x@y>", "gmail_id": "abc"}],
    }
    return Records.from_xcoms({"calendar_cleanup": cleanup}, reviews)


def section(html: str, name: str) -> str:
    start = html.index(f'<div id="{name}"')
    nxt = html.find('<div id="', start + 10)
    return html[start: nxt if nxt > 0 else len(html)]


def test_digest_is_one_email_with_exactly_the_right_items_and_is_sent_once(quiet, team, ctx):
    sb = quiet.sandbox
    seeded = seed_absence(sb, team)
    record = return_digest(ctx(records())).to_dict()

    sent = sb.api("google").sent(MAYA)
    assert len(sent) == 1
    mail = sent[0]
    assert mail["to"] == [MAYA] and mail["auto_submitted"] == "auto-generated"
    assert mail["message_id"] == record["message_id"]
    assert mail["subject"] == "Welcome back, Maya: what happened while you were out (Mon Mar 8 to Fri Mar 12)"
    assert record["counts"] == {"notes": 3, "comments": 1, "companies": 2, "missed_meetings": 3, "recordings": 2,
                                "sms_reviews": 3, "texts_received": 3, "texts_raised": 2, "texts_unanswered": 1,
                                "reschedule_emails": 1}
    html, text = mail["html"], mail["text"]

    # HubSpot: grouped by company, newest first; only tagging items in the window; scripts gone
    hub = section(html, "hubspot")
    assert "<script" not in html and "alert(" not in html and "pwned" not in text
    assert "site fixed all good &lt;ok&gt;" in hub
    assert hub.index("Acme Outdoors") < hub.index("Bravo Dental")  # Acme's newest (Mar 11) is newer
    bodies = re.findall(r'<div style="white-space:pre-wrap;margin-top:2px">(.*?)</div>', hub)
    assert bodies == ["@Maya Patel site fixed all good &lt;ok&gt;", "@Maya Patel Acme wants the April launch moved.",
                      "@Maya Patel Bravo asked for a quote on two new locations.",
                      "@Maya Patel refund issued, context only."]
    assert "Inbox comment by Rosa Alvarez" in hub and "Note by Jordan Reyes" in hub
    for absent in ("no tag", "before the absence", "after the digest", "not for Maya", "old news", "please call"):
        assert absent not in html
    assert f"/record/0-2/{sb.api('hubspot').add_company('Acme Outdoors')}" in hub

    # meetings: the internal ones in the window, with agenda, docs and the matching recording
    meet = section(html, "meetings")
    titles = re.findall(r'<div style="font-weight:600"><a [^>]*>(.*?)</a></div>', meet)
    assert titles == ["Client Services Weekly", seeded["meetings"][1]["title"].replace("&", "&amp;"),
                      "Maya / Allison 1:1"]
    assert "Renewals at risk this month" in meet and "Pipeline review" in meet
    assert seeded["meetings"][0]["attachments"][0]["fileUrl"] in meet
    recordings = [m["share_url"] for m in sb.api("fathom").meetings if m["title"] != "Quarterly review: Acme"]
    assert re.findall(r'<a href="(https://fathom.video/share/[^"]+)"', meet) == recordings
    assert "No Fathom recording found for this meeting." in meet  # the 1:1
    assert "Quarterly review: Acme" not in meet and "Dentist" not in meet and "(moved)" not in meet

    # texts: what came in, what was raised, what is still unanswered
    texts = section(html, "texts")
    assert re.findall(r'<li class="unanswered"[^>]*><b>(.*?)</b>', texts) == ["Unknown"]
    assert "Call me about the &lt;b&gt;invoice&lt;/b&gt;" in texts
    assert len(re.findall(r'<li class="received"', texts)) == 3
    assert "(raised to support)" in texts

    covered = section(html, "covered")
    assert "Jordan Reyes" in covered and "Rescheduling our quarterly review" in covered
    assert "owner@acmeoutdoors.com" in covered and "Wed Mar 10, 3:00 PM MST" in covered

    # the plain part says the same
    assert "== HubSpot: notes and comments that tagged you ==" in text and "Bravo Dental" in text
    assert "Recording: " + recordings[0] in text and "Still unanswered" in text

    # a re-run finds the email and sends nothing
    again = return_digest(ctx(records())).to_dict()
    assert again["sent"] is False and again["message_id"] == record["message_id"]
    assert len(sb.api("google").sent(MAYA)) == 1


def test_a_note_added_late_still_counts(quiet, team, ctx):
    hubspot = quiet.sandbox.api("hubspot")
    context = ctx()
    assert collect_digest(context).counts()["notes"] == 0
    hubspot.add_note("<p>@Maya Patel added on the last evening</p>", at(12, 21), "Acme Outdoors")
    digest = collect_digest(context)
    assert [i.text for g in digest.companies for i in g.items] == ["@Maya Patel added on the last evening"]


def test_empty_sections_say_so_and_no_fathom_is_said(quiet, ctx, monkeypatch):
    monkeypatch.delenv("AIRFLOW_CONN_OOO_FATHOM")
    record = return_digest(ctx()).to_dict()
    assert record["fathom_linked"] is False and set(record["counts"].values()) == {0}
    mail = quiet.sandbox.api("google").sent(MAYA)[0]
    for says in ("Nobody tagged you in a HubSpot note or inbox comment while you were out.",
                 "No internal meetings were on your calendar while you were out.",
                 "Recordings are not linked: Fathom is not connected.",
                 "No text reviews were recorded for this absence.",
                 "No reschedule emails were sent"):
        assert says in mail["html"] and says in mail["text"].replace("(", "").replace(")", "")


def test_preview_renders_without_sending(quiet, team, ctx):
    seed_absence(quiet.sandbox, team)
    subject, text, html = render_digest(collect_digest(ctx(records())))
    assert subject.startswith("Welcome back, Maya") and "Acme Outdoors" in html and "Acme Outdoors" in text
    assert quiet.sandbox.api("google").sent(MAYA) == []



def test_digest_preview_cli_writes_files_and_sends_nothing(quiet, team, tmp_path, capsys):
    import json

    from ooo.cli import main

    seed_absence(quiet.sandbox, team)
    recs = tmp_path / "records.json"
    recs.write_text(json.dumps(records().to_dicts()))
    out = tmp_path / "preview.html"
    assert main(["digest-preview", "--employee", MAYA, "--start", str(START), "--end", str(END),
                 "--records", str(recs), "--out", str(out)]) == 0
    html, text = out.read_text(), out.with_suffix(".txt").read_text()
    assert "Acme Outdoors" in html and "Still unanswered" in html and "Rescheduling our quarterly review" in html
    assert text.startswith("Subject: Welcome back, Maya")
    assert "notes 3, comments 1" in capsys.readouterr().out
    assert quiet.sandbox.api("google").sent(MAYA) == []
