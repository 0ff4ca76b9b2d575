"""slack_status_on and slack_status_off against the sandbox's Slack: the status people see.

Maya Patel (CSM, America/Denver) is out Monday 2026-12-07 to Friday 2026-12-11, back Monday
2026-12-14 (the return steps at 08:30), Jordan Reyes covering. The ``ooo_slack_user`` connection
holds the workspace admin's user token (Allison Reed's); Maya's own user token is the sandbox's
member token, with which she changes her status herself.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import time

import pendulum
import pytest
import requests

from ooo.records import RecordedStatus, Records
from ooo.services import SLACK_USER_MISSING
from ooo.steps.back_early import back_early
from ooo.steps.cancel import cancel_absence
from ooo.steps.slack_status import slack_status_off, slack_status_on
from ooo.timeline import plan_timeline
from sandbox.apis.slack import MEMBER_USER_TOKEN, TOKEN

MAYA, MAYA_ID = "maya.patel@yellowstonelocal.com", "U02MAYA00"
OURS = "Out of office · back Mon Dec 14 · ask Jordan Reyes"


def denver(day: int, hour: int = 9, minute: int = 0) -> dt.datetime:
    return pendulum.datetime(2026, 12, day, hour, minute, tz="America/Denver")


def unix(moment: dt.datetime) -> int:
    return int(moment.timestamp())


def set_own_status(connections, text: str, emoji: str, expiration: dt.datetime | None = None) -> None:
    """Maya sets her own status, as her Slack app does (her user token)."""
    profile = {"status_text": text, "status_emoji": emoji,
               "status_expiration": unix(expiration) if expiration else 0}
    answer = requests.post(f"{connections.url}/slack/api/users.profile.set", json={"profile": profile},
                           headers={"Authorization": f"Bearer {MEMBER_USER_TOKEN}"}, timeout=10).json()
    assert answer["ok"], answer


def profile_sets(connections) -> int:
    return sum(r["api"] == "slack" and r["path"] == "/api/users.profile.set" for r in connections.sandbox.requests)


def user_connection(monkeypatch, token: str) -> None:
    import json
    import os

    conn = json.loads(os.environ["AIRFLOW_CONN_OOO_SLACK_USER"])
    monkeypatch.setenv("AIRFLOW_CONN_OOO_SLACK_USER", json.dumps({**conn, "password": token}))


@pytest.fixture
def maya_week(connections, make_absence):
    """Maya's planned week, and her own status before it: "Renewals week", with no end."""
    set_own_status(connections, "Renewals week", ":spiral_calendar_pad:")
    return make_absence(employee=MAYA, start="2026-12-07", end="2026-12-11")


def test_the_status_says_who_covers_until_the_return_and_the_one_before_comes_back(
        connections, slack, maya_week, step_context):
    on = slack_status_on(step_context(maya_week, now=denver(7, 0)))

    assert slack.status(MAYA_ID) == {"text": OURS, "emoji": ":palm_tree:", "expiration": unix(denver(14, 8, 30))}
    assert on.before == RecordedStatus("Renewals week", ":spiral_calendar_pad:", None)
    assert on.changed and on.user == MAYA_ID and on.skipped is None
    assert on.status == RecordedStatus(OURS, ":palm_tree:", denver(14, 8, 30).astimezone(dt.timezone.utc).isoformat())

    sets = profile_sets(connections)
    again = slack_status_on(step_context(maya_week, now=denver(7, 0, 5)))  # a retry: ours is already there
    assert profile_sets(connections) == sets and not again.changed
    assert again.before is None  # never ours as "the one before"

    off = slack_status_off(step_context(maya_week, now=denver(14, 8, 30), records=Records(slack_status_on=on)))

    assert slack.status(MAYA_ID) == {"text": "Renewals week", "emoji": ":spiral_calendar_pad:", "expiration": 0}
    assert off.put_back and off.left_alone is None and not off.changed_meanwhile
    sets = profile_sets(connections)
    twice = slack_status_off(step_context(maya_week, now=denver(14, 8, 31), records=Records(slack_status_on=on)))
    assert profile_sets(connections) == sets and not twice.put_back and twice.left_alone == "already back as it was"
    assert slack.status(MAYA_ID)["text"] == "Renewals week"


