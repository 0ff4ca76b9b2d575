"""An absence's plan: what ``validate`` decided, and what changed since.

The plan is the ``validate`` task's XCom ``plan``: every later task reads it (once, through
:class:`ooo.run.AbsenceRun`), ``ooo_shorten`` replaces it with a shorter one, and the coverage
board, the CLI and cancel read it through the REST API. :meth:`Plan.from_dict` reads plans written
by earlier releases (a missing field takes its default).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ooo.absence import Absence
from ooo.procedure import Step
from ooo.team import Person, Team
from ooo.timeline import Timeline, plan_timeline

#: Where the plan lives: the XCom ``plan`` of the ``validate`` task.
PLAN_TASK, PLAN_KEY = Step.VALIDATE.value, "plan"


@dataclass(frozen=True)
class Change:
    """A change made to the filed absence: a new last day out, or the absence cancelled."""

    summary: str
    end: str = ""  # the new last day out
    was: str = ""
    by: str = ""
    at: str = ""
    kind: str = "shortened"  # "shortened" | "cancelled"

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> Change:
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: str(v) for k, v in raw.items() if k in known and v is not None})


@dataclass(frozen=True)
class Plan:
    absence: Absence
    timeline: Timeline
    warnings: tuple[str, ...] = ()  # for the approver: coverage
    changes: tuple[Change, ...] = ()
    code: str = ""  # the release that planned it
    dry_run: bool = False  # a preview: every later task skips
    preview: dict[str, Any] | None = field(default=None, compare=False)
    approver: Person | None = None  # who is asked to approve: the manager, or their deputy while they are out
    approver_why: str = ""  # why it is not the manager ("Allison Reed is out")

    @property
    def cancelled(self) -> Change | None:
        """The cancellation, if the absence was cancelled."""
        return next((c for c in self.changes if c.kind == "cancelled"), None)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"absence": self.absence.to_dict(), "timeline": self.timeline.to_dict(),
                               "code": self.code, "warnings": list(self.warnings)}
        if self.changes:
            out["changes"] = [c.to_dict() for c in self.changes]
        if self.dry_run:
            out.update(dry_run=True, preview=self.preview)
        if self.approver is not None:
            out.update(approver=dataclasses.asdict(self.approver), approver_why=self.approver_why)
        return out

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> Plan:
        return cls(
            absence=Absence.from_dict(raw["absence"]),
            timeline=Timeline.from_dict(raw["timeline"]),
            warnings=tuple(str(w) for w in raw.get("warnings") or ()),
            changes=tuple(Change.from_dict(c) for c in raw.get("changes") or () if isinstance(c, Mapping)),
            code=str(raw.get("code") or ""),
            dry_run=bool(raw.get("dry_run")),
            preview=raw.get("preview"),
            approver=Person.from_dict(raw["approver"]) if isinstance(raw.get("approver"), Mapping) else None,
            approver_why=str(raw.get("approver_why") or ""),
        )

    @property
    def asked(self) -> Person | None:
        """Who answers the approval: the approver chosen when planned (plans from before it: the manager)."""
        return self.approver or self.absence.manager

    def with_change(self, change: Change) -> Plan:
        return dataclasses.replace(self, changes=(*self.changes, change))

    def ending(self, new_end: dt.date, team: Team, change: Change) -> Plan:
        """This plan with the absence ending on ``new_end``, re-timed from when it was requested. The new
        last day is a whole day out (a morning off was the old last day's)."""
        absence = dataclasses.replace(self.absence, end=new_end, end_half="full")
        return dataclasses.replace(self, absence=absence, timeline=plan_timeline(absence, team, absence.requested_at),
                                   changes=(*self.changes, change))
