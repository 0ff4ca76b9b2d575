"""The Gmail vacation responder: on at the start, off (and verified) on return.

The message is the seed's "Out of Office Message" (return date, support contact, the backup
buddy, the employee's signature), in HTML and plain text. ``startTime``/``endTime`` bound it to
the absence, so it stops on the return morning even if switching it off were to fail. Both steps
read the settings first and change nothing that is already as wanted.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from ooo.records import AutoReplyOff, AutoReplyOn
from ooo.steps.context import StepContext
from ooo.templates import days_out, render, split_subject

#: Fields compared to decide whether the responder is already as wanted (Gmail sanitises the HTML,
#: so it is not compared).
_COMPARED = ("enableAutoReply", "responseSubject", "responseBodyPlainText", "startTime", "endTime")


class AutoReplyStillOn(RuntimeError):
    """Gmail still reports the responder on after it was switched off."""


def _epoch_ms(moment: dt.datetime) -> str:
    return str(int(moment.timestamp() * 1000))


def desired_settings(ctx: StepContext) -> dict[str, Any]:
    absence = ctx.absence
    context = {"employee": absence.employee, "buddy": absence.buddy, "back": days_out(absence, ctx.timeline).back,
               "support_email": ctx.team.support_email, "company": ctx.team.company,
               "expected": absence.is_unexpected,  # out sick: the return date is a guess
               "visit": absence.is_client_visit}  # visiting a client, not on leave (the client is not named)
    subject, text = split_subject(render("auto_reply.txt", **context))
    return {
        "enableAutoReply": True,
        "responseSubject": subject,
        "responseBodyPlainText": text,
        "responseBodyHtml": render("auto_reply.html", **context),
        "restrictToContacts": False,
        "restrictToDomain": False,
        "startTime": _epoch_ms(ctx.timeline.out_from),
        "endTime": _epoch_ms(ctx.timeline.back_at),
    }


def _same(current: dict[str, Any], wanted: dict[str, Any]) -> bool:
    return all(str(current.get(k, "")).strip() == str(wanted.get(k, "")).strip() for k in _COMPARED)


def is_ours(ctx: StepContext, current: dict[str, Any]) -> bool:
    """The responder is on, and still the one this absence set (not one the employee wrote)."""
    return bool(current.get("enableAutoReply")) and _same(current, desired_settings(ctx))


def auto_reply_on(ctx: StepContext) -> AutoReplyOn:
    employee = ctx.absence.employee
    google = ctx.services.google(employee.email)
    wanted = desired_settings(ctx)
    current = google.get_vacation()
    changed = not _same(current, wanted)
    if changed:
        current = google.update_vacation(wanted)
        ctx.log.info("vacation responder on for %s until %s", employee.email, ctx.timeline.back_at.isoformat())
    else:
        ctx.log.info("vacation responder already on for %s", employee.email)
    if not current.get("enableAutoReply"):
        raise RuntimeError(f"Gmail did not switch on {employee.email}'s vacation responder.")
    return AutoReplyOn(enabled=True, changed=changed, subject=wanted["responseSubject"],
                       start=ctx.timeline.out_from.isoformat(), end=ctx.timeline.back_at.isoformat(),
                       start_time_ms=wanted["startTime"], end_time_ms=wanted["endTime"])


def auto_reply_off(ctx: StepContext) -> AutoReplyOff:
    employee = ctx.absence.employee
    google = ctx.services.google(employee.email)
    current = google.get_vacation()
    changed = bool(current.get("enableAutoReply"))
    if changed:
        google.update_vacation({**current, "enableAutoReply": False})
    after = google.get_vacation()  # read back: the digest says it is off only if Gmail says so
    if after.get("enableAutoReply"):
        raise AutoReplyStillOn(f"{employee.email}'s vacation responder is still on after switching it off: "
                               "turn it off in Gmail (Settings > Vacation responder) and clear this task.")
    ctx.log.info("vacation responder %s for %s", "switched off" if changed else "already off", employee.email)
    return AutoReplyOff(enabled=False, changed=changed, verified=True)
