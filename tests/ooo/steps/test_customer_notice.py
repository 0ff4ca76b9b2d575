"""customer_notice against the sandbox: Maya Patel's customers and her CC told who covers, once.

Maya Patel (CSM, America/Denver; HubSpot owner 41000101; CC Lena Fischer) is out Monday 2026-12-07
to Friday 2026-12-11 (asked 2026-11-23), Jordan Reyes covering. HubSpot holds her book
(:func:`sandbox.scenario.customer_book`): Big Sky Outfitters (Dana, Luis, and Chris Hale, who is
Gallatin Coffee Roasters' contact too), Teton Family Dental (Dr. Chen; a front desk with no
email), Gallatin Coffee Roasters (Sam; an invalid orders@ address), Bozeman Brewing Co. (a lead),
Livingston Realty Group (opted out) and Paradise Valley Orchards (no contacts).
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import pendulum
import pytest

from ooo.keys import customer_notice_message_id, run_key
from ooo.records import Records
from ooo.steps.back_early import back_early
from ooo.steps.calendar import calendar_cleanup
from ooo.steps.cancel import cancel_absence
from ooo.steps.customer_notice import customer_notice, deliverable
from ooo.team import CustomerNoticeRule
from ooo.timeline import plan_timeline

MAYA, LENA = "maya.patel@yellowstonelocal.com", "lena.fischer@yellowstonelocal.com"
TOLD = {"dana@bigskyoutfitters.com", "luis.ortega@bigskyoutfitters.com", "chris@halemanagement.com",
        "dr.chen@tetonfamilydental.com", "sam@gallatincoffeeroasters.com"}
NOT_TOLD = {"erin@bozemanbrewing.com", "grace@livingstonrealty.com", "orders@gallatincoffeeroasters"}


def denver(day: int, hour: int = 9) -> dt.datetime:
    return pendulum.datetime(2026, 12, day, hour, tz="America/Denver")


@pytest.fixture
def hubspot(connections):
    return connections.sandbox.api("hubspot")


@pytest.fixture
def maya(make_absence):
    return make_absence(employee=MAYA, start="2026-12-07", end="2026-12-11")


def company_id(hubspot, name: str) -> str:
    return next(cid for cid, c in hubspot.crm.companies.items() if c["props"]["name"] == name)


def contact_id(hubspot, address: str) -> str:
    return next(pid for pid, c in hubspot.crm.contacts.items() if c["props"].get("email") == address)


def logged(hubspot) -> dict[str, dict]:
    """HubSpot's email engagements by the Message-ID of the email they record."""
    return {e["props"]["hs_email_message_id"]: {"id": eid, **e} for eid, e in hubspot.crm.emails.items()}


def lena_dms(connections) -> list[dict]:
    slack = connections.sandbox.api("slack")
    return slack.dm_messages(slack.user_id(LENA))


