"""The Slack and JustCall steps against the sandbox: team notice, buddy and voicemail DMs, the
daily SMS reviews of a whole absence, and the ops alert. Each runs twice: nothing is posted twice."""

from __future__ import annotations

import datetime as dt
import re
from urllib.parse import quote
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest

from ooo.alerts import OpsAlert, failure_alert
from ooo.steps import Records
from ooo.steps.notices import buddy_handover, team_notice, voicemail_reminder
from ooo.steps.sms_review import sms_review

DENVER = ZoneInfo("America/Denver")
MAYA, JORDAN_NO = "+13075550101", "+13075550102"
NOTICE, SUPPORT, OPS = "#dept-client-services-must-reads", "#support-sms-queue", "#ooo-ops"
# Thursday 2027-01-14 to Tuesday 2027-01-19: the reviews are Thu, Fri, Mon (catching the weekend),
# Tue at 17:00 Denver, and the return morning (Wed 08:30).
START, END = "2027-01-14", "2027-01-19"


def denver(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2027, 1, day, hour, minute, tzinfo=DENVER)


@pytest.fixture
def slack(connections):
    return connections.sandbox.api("slack")


@pytest.fixture
def justcall(connections):
    return connections.sandbox.api("justcall")


def alerts(slack) -> list[dict]:
    return [m for m in slack.messages(SUPPORT) if (m.get("metadata") or {}).get("event_type") == "ooo_sms_alert"]


# -- the team notice ----------------------------------------------------------------------------
def test_team_notice_posted_once_with_mentions_and_escaped_note(connections, slack, make_absence, step_context):
    note = 'Back-to-back <script>alert("x")</script> & <@U04ROSA00> *not bold*'
    absence = make_absence(employee="sam.okafor@yellowstonelocal.com", start=START, end=END,
                           reachable=True, note=note)
    before = len(slack.messages(NOTICE))
    record = team_notice(step_context(absence))
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
    assert record == {"channel": slack.channel_by_name(NOTICE)["id"], "ts": posted[0]["ts"], "posted": True}
    assert posted[0]["metadata"]["event_type"] == "ooo_team_notice"

    again = team_notice(step_context(absence))  # a retry, or a re-run with new clients
    assert len(slack.messages(NOTICE)) == before + 1
    assert again == {**record, "posted": False}


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
        {"id": "m1", "summary": "Acme | onboarding <kickoff>", "start": "2027-01-15T10:00:00-07:00", "kind": "external"},
        {"id": "m2", "summary": "Teton Dental QBR", "start": "2027-01-18T14:30:00-07:00", "kind": "external",
         "external": True},
        {"id": "m3", "summary": "Client Services Weekly", "start": "2027-01-19T10:00:00-07:00", "kind": "internal"},
    ],
}


def test_buddy_handover_dm_once_with_cover_rules_and_meetings(connections, slack, make_absence, step_context):
    absence = make_absence(start=START, end=END)
    ctx = step_context(absence, records=Records({"calendar_cleanup": CLEANUP}))
    record = buddy_handover(ctx)
    dms = slack.dm_messages("U02JORDAN")
    assert len(dms) == 1 and record["channel"].startswith("D") and record["ts"] == dms[0]["ts"]
    text = dms[0]["text"]
    assert text.startswith("Hi Jordan! You are <@U02MAYA00>'s backup buddy while Maya is out, Thursday, January 14, "
                           "2027 through Tuesday, January 19, 2027 (back on Wednesday, January 20, 2027).")
    assert "like adding a special, or a website that is down" in text
    assert "ask the client to wait until Maya returns" in text
    assert "support tags you in the HubSpot Conversations inbox" in text
    assert "leave a note on the HubSpot company record and tag Maya Patel" in text
    assert ("• Fri Jan 15, 10:00 AM MST: <https://www.google.com/calendar/event?eid=m1|Acme ¦ onboarding "
            "&lt;kickoff&gt;> (with a@acme.com)") in text
    assert "• Mon Jan 18, 2:30 PM MST: Teton Dental QBR" in text
    assert "Client Services Weekly" not in text and "(with True)" not in text
    assert record["organised"] == 1 and record["client_meetings"] == 1

    assert buddy_handover(step_context(absence, records=Records({"calendar_cleanup": CLEANUP})))["posted"] is False
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
    record = voicemail_reminder(step_context(absence))
    voicemail_reminder(step_context(absence))
    dms = slack.dm_messages("U02MAYA00")
    assert len(dms) == 1 and record["ts"] == dms[0]["ts"] and record["user"] == "U02MAYA00"
    assert ("> Hi you've reached Maya Patel with Yellowstone Local. I am currently out of the office. Please reach "
            "out to our team by emailing support@yellowstonelocal.com and a member of our team will be able to "
            "provide assistance in my absence. Thank you!") in dms[0]["text"]
    assert "To do:" in dms[0]["text"] and "Wednesday, January 20, 2027" in dms[0]["text"]


