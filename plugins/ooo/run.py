"""One absence run as a task sees it, read once: the plan, the team, the steps' records, the approval.

Every task of an absence used to pull the plan XCom three or four times, the records twice and the
roster file each time. :class:`AbsenceRun` reads each at most once per task (lazily: a task that
never needs the records does not pull them), gives a step its :class:`~ooo.steps.StepContext`,
and keeps the run's note (:mod:`ooo.run_note`) from what it read. On a step's first try it pulls
only the records of the steps before it: a step after it cannot have run yet (each waits for the
one before), and each record pulled is a call to the API server.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from functools import cached_property
from typing import TYPE_CHECKING, Any

from ooo.plan import PLAN_KEY, PLAN_TASK, Plan
from ooo.procedure import STEPS, Step
from ooo.records import SINGLE_RECORD_STEPS, ApprovalAnswer, Record, Records
from ooo.run_note import clip, run_note
from ooo.services import Services
from ooo.steps.context import Log, StepContext
from ooo.team import Team, team_for_run
from ooo.timeline import Review

if TYPE_CHECKING:
    from ooo.airflow_api import AirflowApi

log = logging.getLogger(__name__)


class NotPlanned(LookupError):
    """The run has no plan: its ``validate`` task rejected it, or has not run."""


class AbsenceRun:
    """The absence run of a task's ``context``; each part read from Airflow when first used."""

    def __init__(self, context: Mapping[str, Any]):
        self.context = context
        self.ti = context["ti"]
        self.run_id: str = context["dag_run"].run_id
        self.dag_id: str = self.ti.dag_id

    @classmethod
    def from_context(cls, context: Mapping[str, Any]) -> AbsenceRun:
        return cls(context)

    @cached_property
    def raw_plan(self) -> dict[str, Any] | None:
        return self.ti.xcom_pull(task_ids=PLAN_TASK, key=PLAN_KEY)

    @cached_property
    def plan(self) -> Plan:
        if not self.raw_plan:
            raise NotPlanned(f"{self.run_id} has no plan: the absence was not validated")
        return Plan.from_dict(self.raw_plan)

    @cached_property
    def team(self) -> Team:
        return team_for_run()

    @property
    def try_number(self) -> int | None:
        """This task's try (1 the first time; more after a retry, or a clear by ops)."""
        number = getattr(self.ti, "try_number", None)
        return number if isinstance(number, int) else None

    def steps_done_so_far(self) -> tuple[Step, ...]:
        """The steps whose records this task may find: on a step's first try, those before it (and,
        for a daily review, the days before); otherwise, for a step this run's plan has no moment for
        (released after it was planned: it may run after the later steps), or for a task that is no
        step, every one."""
        try:
            mine = Step(self.ti.task_id)
        except ValueError:
            return STEPS
        if self.try_number != 1:
            return STEPS
        if mine not in (Step.VALIDATE, Step.SMS_REVIEW) and mine.value not in self.plan.timeline.moments:
            return STEPS  # a step a release inserted after this run was planned: the steps after it may be done
        return STEPS[:STEPS.index(mine) + (mine is Step.SMS_REVIEW)]

    @cached_property
    def records(self) -> Records:
        """The steps' records: one pull per step that keeps one and may have run, and one for every
        day's review."""
        done = self.steps_done_so_far()
        by_step = {step.value: self.ti.xcom_pull(task_ids=step.value) for step in SINGLE_RECORD_STEPS if step in done}
        reviews = self.ti.xcom_pull(task_ids=Step.SMS_REVIEW.value) if Step.SMS_REVIEW in done else None
        if isinstance(reviews, Mapping):  # Airflow unwraps a single value (every day's, in map-index order)
            reviews = [reviews]
        return Records.from_xcoms(by_step, [r for r in reviews or [] if r])

    @cached_property
    def approval(self) -> ApprovalAnswer | None:
        raw = self.ti.xcom_pull(task_ids=Step.APPROVAL.value)
        return ApprovalAnswer.from_dict(raw) if raw else None

    def step_context(self, review: Review | None = None, logger: Log = log,
                     now: Any = None) -> StepContext:
        """What a step function gets: the plan, the team, the clients and the earlier steps' records."""
        from airflow.sdk import timezone

        plan = self.plan
        return StepContext(absence=plan.absence, team=self.team, timeline=plan.timeline, run_id=self.run_id,
                           now=now or timezone.utcnow(), services=Services(), records=self.records,
                           review=review, log=logger, try_number=self.try_number)

    def note(self, *, answer: ApprovalAnswer | None = None, waiting: bool = False,
             current: tuple[Step, Record] | None = None) -> str:
        """The run's note now; ``current`` is the running task's own record (not in XCom yet)."""
        records = self.records.with_record(*current) if current else self.records
        if answer is None and self.ti.task_id != PLAN_TASK:
            answer = self.approval
        return run_note(self.plan, answer, records, waiting, team=self.team)

    @cached_property
    def api(self) -> AirflowApi | None:
        """Airflow's REST API as the ``ooo_airflow`` connection's user, one login per task; None without it."""
        from airflow.providers.common.compat.sdk import AirflowNotFoundException

        from ooo.airflow_api import AirflowApi

        try:
            return AirflowApi.from_connection()
        except AirflowNotFoundException:
            log.debug("No ooo_airflow connection: the run's notes are not kept")
            return None

    def keep_note(self, text: str | None = None, **facts: Any) -> None:
        """Rewrite the run's note (:meth:`note` with ``facts``, or ``text``); never fails a task.

        Written through the REST API (the ``ooo_airflow`` connection): without it the note is not kept.
        """
        try:
            if self.api is not None:
                self.api.set_note(self.run_id, clip(text or self.note(**facts)), dag_id=self.dag_id)
        except Exception:  # noqa: BLE001 - a note must never fail the step it describes
            log.warning("Could not write the run's note", exc_info=True)

    def keep_task_note(self, note: str) -> None:
        """The running task instance's note (what a waiting step waits for; "" clears it); never fails a task."""
        try:
            if self.api is not None:
                map_index = getattr(self.ti, "map_index", None)
                self.api.set_task_note(self.run_id, self.ti.task_id, -1 if map_index is None else map_index,
                                       clip(note), dag_id=self.dag_id)
        except Exception:  # noqa: BLE001 - a note must never fail the step it describes
            log.warning("Could not write the task's note", exc_info=True)
