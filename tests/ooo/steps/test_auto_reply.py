"""auto_reply_on and auto_reply_off against the sandbox's Gmail."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from ooo.steps.auto_reply import auto_reply_off, auto_reply_on

MAYA = "maya.patel@yellowstonelocal.com"
JORDAN = "jordan.reyes@yellowstonelocal.com"
DENVER = ZoneInfo("America/Denver")


def test_auto_reply_on_then_off(google, make_absence, step_context):
    absence = make_absence()
    ctx = step_context(absence)

    on = auto_reply_on(ctx)

    settings = google.vacation(MAYA)
    assert settings["enableAutoReply"] is True
    assert settings["startTime"] == str(int(dt.datetime(2026, 12, 7, tzinfo=DENVER).timestamp() * 1000))
    assert settings["endTime"] == str(int(dt.datetime(2026, 12, 14, tzinfo=DENVER).timestamp() * 1000))
    assert settings["responseSubject"] == "Out of office until Monday, December 14, 2026"
    text, body_html = settings["responseBodyPlainText"], settings["responseBodyHtml"]
    assert text.startswith("Hi there,\n\nI am currently out of office and will return on Monday, December 14, 2026.")
    for part in (text, body_html):
        assert "support@yellowstonelocal.com" in part
        assert "Jordan Reyes" in part and JORDAN in part
        assert "Upon my return, I will circle back with you" in part
    assert text.rstrip().endswith("Best Regards,\n\nMaya Patel\nYellowstone Local")
    assert on.changed is True
    assert auto_reply_on(step_context(absence)).changed is False  # idempotent
    assert google.vacation(MAYA) == settings

    off = auto_reply_off(step_context(absence))

    assert google.vacation(MAYA)["enableAutoReply"] is False
    assert (off.enabled, off.changed, off.verified) == (False, True, True)
    assert auto_reply_off(step_context(absence)).changed is False


def test_half_days_bound_the_responder_at_the_split_and_say_when_back(google, make_absence, step_context):
    absence = make_absence(start="2026-12-07", end="2026-12-11", start_half="afternoon", end_half="morning")
    on = auto_reply_on(step_context(absence))
    settings = google.vacation(MAYA)
    assert settings["startTime"] == str(int(dt.datetime(2026, 12, 7, 12, tzinfo=DENVER).timestamp() * 1000))
    assert settings["endTime"] == str(int(dt.datetime(2026, 12, 11, 12, tzinfo=DENVER).timestamp() * 1000))
    assert settings["responseSubject"] == "Out of office until Friday, December 11, 2026 at 12:00 PM MST"
    assert settings["responseBodyPlainText"].startswith(
        "Hi there,\n\nI am currently out of office and will return on Friday, December 11, 2026 at 12:00 PM MST.")
    assert (on.start, on.end) == ("2026-12-07T12:00:00-07:00", "2026-12-11T12:00:00-07:00")


def test_a_client_visit_says_visiting_a_client_without_naming_it(google, make_absence, step_context):
    absence = make_absence(kind="client_visit", client_company="bigskyoutfitters.com")
    auto_reply_on(step_context(absence))
    settings = google.vacation(MAYA)
    assert settings["responseSubject"] == "Visiting a client until Monday, December 14, 2026"
    for part in (settings["responseBodyPlainText"], settings["responseBodyHtml"]):
        assert "I am currently visiting a client and will return on" in part
        assert "bigsky" not in part.lower()  # other customers read it: the client is not named