def test_voicemail_reminder_skipped_without_a_justcall_number(connections, slack, make_absence, step_context):
    absence = make_absence(employee="lena.fischer@yellowstonelocal.com", start=START, end=END)
    assert voicemail_reminder(step_context(absence)) == {"skipped": "no JustCall number in the roster"}
    assert slack.dm_messages("U03LENA00") == []


# -- the daily SMS reviews ---------------------------------------------------------------------
def seed_texts(justcall) -> dict[str, int]:
    add = justcall.add_text
    ids = {
        "before": add(MAYA, "+14065550006", "Before the absence", denver(13, 12), contact_name="Early Bird"),
        "a": add(MAYA, "+14065550001", "Please add our weekend special", denver(14, 10), contact_name="Big Sky Outfitters"),
        "b": add(MAYA, "+14065550002", "Website is down!\nCustomers are calling.", denver(14, 16),
                 contact_name="Teton Family Dental"),
        "c": add(MAYA, "+14065550003", "Evening question", denver(14, 18)),  # after Thursday's review
        "d": add(MAYA, "+14065550004", "Saturday: can you call me about the invoice <b>asap</b>?", denver(16, 11),
                 contact_name="Cody Auto Repair"),
        "e": add(MAYA, "+14065550001", "Sunday: one more thing", denver(17, 12), contact_name="Big Sky Outfitters"),
        # an earlier reply to this contact does not answer a new text
        "g": add(MAYA, "+14065550001", "Tuesday follow-up", denver(19, 12), contact_name="Big Sky Outfitters"),
        "f": add(MAYA, "+14065550005", "Tuesday night text " + "x" * 300, denver(19, 19), contact_name="Jackson Hole Yoga"),
        "other": add(JORDAN_NO, "+14065550002", "To Jordan, who is in", denver(14, 11)),
    }
    add(MAYA, "+14065550001", "On it!", denver(14, 10, 30), "Outgoing", "Big Sky Outfitters", "Jordan Reyes")  # answers a
    add(MAYA, "+14065550003", "Answered", denver(15, 9), "Outgoing")  # answers c (Friday's review)
    add(MAYA, "+14065550002", "Sorry, fixed now", denver(15, 10), "Outgoing")  # answers b, raised Thursday
    add(JORDAN_NO, "+14065550004", "From another line", denver(16, 12), "Outgoing")  # not an answer to d
    add(MAYA, "+14065550001", "Sure", denver(18, 8), "Outgoing")  # answers e
    add(MAYA, "+14065550004", "Too late for Monday", denver(18, 17, 30), "Outgoing")  # after Monday's review
    return ids


def run_reviews(make_absence, step_context) -> list[dict]:
    absence = make_absence(start=START, end=END)
    timeline = step_context(absence).timeline
    records: list[dict] = []
    for review in timeline.reviews:
        records.append(sms_review(step_context(absence, records=Records({}, list(records)), review=review)))
    return records


def test_every_review_of_an_absence_raises_exactly_the_unanswered_texts(connections, slack, justcall,
                                                                       make_absence, step_context):
    ids = seed_texts(justcall)
    records = run_reviews(make_absence, step_context)
    assert [r["label"] for r in records] == ["2027-01-14", "2027-01-15", "2027-01-18", "2027-01-19",
                                             "2027-01-20 (return morning)"]

    def idset(r, key):
        return [t["id"] for t in r[key]]

    thu, fri, mon, tue, final = records
    assert idset(thu, "received") == [ids["a"], ids["b"]]
    assert idset(thu, "answered") == [ids["a"]] and idset(thu, "unanswered") == [ids["b"]]
    assert [t["text_id"] for t in thu["raised"]] == [ids["b"]]
    assert idset(fri, "received") == [ids["c"]]
    assert idset(fri, "answered") == [ids["c"], ids["b"]]  # b, raised Thursday, was answered Friday
    assert fri["unanswered"] == [] and fri["raised"] == []
    assert idset(mon, "received") == [ids["d"], ids["e"]]  # the weekend's texts
    assert idset(mon, "answered") == [ids["e"]] and idset(mon, "unanswered") == [ids["d"]]
    assert idset(tue, "received") == [ids["g"]] and idset(tue, "unanswered") == [ids["g"]]
    assert idset(tue, "answered") == [ids["d"]]  # answered after Monday's review
    assert idset(final, "received") == [ids["f"]] and idset(final, "unanswered") == [ids["f"]]
    everything = {t["id"] for r in records for t in r["received"]}
    assert ids["before"] not in everything and ids["other"] not in everything

    thu_b = thu["received"][1]
    assert thu_b == {"id": ids["b"], "contact_number": "+14065550002", "contact_name": "Teton Family Dental",
                     "at": "2027-01-14T16:00:00-07:00", "excerpt": "Website is down! Customers are calling."}
    assert len(final["received"][0]["excerpt"]) <= 161 and final["received"][0]["excerpt"].endswith("…")

    posted = alerts(slack)
    assert [m["metadata"]["event_payload"]["text_id"] for m in posted] == [str(ids[k]) for k in "bdgf"]
    assert [r["raised"][0]["slack_ts"] for r in (thu, mon, tue, final)] == [m["ts"] for m in posted]
    b, d, _, f = (m["text"] for m in posted)
    assert "*From:* Teton Family Dental (+14065550002)" in b and "*Received:* Thu Jan 14, 4:00 PM MST" in b
    assert "> Website is down! Customers are calling." in b and "Maya Patel's JustCall number* (+13075550101)" in b
    assert "tag <@U02JORDAN> (backup buddy)" in b and "Review of 2027-01-14." in b
    assert "Cody Auto Repair" in d and "Sat Jan 16, 11:00 AM MST" in d
    assert "&lt;b&gt;asap&lt;/b&gt;" in d and "<b>" not in d
    assert "Jackson Hole Yoga" in f and "Review of 2027-01-20 (return morning)." in f

    # the whole series again (a re-run, a cleared task): the same results, no new alerts
    again = run_reviews(make_absence, step_context)
    assert len(alerts(slack)) == 4
    assert again == records


