"""Cancelling an absence: undo, from the steps' records, what the absence did (design §7).

The out-of-office block and the meetings it booked are deleted, the auto-reply it switched on is
switched off (never one it did not set), and a correction is threaded under the team notice and
the buddy's handover. Declines stay as they are: whether to go to each meeting after all is the
employee's call, so the record lists them.
"""

from __future__ import annotations

from typing import Any

from ooo.messages import render
from ooo.steps import StepContext
from ooo.steps.auto_reply import auto_reply_off
from ooo.steps.notices import mention, post_once

CANCELLED_EVENT = "ooo_absence_cancelled"
BOOKED = (("ooo_event_id", "none"), ("handover_event_id", "all"), ("coverage_review_event_id", "all"))


def cancel_absence(ctx: StepContext) -> dict[str, Any]:
    employee = ctx.absence.employee
    cleanup = ctx.records.get("calendar_cleanup")
    google = ctx.services.google(employee.email)
    deleted = []
    for key, send_updates in BOOKED:
        event_id = cleanup.get(key)
        if event_id and google.delete_event(event_id, send_updates=send_updates):
            deleted.append(event_id)
    ctx.log.info("deleted %d calendar events of the absence", len(deleted))
    auto_reply = None
    if ctx.records.get("auto_reply_on").get("enabled"):
        auto_reply = auto_reply_off(ctx)
    corrections = []
    for step, for_buddy in (("team_notice", False), ("buddy_handover", True)):
        posted = ctx.records.get(step)
        if posted.get("ts") and posted.get("channel"):
            text = render("cancellation_notice.slack", absence=ctx.absence, for_buddy=for_buddy,
                          employee_mention=mention(ctx, employee))
            corrections.append(post_once(ctx, posted["channel"], CANCELLED_EVENT, text,
                                         f"cancellation under the {step.replace('_', ' ')}",
                                         payload={"step": step}, key=f"{ctx.key}-{step}",
                                         thread_ts=posted["ts"]))
    return {
        "deleted_events": deleted,
        "auto_reply": auto_reply,
        "corrections": corrections,
        "left_declined": [m.get("summary", "") for m in cleanup.get("declined", [])],
    }
