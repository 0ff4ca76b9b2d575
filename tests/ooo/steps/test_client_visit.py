"""A client visit against the sandbox: the team notice asks in its thread what the team needs from the
client (named as HubSpot has it), and visit_requests sends the replies to the employee's DM, once."""

from __future__ import annotations

import pendulum

from ooo.records import Records
from ooo.steps.client_visit import visit_requests
from ooo.steps.notices import team_notice

NOTICE = "#dept-client-services-must-reads"
MAYA, JORDAN, SAM, ROSA = "U02MAYA00", "U02JORDAN", "U02SAMOK0", "U04ROSA00"
START, END = "2027-01-14", "2027-01-15"


def visit(make_absence, company="bigskyoutfitters.com", **params):
    return make_absence(start=START, end=END, kind="client_visit", client_company=company, **params)


def test_the_notice_names_the_client_and_asks_the_team_in_its_thread(connections, slack, make_absence,
                                                                      step_context):
    absence = visit(make_absence, start_half="afternoon")
    record = team_notice(step_context(absence))
    text = slack.messages(NOTICE)[-1]["text"]
    assert text.startswith(":handshake: *Client visit: <@U02MAYA00>*\nHi Team! I will be visiting Big Sky "
                           "Outfitters from 12:00 PM MST on Thursday, January 14, 2027 to Friday, January 15, 2027.")
    assert ("*Need anything from Big Sky Outfitters while I'm there?* Photos, approvals, a signature: reply in "
            "this thread by Thu Jan 14, 12:00 PM MST, and your requests will reach me when I leave.") in text
    assert "Back on Monday, January 18, 2027" in text
    hubspot = connections.sandbox.api("hubspot")
    big_sky = next(cid for cid, c in hubspot.crm.companies.items() if c["props"]["name"] == "Big Sky Outfitters")
    assert (record.client_company, record.client_company_id, record.client_company_unknown) == \
        ("Big Sky Outfitters", str(big_sky), None)
    assert record.ts == slack.messages(NOTICE)[-1]["ts"]


def test_the_replies_in_the_thread_reach_the_employee_once(connections, slack, make_absence, step_context):
    absence = visit(make_absence)
    notice = team_notice(step_context(absence))
    channel = notice.channel
    slack.add_message(channel, "Photos of the new storefront, please!", user=JORDAN, thread_ts=notice.ts)
    slack.add_message(channel, "Could you get the <https://example.com/form|approval form> signed? &amp; thanks",
                      user=ROSA, thread_ts=notice.ts)
    slack.add_message(channel, "Will do!", user=MAYA, thread_ts=notice.ts)  # the employee's own: not a request
    slack.add_message(channel, "unrelated chatter", user=SAM)  # not in the thread
    records = Records(team_notice=notice)
    now = pendulum.now("UTC")

    record = visit_requests(step_context(absence, now=now, records=records))

    dms = [m for m in slack.dm_messages(MAYA) if m.get("bot_id")]
    assert len(dms) == 1 and dms[0]["metadata"]["event_type"] == "ooo_visit_requests"
    text = dms[0]["text"]
    assert text.startswith(":handshake: *What the team needs from Big Sky Outfitters*")
    assert "> Photos of the new storefront, please!" in text and f"<@{JORDAN}>" in text
    # Slack's own markup passes as it is: the link stays a link, nothing is escaped twice.
    assert "> Could you get the <https://example.com/form|approval form> signed? &amp; thanks" in text
    assert "Will do!" not in text and "unrelated chatter" not in text
    assert [(r.user, r.text) for r in record.requests] == [
        (JORDAN, "Photos of the new storefront, please!"),
        (ROSA, "Could you get the <https://example.com/form|approval form> signed? &amp; thanks")]
    assert (record.posted, record.company, record.thread_ts, record.user) == (True, "Big Sky Outfitters",
                                                                              notice.ts, MAYA)

    slack.add_message(channel, "One more: a quote for the sign.", user=SAM, thread_ts=notice.ts)
    again = visit_requests(step_context(absence, now=now, records=records))  # a retry: the DM stands
    assert len([m for m in slack.dm_messages(MAYA) if m.get("bot_id")]) == 1
    assert again.posted is False and again.ts == record.ts


def test_no_replies_and_a_client_hubspot_does_not_know(connections, slack, make_absence, step_context):
    absence = visit(make_absence, company="nosuchclient.example")
    notice = team_notice(step_context(absence))
    assert notice.client_company == "nosuchclient.example"
    assert notice.client_company_unknown == "HubSpot has no company nosuchclient.example"
    assert "I will be visiting nosuchclient.example from Thursday" in slack.messages(NOTICE)[-1]["text"]
    # A notice whose record was lost (its task stopped half-way): found again by its metadata.
    record = visit_requests(step_context(absence))
    assert record.thread_ts == notice.ts and record.requests == []
    text = [m for m in slack.dm_messages(MAYA) if m.get("bot_id")][-1]["text"]
    assert "Nobody in the team asked for anything from nosuchclient.example" in text


def test_without_a_notice_nobody_was_asked(connections, slack, make_absence, step_context):
    record = visit_requests(step_context(visit(make_absence)))
    assert record.skipped == "no team notice was posted: nobody was asked" and record.ts is None
    assert not [m for m in slack.dm_messages(MAYA) if m.get("bot_id")]
