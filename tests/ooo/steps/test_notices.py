"""The team notice, the buddy's handover DM and the voicemail script DM against the sandbox's Slack.
Each runs twice: nothing is posted twice."""

from __future__ import annotations

import dataclasses

from ooo.records import Records
from ooo.steps.notices import buddy_handover, team_notice, voicemail_reminder

NOTICE = "#dept-client-services-must-reads"
START, END = "2027-01-14", "2027-01-19"


# -- the team notice ----------------------------------------------------------------------------
def test_team_notice_posted_once_with_mentions_and_escaped_note(connections, slack, make_absence, step_context):
    note = 'Back-to-back <script>alert("x")</script> & <@U04ROSA00> *not bold*'
    absence = make_absence(employee="sam.okafor@yellowstonelocal.com", start=START, end=END,
                           reachable=True, note=note)
    before = len(slack.messages(NOTICE))
    record = team_notice(step_context(absence)).to_dict()
    priya = slack.user_id("priya.nair@yellowstonelocal.com")  # no slack_id in the roster: looked up
    posted = slack.messages(NOTICE)[before:]
    assert len(posted) == 1
    text = posted[0]["text"]
    assert ("Hi Team! I will be OOO from Thursday, January 14, 2027 to Tuesday, January 19, 2027. "
            f"In my absence, <@{priya}> will be my backup buddy for any assistance needed. Thank you!") in text
    assert "<@U02SAMOK0>" in text and "I'll be checking email while I'm out." in text
    assert ("Note: Back-to-back &lt;script&gt;alert(\"x\")&lt;/script&gt; &amp; &lt;@U04ROSA00&gt; *not bold*"
            in text)
    assert "<script>" not in text and text.count("<@") == 3  # Sam twice, Priya once; none from the note
    assert record == {"channel": slack.channel_by_name(NOTICE)["id"], "ts": posted[0]["ts"], "posted": True,
                      "user": None, "skipped": None,  # not a client visit: no company
                      "client_company_id": None, "client_company": None, "client_company_unknown": None}
    assert posted[0]["metadata"]["event_type"] == "ooo_team_notice"

    again = team_notice(step_context(absence)).to_dict()  # a retry, or a re-run with new clients
    assert len(slack.messages(NOTICE)) == before + 1
    assert again == {**record, "posted": False}


def test_a_first_try_posts_without_reading_the_channel_and_a_retry_finds_the_post(connections, slack, make_absence,
                                                                                  step_context):
    absence = make_absence(start=START, end=END)
    log = connections.sandbox.requests
    before, posts = len(log), len(slack.messages(NOTICE))

    first = team_notice(dataclasses.replace(step_context(absence), try_number=1))

    assert first.posted and "/api/conversations.history" not in [r["path"] for r in list(log)[before:]]
    retry = team_notice(dataclasses.replace(step_context(absence), try_number=2))
    assert not retry.posted and retry.ts == first.ts and len(slack.messages(NOTICE)) == posts + 1


def test_team_notice_not_reachable_and_no_note(connections, slack, make_absence, step_context):
    absence = make_absence(start=START, end=END, kind="unexpected", reachable=False)
    team_notice(step_context(absence))
    text = slack.messages(NOTICE)[-1]["text"]
    assert "In my absence, <@U02JORDAN> will be my backup buddy" in text
    assert "I won't be checking email while I'm out." in text and "Note:" not in text


# -- the buddy's handover and the voicemail script -----------------------------------------------
CLEANUP = {
    "organised": [{"id": "m1", "summary": "Acme | onboarding <kickoff>", "start": "2027-01-15T10:00:00-07:00",
                   "htmlLink": "https://www.google.com/calendar/event?eid=m1", "attendees": ["a@acme.com"],
                   "external": ["a@acme.com"]}],
    "declined": [
        {"id": "m1", "summary": "Acme | onboarding <kickoff>", "start": "2027-01-15T10:00:00-07:00",
         "kind": "external"},
        {"id": "m2", "summary": "Teton Dental QBR", "start": "2027-01-18T14:30:00-07:00", "kind": "external",
         "external": True},
        {"id": "m3", "summary": "Client Services Weekly", "start": "2027-01-19T10:00:00-07:00", "kind": "internal"},
    ],
}


def test_buddy_handover_dm_once_with_cover_rules_and_meetings(connections, slack, make_absence, step_context):
    absence = make_absence(start=START, end=END)
    ctx = step_context(absence, records=Records.from_xcoms({"calendar_cleanup": CLEANUP}))
    record = buddy_handover(ctx).to_dict()
    dms = slack.dm_messages("U02JORDAN")
    assert len(dms) == 1 and record["channel"].startswith("D") and record["ts"] == dms[0]["ts"]
    text = dms[0]["text"]
    assert text.startswith("Hi Jordan! You are <@U02MAYA00>'s backup buddy while Maya is out from Thursday, "
                           "January 14, 2027 through Tuesday, January 19, 2027 (back on Wednesday, January 20, 2027).")
    assert "like adding a special, or a website that is down" in text
    assert "ask the client to wait until Maya returns" in text
    assert "support tags you in the HubSpot Conversations inbox" in text
    assert "leave a note on the HubSpot company record and tag Maya Patel" in text
    assert ("• Fri Jan 15, 10:00 AM MST: <https://www.google.com/calendar/event?eid=m1|Acme ¦ onboarding "
            "&lt;kickoff&gt;> (with a@acme.com)") in text
    assert "• Mon Jan 18, 2:30 PM MST: Teton Dental QBR" in text
    assert "Client Services Weekly" not in text and "(with True)" not in text
    assert record["organised"] == 1 and record["client_meetings"] == 1

    again = step_context(absence, records=Records.from_xcoms({"calendar_cleanup": CLEANUP}))
    assert buddy_handover(again).posted is False
    assert len(slack.dm_messages("U02JORDAN")) == 1


def test_buddy_handover_without_a_calendar_record(connections, slack, make_absence, step_context):
    absence = make_absence(employee="sam.okafor@yellowstonelocal.com", start=START, end=END)
    buddy_handover(step_context(absence))  # calendar_cleanup recorded nothing (e.g. a run older than it)
    priya = slack.user_id("priya.nair@yellowstonelocal.com")
    text = slack.dm_messages(priya)[-1]["text"]
    assert text.startswith("Hi Priya! You are <@U02SAMOK0>'s backup buddy")
    assert "No meetings were found on Sam's calendar for the absence." in text


def test_voicemail_reminder_dm_once_with_the_seed_script(connections, slack, make_absence, step_context):
    absence = make_absence(start=START, end=END)
    record = voicemail_reminder(step_context(absence)).to_dict()
    voicemail_reminder(step_context(absence))
    dms = slack.dm_messages("U02MAYA00")
    assert len(dms) == 1 and record["ts"] == dms[0]["ts"] and record["user"] == "U02MAYA00"
    assert ("> Hi you've reached Maya Patel with Yellowstone Local. I am currently out of the office. Please reach "
            "out to our team by emailing support@yellowstonelocal.com and a member of our team will be able to "
            "provide assistance in my absence. Thank you!") in dms[0]["text"]
    assert "To do:" in dms[0]["text"] and "Wednesday, January 20, 2027" in dms[0]["text"]


def test_voicemail_reminder_skipped_without_a_justcall_number(connections, slack, make_absence, step_context):
    absence = make_absence(employee="lena.fischer@yellowstonelocal.com", start=START, end=END)
    assert voicemail_reminder(step_context(absence)).skipped == "no JustCall number in the roster"
    assert slack.dm_messages("U03LENA00") == []
