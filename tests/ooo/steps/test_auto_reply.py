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