def test_on_return_a_status_whose_own_end_has_passed_is_not_put_back(connections, slack, make_absence,
                                                                     step_context):
    set_own_status(connections, "In a QBR", ":handshake:", expiration=denver(7, 10))  # ends on the first day out
    absence = make_absence(employee=MAYA, start="2026-12-07", end="2026-12-11")
    on = slack_status_on(step_context(absence, now=denver(7, 0)))
    assert on.before == RecordedStatus("In a QBR", ":handshake:", denver(7, 10).astimezone(dt.timezone.utc).isoformat())

    off = slack_status_off(step_context(absence, now=denver(14, 8, 30), records=Records(slack_status_on=on)))

    assert slack.status(MAYA_ID) == {"text": "", "emoji": "", "expiration": 0} and off.put_back


def test_a_status_the_person_changed_while_out_is_left_alone(connections, slack, maya_week, step_context):
    on = slack_status_on(step_context(maya_week, now=denver(7, 0)))
    set_own_status(connections, "Back Wednesday, ask Jordan", ":sunglasses:")  # Maya, from the beach

    off = slack_status_off(step_context(maya_week, now=denver(14, 8, 30), records=Records(slack_status_on=on)))

    assert slack.status(MAYA_ID) == {"text": "Back Wednesday, ask Jordan", "emoji": ":sunglasses:", "expiration": 0}
    assert not off.put_back and off.changed_meanwhile
    assert off.left_alone == "Maya Patel changed it meanwhile: left as they set it"


def test_a_status_the_person_cleared_before_its_end_stays_cleared(connections, slack, maya_week, step_context):
    on = slack_status_on(step_context(maya_week, now=denver(7, 0)))
    set_own_status(connections, "", "")
    ctx = step_context(maya_week, now=denver(10, 12), records=Records(slack_status_on=on))

    done = cancel_absence(ctx)  # Wednesday: cancelled, and Maya had already cleared ours herself

    assert slack.status(MAYA_ID)["text"] == "" and not done.status_put_back


def test_slack_clears_ours_at_its_expiration_and_the_one_before_comes_back(connections, slack, maya_week,
                                                                        step_context):
    on = slack_status_on(step_context(maya_week, now=denver(7, 0)))
    slack.users[MAYA_ID]["profile"]["status_expiration"] = int(time.time()) - 1  # the return moment comes
    assert slack.status(MAYA_ID)["text"] == ""  # Slack cleared it

    off = slack_status_off(step_context(maya_week, now=denver(14, 8, 31), records=Records(slack_status_on=on)))

    assert slack.status(MAYA_ID)["text"] == "Renewals week" and off.put_back


def test_a_cancel_puts_the_one_before_back_while_ours_is_set(connections, slack, maya_week, step_context):
    on = slack_status_on(step_context(maya_week, now=denver(7, 0)))

    done = cancel_absence(step_context(maya_week, now=denver(8, 12), records=Records(slack_status_on=on)))

    assert slack.status(MAYA_ID) == {"text": "Renewals week", "emoji": ":spiral_calendar_pad:", "expiration": 0}
    assert done.status_put_back
    again = cancel_absence(step_context(maya_week, now=denver(8, 13), records=Records(slack_status_on=on)))
    assert not again.status_put_back and slack.status(MAYA_ID)["text"] == "Renewals week"


def test_a_cancel_finds_ours_without_the_steps_record(connections, slack, maya_week, step_context):
    # slack_status_on set the status, then was stopped before its record was kept: ours is found by its text
    slack_status_on(step_context(maya_week, now=denver(7, 0)))

    done = cancel_absence(step_context(maya_week, now=denver(8, 12)))

    assert done.status_put_back and slack.status(MAYA_ID)["text"] == ""  # the one before is not known: cleared


def test_a_cancel_before_the_first_day_leaves_the_persons_status(connections, slack, maya_week, step_context):
    done = cancel_absence(step_context(maya_week, now=denver(4, 12)))
    assert not done.status_put_back and slack.status(MAYA_ID)["text"] == "Renewals week"


