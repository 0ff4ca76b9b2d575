"""What a step function gets: the absence, the team, its timeline, the clients and the earlier steps' records."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from ooo.absence import Absence
from ooo.keys import run_key
from ooo.records import Records
from ooo.team import Team
from ooo.timeline import Review, Timeline

if TYPE_CHECKING:
    from ooo.services import Services


class Log(Protocol):
    """What a step logs with: the task's logger in Airflow, a standard one elsewhere."""

    def debug(self, msg: Any, /, *args: Any, **kwargs: Any) -> Any: ...
    def info(self, msg: Any, /, *args: Any, **kwargs: Any) -> Any: ...
    def warning(self, msg: Any, /, *args: Any, **kwargs: Any) -> Any: ...
    def error(self, msg: Any, /, *args: Any, **kwargs: Any) -> Any: ...


@dataclass
class StepContext:
    absence: Absence
    team: Team
    timeline: Timeline
    run_id: str
    now: dt.datetime
    services: Services
    records: Records = field(default_factory=Records)
    review: Review | None = None  # the day an ``sms_review`` instance reviews
    log: Log = field(default_factory=lambda: logging.getLogger("ooo.steps"))
    #: The task's try (Airflow's ``try_number``: 1 the first time, more on a retry or a clear); None
    #: when unknown, which keeps every write looking for its effect first.
    try_number: int | None = None

    @property
    def key(self) -> str:
        """The key this run's side effects carry (:mod:`ooo.keys`)."""
        return run_key(self.run_id)

    @property
    def first_try(self) -> bool:
        """Known to be the task's first try: no earlier try can have made its effects, so a write
        need not look for one first (a lost answer is still looked for: ``ooo.services.once``)."""
        return self.try_number == 1
