"""The daily review of the employee's JustCall SMS queue."""

from __future__ import annotations

from typing import Any

from ooo.steps import StepContext


def sms_review(ctx: StepContext) -> dict[str, Any]:
    review = ctx.review
    assert review is not None, "sms_review runs once per review in the timeline"
    ctx.log.info("[not connected yet] would review texts to %s from %s to %s",
                 ctx.absence.employee.justcall_number, review.since, review.at)
    return {"connected": False, "day": review.day.isoformat(), "since": review.since.isoformat(),
            "until": review.at.isoformat()}