def test_each_active_customer_contact_is_emailed_once_logged_on_hubspot_and_the_cc_told(
        connections, hubspot, maya, step_context):
    google = connections.sandbox.api("google")
    record = customer_notice(step_context(maya, now=denver(4, 15)))

    sent = google.sent(MAYA)
    assert sorted(a for m in sent for a in m["to"]) == sorted(TOLD)  # each once; Chris once, not twice
    assert not NOT_TOLD & {a for m in sent for a in m["to"]}  # not the lead, the opted out, the invalid
    dana = next(m for m in sent if m["to"] == ["dana@bigskyoutfitters.com"])
    assert dana["from"] == MAYA and dana["auto_submitted"] == "auto-generated"
    assert dana["subject"] == "Out of the office from Monday, December 7, 2026: Jordan Reyes is your contact"
    text = dana["text"]
    assert text.startswith("Hi Dana,")
    assert ("out of the office from Monday, December 7, 2026 through Friday, December 11, 2026, and back on "
            "Monday, December 14, 2026") in text
    assert "my backup buddy Jordan Reyes (jordan.reyes@yellowstonelocal.com) is your point of contact" in text
    assert "support@yellowstonelocal.com" in text and text.rstrip().endswith("Maya Patel\nYellowstone Local")
    assert "jordan.reyes@yellowstonelocal.com" in dana["html"] and "<b>Monday, December 14, 2026</b>" in dana["html"]
    key = run_key(maya.run_id)
    assert {m["message_id"] for m in sent} == {
        customer_notice_message_id(key, a, "yellowstonelocal.com") for a in TOLD}

    # Each email on HubSpot, once, on the contact and the company it was written for.
    emails = logged(hubspot)
    assert set(emails) == {m["message_id"] for m in sent}
    big_sky, gallatin = company_id(hubspot, "Big Sky Outfitters"), company_id(hubspot, "Gallatin Coffee Roasters")
    on_dana = emails[dana["message_id"]]
    assert (on_dana["contacts"], on_dana["companies"]) == ([contact_id(hubspot, "dana@bigskyoutfitters.com")],
                                                           [big_sky])
    assert on_dana["props"]["hs_email_subject"] == dana["subject"]
    assert on_dana["props"]["hs_email_from_email"] == MAYA and on_dana["props"]["hs_email_status"] == "SENT"
    chris = next(m for m in sent if m["to"] == ["chris@halemanagement.com"])
    assert emails[chris["message_id"]]["companies"] == [big_sky, gallatin]  # one email, on both timelines

    # The record: who was told, who was left out and why.
    assert {t.address for t in record.told} == TOLD and all(t.sent and t.engagement_id for t in record.told)
    assert record.summary == "customers told: 5 contacts at 3 companies"
    reasons = {(o.company, o.contact): o.reason for o in record.left_out}
    assert reasons == {
        ("Gallatin Coffee Roasters", "Chris Hale"):
            "also a contact of Big Sky Outfitters: written to once, logged on both companies",
        ("Gallatin Coffee Roasters", "Pat Quinn"): "'orders@gallatincoffeeroasters' is not a valid email address",
        ("Livingston Realty Group", ""): "opted out of absence notices: ooo_notice_opt_out is 'true'",
        ("Paradise Valley Orchards", ""): "no contacts in HubSpot",
        ("Teton Family Dental", "Front Desk"): "no email address in HubSpot",
    }

    # Lena, Maya's CC, hears the same facts in a DM.
    dms = lena_dms(connections)
    assert len(dms) == 1 and dms[0]["metadata"]["event_type"] == "ooo_cc_notice"
    cc_text = dms[0]["text"]
    assert cc_text.startswith("Hi Lena! <@U02MAYA00> is out of the office from Monday, December 7, 2026 through "
                              "Friday, December 11, 2026, back on Monday, December 14, 2026.")
    assert "<@U02JORDAN> is Maya's backup buddy" in cc_text and "support@yellowstonelocal.com" in cc_text
    assert ("5 contacts at 3 customers were emailed who covers: Big Sky Outfitters, Gallatin Coffee Roasters, "
            "Teton Family Dental.") in cc_text
    assert record.cc is not None and record.cc.ts == dms[0]["ts"]


def test_a_retry_sends_logs_and_posts_nothing_twice(connections, hubspot, maya, step_context):
    google = connections.sandbox.api("google")
    first = customer_notice(step_context(maya, now=denver(4, 15)))
    sent, emails, dms = len(google.sent(MAYA)), len(hubspot.crm.emails), len(lena_dms(connections))

    again = customer_notice(step_context(maya, now=denver(4, 15)))

    assert (len(google.sent(MAYA)), len(hubspot.crm.emails), len(lena_dms(connections))) == (sent, emails, dms)
    assert [t.message_id for t in again.told] == [t.message_id for t in first.told]
    assert [t.engagement_id for t in again.told] == [t.engagement_id for t in first.told]
    assert not any(t.sent for t in again.told) and again.cc is not None and not again.cc.posted


