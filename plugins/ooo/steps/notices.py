"""What the seeds ask people to tell: the team notice, the buddy's handover, the voicemail script."""

from __future__ import annotations

from typing import Any

from ooo.steps import StepContext


def team_notice(ctx: StepContext) -> dict[str, Any]:
    ctx.log.info("[not connected yet] would post the OOO notice to %s", ctx.team.channels["team_notice"])
    return {"connected": False, "would": "team notice"}


def buddy_handover(ctx: StepContext) -> dict[str, Any]:
    ctx.log.info("[not connected yet] would DM %s the handover", ctx.absence.buddy.email)
    return {"connected": False, "would": "buddy handover DM"}


def voicemail_reminder(ctx: StepContext) -> dict[str, Any]:
    ctx.log.info("[not connected yet] would DM %s the voicemail script", ctx.absence.employee.email)
    return {"connected": False, "would": "voicemail script DM"}
