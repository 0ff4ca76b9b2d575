"""The procedure's steps: plain functions over a :class:`StepContext`, testable without Airflow.

Each step takes the context and returns a JSON-safe record of what it did (with the ids of what
it created, so a cancelled absence can be undone). The record becomes the step's XCom, and later
steps read it through :class:`Records`, defensively: a missing record means "nothing was done".
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ooo.absence import Absence
from ooo.team import Team
from ooo.timeline import Review, Timeline

if TYPE_CHECKING:
    from ooo.services import Services


#: Where the plan (absence + timeline) lives: the XCom ``plan`` of the ``validate`` task.
PLAN_TASK, PLAN_KEY = "validate", "plan"
#: Steps whose records later steps read (a missing one means "nothing was done").
RECORDED_STEPS = ("calendar_cleanup", "team_notice", "buddy_handover", "voicemail_reminder",
                  "auto_reply_on", "auto_reply_off", "return_digest")


class Records:
    """What earlier steps of this absence recorded."""

    def __init__(self, by_step: Mapping[str, Any] | None = None, reviews: Sequence[Any] = ()):
        self._by_step = dict(by_step or {})
        self._reviews = [r for r in reviews if isinstance(r, dict)]

    def get(self, step: str) -> dict[str, Any]:
        record = self._by_step.get(step)
        return record if isinstance(record, dict) else {}

    def reviews(self) -> list[dict[str, Any]]:
        return list(self._reviews)


@dataclass
class StepContext:
    absence: Absence
    team: Team
    timeline: Timeline
    run_id: str
    now: dt.datetime
    services: Services
    records: Records = field(default_factory=Records)
    review: Review | None = None
    log: logging.Logger = field(default_factory=lambda: logging.getLogger("ooo.steps"))

    @property
    def key(self) -> str:
        """A short deterministic key for this run's side effects (ids, metadata, Message-IDs)."""
        return run_key(self.run_id)


def run_key(run_id: str) -> str:
    """The key a run's side effects carry: a retry, a cancel or a check finds them by it."""
    import hashlib

    return hashlib.sha256(run_id.encode()).hexdigest()[:20]