def test_only_primary_contacts_when_the_roster_says_so(connections, hubspot, maya, step_context, team):
    primary = dataclasses.replace(team, customer_notice=CustomerNoticeRule(("customer",), "primary",
                                                                           "ooo_notice_opt_out"))
    record = customer_notice(dataclasses.replace(step_context(maya, now=denver(4, 15)), team=primary))
    assert {t.address for t in record.told} == TOLD
    chris = next(t for t in record.told if t.address == "chris@halemanagement.com")
    assert chris.companies == ["Big Sky Outfitters"]  # Gallatin is not his primary company
    assert logged(hubspot)[chris.message_id]["companies"] == [company_id(hubspot, "Big Sky Outfitters")]
    assert ("Gallatin Coffee Roasters", "Chris Hale") not in {(o.company, o.contact) for o in record.left_out}


def test_a_lead_is_a_customer_when_the_roster_counts_leads(connections, maya, step_context, team):
    leads_too = dataclasses.replace(team, customer_notice=CustomerNoticeRule(("customer", "lead"), "all", None))
    record = customer_notice(dataclasses.replace(step_context(maya, now=denver(4, 15)), team=leads_too))
    # and without an opt-out property, Livingston Realty Group's opt-out is not read
    assert {"erin@bozemanbrewing.com", "grace@livingstonrealty.com"} <= {t.address for t in record.told}


def test_nobody_is_written_to_for_a_cc_or_without_the_rosters_rule(connections, make_absence, maya, step_context,
                                                                    team):
    google, slack = connections.sandbox.api("google"), connections.sandbox.api("slack")
    lena = make_absence(employee=LENA, start="2026-12-07", end="2026-12-11")
    assert plan_timeline(lena, team, lena.requested_at)["customer_notice"].skip == (
        "customer notices are for CSMs; Lena Fischer is cc")
    record = customer_notice(step_context(lena, now=denver(4, 15)))
    assert record.skipped == "customer notices are for CSMs; Lena Fischer is cc" and record.told == []

    unset = dataclasses.replace(team, customer_notice=None)
    record = customer_notice(dataclasses.replace(step_context(maya, now=denver(4, 15)), team=unset))
    assert record.skipped and "team.customer_notice" in record.skipped and record.told == []
    assert google.sent(MAYA) == []
    assert "No customer was emailed: the roster has no team.customer_notice" in \
        slack.dm_messages(slack.user_id(LENA))[-1]["text"]  # the CC still hears who covers


def test_deliverable_addresses():
    for good in ("dana@bigskyoutfitters.com", "Dr.Chen@Teton-Family-Dental.co.uk", '"o\'neil"@shop.example'):
        assert deliverable(good), good
    for bad in (None, "", "orders@gallatincoffeeroasters", "a@b.com, c@d.com", "a b@x.com", "<a@x.com>",
                "a@x..com", "a@-x.com", "a@x.c0m", "@x.com"):
        assert not deliverable(bad), bad


# -- a cancel, or an earlier return ------------------------------------------------------------
def test_a_cancel_corrects_those_told_once_found_by_their_message_ids(connections, hubspot, maya, step_context):
    google = connections.sandbox.api("google")
    notice = customer_notice(step_context(maya, now=denver(4, 15)))
    notices = {m["to"][0]: m for m in google.sent(MAYA)}
    before = len(google.sent(MAYA))

    # No customer_notice record (a step stopped half-way keeps none): those told are found in her mailbox.
    done = cancel_absence(step_context(maya, now=denver(4, 16), records=Records()))

    corrections = google.sent(MAYA)[before:]
    corrections = [m for m in corrections if m["to"][0] in TOLD]
    assert sorted(m["to"][0] for m in corrections) == sorted(TOLD)
    for m in corrections:
        original = notices[m["to"][0]]
        assert m["headers"]["In-Reply-To"] == m["headers"]["References"] == original["message_id"]
        assert m["subject"] == "Re: " + original["subject"]
        assert "my time out of the office has been cancelled, so I'll be in as usual" in m["text"]
        engagement = logged(hubspot)[m["message_id"]]  # on the account's timeline too
        assert engagement["contacts"] == logged(hubspot)[original["message_id"]]["contacts"]
    assert {t.address for t in done.customers_told} == TOLD and all(t.engagement_id for t in done.customers_told)
    cc = lena_dms(connections)
    assert len(cc) == 2 and cc[1]["thread_ts"] == notice.cc.ts and "is cancelled" in cc[1]["text"]
    assert done.cc_told is not None and done.cc_told.posted

    sent, emails = len(google.sent(MAYA)), len(hubspot.crm.emails)
    again = cancel_absence(step_context(maya, now=denver(4, 17), records=Records(customer_notice=notice)))
    assert (len(google.sent(MAYA)), len(hubspot.crm.emails), len(lena_dms(connections))) == (sent, emails, 2)
    assert not any(t.sent for t in again.customers_told)


