"""Calendar and meeting cleanup (Google Calendar), right after approval."""

from __future__ import annotations

from typing import Any

from ooo.steps import StepContext


def calendar_cleanup(ctx: StepContext) -> dict[str, Any]:
    # Not connected yet: records what the step will do (the Google issue connects it).
    ctx.log.info("[not connected yet] would block %s..%s as out of office for %s and decline meetings",
                 ctx.absence.start, ctx.absence.end, ctx.absence.employee.email)
    return {"connected": False, "would": "out-of-office event, declines, reschedule emails"}
