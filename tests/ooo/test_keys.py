"""The undo contract: the keys on calendars, mailboxes and Slack never change (runs in flight carry them)."""

from __future__ import annotations

from ooo import keys

RUN = "absence__maya.patel@yellowstonelocal.com__2026-12-07__2026-12-11"


def test_the_keys_of_a_run_are_what_earlier_releases_wrote():
    key = keys.run_key(RUN)
    assert key == "71669c829af7d62503a8"
    assert keys.event_id(key, "ooo") == "6018c17bf664f4de986597c885"
    assert keys.reschedule_message_id(key, "m1", "yellowstonelocal.com") == \
        "<ooo.71669c829af7d62503a8.ca0df2c95aa144c1@yellowstonelocal.com>"
    assert keys.meeting_stands_message_id(key, "m1", "yellowstonelocal.com") == \
        keys.email_message_id(key, "m1/stands", "yellowstonelocal.com")
    assert keys.digest_message_id(key, "yellowstonelocal.com") == (
        "<ooo-digest.71669c829af7d62503a8@yellowstonelocal.com>")
    assert keys.correction_key(key, "buddy", "-2026-12-08") == f"{key}-buddy-2026-12-08"
    assert keys.customer_notice_message_id(key, "Dana@BigSkyOutfitters.com ", "yellowstonelocal.com") == \
        keys.email_message_id(key, "customer/dana@bigskyoutfitters.com", "yellowstonelocal.com") == \
        "<ooo.71669c829af7d62503a8.7bc27a1ae4af9680@yellowstonelocal.com>"
    assert keys.customer_update_message_id(key, "dana@bigskyoutfitters.com", "yellowstonelocal.com", "cancelled") == \
        keys.email_message_id(key, "customer/dana@bigskyoutfitters.com/cancelled", "yellowstonelocal.com")


def test_event_ids_are_valid_calendar_ids():
    event = keys.event_id(keys.run_key(RUN), "handover")
    assert 5 <= len(event) <= 1024 and set(event) <= set("0123456789abcdefghijklmnopqrstuv")


def test_slack_event_types_are_the_ones_in_channels_today():
    assert {e.value for e in keys.SlackEvent} == {
        "ooo_team_notice", "ooo_buddy_handover", "ooo_voicemail_reminder", "ooo_approval_request", "ooo_not_approved",
        "ooo_sms_alert", "ooo_absence_cancelled", "ooo_absence_back_early", "ooo_failure_alert", "ooo_cc_notice",
        "ooo_visit_requests"}