def test_review_retry_after_a_partial_raise_posts_only_the_rest(connections, slack, justcall, make_absence,
                                                                 step_context):
    first = justcall.add_text(MAYA, "+14065550007", "first", denver(14, 9))
    second = justcall.add_text(MAYA, "+14065550008", "second", denver(14, 9, 5))
    absence = make_absence(start=START, end=END)
    review = step_context(absence).timeline.reviews[0]
    # a first try raised only the first text before failing
    ctx = step_context(absence, review=review)
    ts = ctx.services.slack.post_message(SUPPORT, "earlier try", metadata={
        "event_type": "ooo_sms_alert", "event_payload": {"key": ctx.key, "text_id": str(first)}})
    record = sms_review(step_context(absence, review=review))
    assert [(r["text_id"], r["slack_ts"] == ts) for r in record["raised"]] == [(first, True), (second, False)]
    assert [m["metadata"]["event_payload"]["text_id"] for m in alerts(slack)] == [str(first), str(second)]


# -- the failure alert -----------------------------------------------------------------------------
def test_failure_alert_tells_ops_which_absence_step_and_link(connections, slack):
    run_id = "absence__maya.patel@yellowstonelocal.com__2027-01-14__2027-01-19"
    ti = SimpleNamespace(task_id="sms_review", run_id=run_id, dag_id="ooo_absence", map_index=2,
                         rendered_map_index="2027-01-18", try_number=2,
                         log_url=f"http://airflow.example:8080/dags/ooo_absence/runs/{run_id}/tasks/sms_review/mapped/2")
    context = {"ti": ti, "params": {"employee": "maya.patel@yellowstonelocal.com", "start_date": "2027-01-14",
                                    "end_date": "2027-01-19"},
               "exception": RuntimeError("The Slack bot is not a member of #support-sms-queue: invite it <now>")}
    failure_alert(context)
    message = slack.messages(OPS)[-1]
    text = message["text"]
    assert text.startswith(":rotating_light: *OOO step failed: sms_review* for maya.patel@yellowstonelocal.com's "
                           "absence 2027-01-14 to 2027-01-19")
    assert f"*Run:* {run_id}" in text and "*Task:* sms_review (2027-01-18), try 2" in text
    assert "*Error:* The Slack bot is not a member of #support-sms-queue: invite it &lt;now&gt;" in text
    assert f"<{ti.log_url}|Open the task and its log in Airflow>" in text
    assert message["metadata"]["event_payload"]["task_id"] == "sms_review"


def test_failure_alert_builds_the_link_and_never_raises(connections, slack, monkeypatch):
    run_id = "absence__sam.okafor@yellowstonelocal.com__2027-02-01__2027-02-03"
    ti = SimpleNamespace(task_id="team_notice", run_id=run_id, dag_id="ooo_absence", map_index=-1, try_number=1)
    OpsAlert(channel=OPS)({"ti": ti, "dag_run": SimpleNamespace(run_id=run_id, conf={})})
    text = slack.messages(OPS)[-1]["text"]
    assert "for sam.okafor@yellowstonelocal.com's absence 2027-02-01 to 2027-02-03" in text
    assert re.search(rf"<https?://[^|>]+/dags/ooo_absence/runs/{re.escape(quote(run_id))}/tasks/team_notice\|", text)
    assert "*Task:* team_notice, try 1" in text
    # Slack failing must not raise out of the callback
    OpsAlert(channel="#no-such-channel")({"ti": ti})
