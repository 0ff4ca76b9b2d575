"""The daily SMS reviews of a whole absence against the sandbox's JustCall and Slack: unanswered texts
raised to support once each, answered ones recorded for the digest."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from ooo.records import Records
from ooo.steps.sms_review import excerpt, sms_review

DENVER = ZoneInfo("America/Denver")
MAYA, JORDAN_NO = "+13075550101", "+13075550102"
SUPPORT = "#support-sms-queue"
# Thursday 2027-01-14 to Tuesday 2027-01-19: the reviews are Thu, Fri, Mon (catching the weekend),
# Tue at 17:00 Denver, and the return morning (Wed 08:30).
START, END = "2027-01-14", "2027-01-19"


def denver(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2027, 1, day, hour, minute, tzinfo=DENVER)


def alerts(slack) -> list[dict]:
    return [m for m in slack.messages(SUPPORT) if (m.get("metadata") or {}).get("event_type") == "ooo_sms_alert"]


# -- the daily SMS reviews ---------------------------------------------------------------------
def seed_texts(justcall) -> dict[str, int]:
    add = justcall.add_text
    ids = {
        "before": add(MAYA, "+14065550006", "Before the absence", denver(13, 12), contact_name="Early Bird"),
        "a": add(MAYA, "+14065550001", "Please add our weekend special", denver(14, 10),
                 contact_name="Big Sky Outfitters"),
        "b": add(MAYA, "+14065550002", "Website is down!\nCustomers are calling.", denver(14, 16),
                 contact_name="Teton Family Dental"),
        "c": add(MAYA, "+14065550003", "Evening question", denver(14, 18)),  # after Thursday's review
        "d": add(MAYA, "+14065550004", "Saturday: can you call me about the invoice <b>asap</b>?", denver(16, 11),
                 contact_name="Cody Auto Repair"),
        "e": add(MAYA, "+14065550001", "Sunday: one more thing", denver(17, 12), contact_name="Big Sky Outfitters"),
        # an earlier reply to this contact does not answer a new text
        "g": add(MAYA, "+14065550001", "Tuesday follow-up", denver(19, 12), contact_name="Big Sky Outfitters"),
        "f": add(MAYA, "+14065550005", "Tuesday night text " + "x" * 300, denver(19, 19),
                 contact_name="Jackson Hole Yoga"),
        "other": add(JORDAN_NO, "+14065550002", "To Jordan, who is in", denver(14, 11)),
    }
    add(MAYA, "+14065550001", "On it!", denver(14, 10, 30), "Outgoing", "Big Sky Outfitters",
        "Jordan Reyes")  # answers a
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
        context = step_context(absence, records=Records.from_xcoms({}, records), review=review)
        records.append(sms_review(context).to_dict())
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
                     "at": "2027-01-14T16:00:00-07:00", "excerpt": "Website is down! Customers are calling.",
                     "answered_at": None, "text_id": None, "slack_ts": None}
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
    record = sms_review(step_context(absence, review=review)).to_dict()
    assert [(r["text_id"], r["slack_ts"] == ts) for r in record["raised"]] == [(first, True), (second, False)]
    assert [m["metadata"]["event_payload"]["text_id"] for m in alerts(slack)] == [str(first), str(second)]


def test_excerpt_is_one_line_and_cut_at_a_word():
    assert excerpt("Website is down!\n\nCustomers   are calling.") == "Website is down! Customers are calling."
    long = "word " * 60
    cut = excerpt(long, limit=50)
    assert cut.endswith("…") and len(cut) <= 51 and "  " not in cut and not cut[:-1].endswith(" ")