def test_a_cancel_before_the_notice_writes_to_no_customer(connections, maya, step_context):
    google = connections.sandbox.api("google")
    done = cancel_absence(step_context(maya, now=denver(2, 10)))
    assert done.customers_told == [] and done.cc_told is None
    assert not [m for m in google.sent(MAYA) if m["to"][0] in TOLD] and lena_dms(connections) == []


def test_back_early_sends_a_back_earlier_note_once_per_new_end(connections, hubspot, maya, step_context, team):
    google = connections.sandbox.api("google")
    notice = customer_notice(step_context(maya, now=denver(4, 15)))
    records = Records(customer_notice=notice)

    def shortened(end: str, now: dt.datetime):
        was = step_context(maya, now=now, records=records)
        shorter = dataclasses.replace(maya, end=dt.date.fromisoformat(end))
        return dataclasses.replace(was, absence=shorter, timeline=plan_timeline(shorter, team, maya.requested_at)), was

    before = len(google.sent(MAYA))
    done = back_early(*shortened("2026-12-09", denver(8, 12)))
    notes = [m for m in google.sent(MAYA)[before:] if m["to"][0] in TOLD]
    assert sorted(m["to"][0] for m in notes) == sorted(TOLD)
    assert all("I'm back in the office on Thursday, December 10, 2026, earlier than planned" in m["text"]
               for m in notes)
    assert {m["message_id"] for m in notes} <= set(logged(hubspot))
    assert len(done.customers_told) == len(TOLD) and done.cc_told is not None
    assert "back early" in lena_dms(connections)[-1]["text"]

    back_early(*shortened("2026-12-09", denver(8, 13)))  # a retry: nothing twice
    assert len(google.sent(MAYA)) == before + len(notes)
    back_early(*shortened("2026-12-08", denver(8, 14)))  # a newer end date is news again
    newer = [m for m in google.sent(MAYA)[before + len(notes):] if m["to"][0] in TOLD]
    assert len(newer) == len(TOLD) and "Wednesday, December 9, 2026" in newer[0]["text"]


# -- the account's timeline: the calendar's notes to clients ---------------------------------------
def test_reschedule_notes_and_meeting_stands_replies_are_logged_on_the_clients_records(
        connections, hubspot, maya, step_context):
    google = connections.sandbox.api("google")
    cleanup = calendar_cleanup(step_context(maya, now=denver(2, 10)))
    notes = cleanup.reschedule_emails
    assert notes
    for note in notes:
        known = [a for a in note.to if not a.startswith("office@")]  # HubSpot knows each named client
        engagement = logged(hubspot)[note.message_id]
        assert note.logged == engagement["id"]
        assert sorted(engagement["contacts"]) == sorted(contact_id(hubspot, a) for a in known)
        assert engagement["companies"] and engagement["props"]["hs_email_subject"] == note.subject
        assert note.not_in_hubspot == [a for a in note.to if a.startswith("office@")]
    assert any(n.not_in_hubspot for n in notes)  # an address HubSpot does not know: reported, not fatal

    emails = len(hubspot.crm.emails)
    calendar_cleanup(step_context(maya, now=denver(2, 11)))  # a retry logs nothing twice
    assert len(hubspot.crm.emails) == emails

    done = cancel_absence(step_context(maya, now=denver(2, 12), records=Records(calendar_cleanup=cleanup)))
    told = [m for m in done.restored if m.told]
    assert told and all(m.logged in hubspot.crm.emails for m in told)
    stands = {m["message_id"] for m in google.sent(MAYA) if m["subject"].startswith("Re: Rescheduling")}
    assert stands and stands <= set(logged(hubspot))
