"""The Gmail vacation responder: on at the start, off (and verified) on return."""

from __future__ import annotations

from typing import Any

from ooo.steps import StepContext


def auto_reply_on(ctx: StepContext) -> dict[str, Any]:
    ctx.log.info("[not connected yet] would switch on %s's auto-reply until %s",
                 ctx.absence.employee.email, ctx.timeline.return_day)
    return {"connected": False, "would": "vacation responder on"}


def auto_reply_off(ctx: StepContext) -> dict[str, Any]:
    ctx.log.info("[not connected yet] would switch off %s's auto-reply", ctx.absence.employee.email)
    return {"connected": False, "would": "vacation responder off"}