def test_coming_back_early_moves_the_return_day_and_the_expiration(connections, slack, maya_week, step_context,
                                                                 team):
    on = slack_status_on(step_context(maya_week, now=denver(7, 0)))
    was = step_context(maya_week, now=denver(8, 12), records=Records(slack_status_on=on))
    shorter = dataclasses.replace(maya_week, end=dt.date(2026, 12, 8))  # back Wednesday instead of next Monday
    now = dataclasses.replace(was, absence=shorter, timeline=plan_timeline(shorter, team, maya_week.requested_at))

    done = back_early(now, was)

    assert done.status_updated
    assert slack.status(MAYA_ID) == {"text": "Out of office · back Wed Dec 9 · ask Jordan Reyes",
                                     "emoji": ":palm_tree:", "expiration": unix(denver(9, 8, 30))}
    sets = profile_sets(connections)
    assert not back_early(now, was).status_updated and profile_sets(connections) == sets  # a retry: nothing twice

    off = slack_status_off(dataclasses.replace(now, now=denver(9, 8, 30)))
    assert off.put_back and slack.status(MAYA_ID)["text"] == "Renewals week"


def test_coming_back_early_leaves_a_status_the_person_set(connections, slack, maya_week, step_context, team):
    on = slack_status_on(step_context(maya_week, now=denver(7, 0)))
    set_own_status(connections, "Skiing", ":ski:")
    was = step_context(maya_week, now=denver(8, 12), records=Records(slack_status_on=on))
    shorter = dataclasses.replace(maya_week, end=dt.date(2026, 12, 8))

    done = back_early(dataclasses.replace(was, absence=shorter,
                                          timeline=plan_timeline(shorter, team, maya_week.requested_at)), was)

    assert not done.status_updated and slack.status(MAYA_ID)["text"] == "Skiing"


def test_an_unexpected_absence_says_the_return_is_expected(connections, slack, make_absence, step_context):
    logged = denver(7, 10)
    absence = make_absence(employee=MAYA, start="2026-12-07", end="2026-12-08", kind="unexpected", requested_at=logged)
    slack_status_on(step_context(absence, now=logged))
    assert slack.status(MAYA_ID)["text"] == "Out of office · back Wed Dec 9 (expected) · ask Jordan Reyes"


def test_a_long_buddy_name_is_shortened_to_fit_slacks_100_characters(connections, slack, maya_week,
                                                                     step_context):
    buddy = dataclasses.replace(maya_week.buddy, name="Jordan " + "Alexander-" * 9 + "Reyes")
    slack_status_on(step_context(dataclasses.replace(maya_week, buddy=buddy), now=denver(7, 0)))
    assert slack.status(MAYA_ID)["text"] == "Out of office · back Mon Dec 14 · ask Jordan"


def test_without_the_connection_every_status_step_skips_and_says_why(connections, slack, maya_week, step_context,
                                                                      monkeypatch):
    monkeypatch.delenv("AIRFLOW_CONN_OOO_SLACK_USER")
    asked = len(connections.sandbox.requests)

    on = slack_status_on(step_context(maya_week, now=denver(7, 0)))
    off = slack_status_off(step_context(maya_week, now=denver(14, 8, 30), records=Records(slack_status_on=on)))
    cancelled = cancel_absence(step_context(maya_week, now=denver(8, 12), records=Records(slack_status_on=on)))

    assert on.skipped == off.skipped == SLACK_USER_MISSING
    assert "no ooo_slack_user connection" in SLACK_USER_MISSING and "users.profile:write" in SLACK_USER_MISSING
    assert not cancelled.status_put_back
    assert slack.status(MAYA_ID)["text"] == "Renewals week"
    assert not any(r["path"].startswith("/api/users.profile") for r in list(connections.sandbox.requests)[asked:])


@pytest.mark.parametrize(("token", "why"), [
    (MEMBER_USER_TOKEN, "Only a Slack workspace admin may set another person's status"),  # not an admin's
    (TOKEN, "lacks the scope users.profile:read"),  # the bot's token in the user connection
])
def test_a_token_slack_refuses_is_said_and_the_absence_goes_on(connections, slack, make_absence, step_context,
                                                               monkeypatch, token, why):
    user_connection(monkeypatch, token)
    absence = make_absence(employee="jordan.reyes@yellowstonelocal.com", start="2026-12-07", end="2026-12-11")

    on = slack_status_on(step_context(absence, now=denver(7, 0)))

    assert on.skipped is not None and why in on.skipped and on.status is None
    assert slack.status(slack.user_id("jordan.reyes@yellowstonelocal.com"))["text"] == ""


def test_nothing_is_set_once_the_person_is_back(connections, slack, maya_week, step_context):
    on = slack_status_on(step_context(maya_week, now=denver(14, 9)))  # a run caught up after the return
    assert on.skipped == "Maya Patel was back by Mon Dec 14, 8:30 AM MST: no status to set"
    assert slack.status(MAYA_ID)["text"] == "Renewals week"
