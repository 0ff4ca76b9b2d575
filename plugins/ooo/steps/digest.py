"""The return-day digest email."""

from __future__ import annotations

from typing import Any

from ooo.steps import StepContext


def return_digest(ctx: StepContext) -> dict[str, Any]:
    ctx.log.info("[not connected yet] would email %s the return digest", ctx.absence.employee.email)
    return {"connected": False, "would": "return digest email"}
