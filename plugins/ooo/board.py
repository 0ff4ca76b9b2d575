"""The coverage board: who is out today and in the next 30 days, who covers them, and how far along.

One row per absence run whose days touch the window, from the run's plan (the ``validate``
task's XCom, so a shortened absence shows its new end), its approval answer and its task
states. The state is judged on today's date in the employee's own time zone:

* ``awaiting approval``: a planned absence its approver has not answered yet (the row says who, and by when);
* ``approved``: approved (or needing no approval), the team not told yet;
* ``announced``: the team notice is out, the first day not yet here;
* ``out``: today is one of the days out;
* ``back``: the last day out is over (the return steps run on the first working day back);
* ``failed``: a step broke (ops were alerted): the person may well be out; see the run;
* ``cancelled``, ``rejected``: nobody is out; listed apart from who is out, with by whom.

Absences filed as a dry run are not on the board. :func:`board_rows` is pure; :func:`read_runs`
reads the runs through Airflow's ORM, as the API server's own routes do (the board is served
inside the API server).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from ooo.absence import Absence
from ooo.airflow_api import DAG_ID
from ooo.plan import PLAN_KEY, PLAN_TASK, Plan
from ooo.procedure import Step
from ooo.records import ApprovalAnswer
from ooo.run_note import responder
from ooo.team import Team
from ooo.templates import month_day
from ooo.timeline import Timeline

#: Days after today the board looks ahead.
WINDOW_DAYS = 30
#: A finished run older than this cannot concern today: its absence was over when it ended.
FINISHED_WITHIN = dt.timedelta(days=WINDOW_DAYS + 2)
APPROVAL_TASK, NOTICE_TASK = Step.APPROVAL.value, Step.TEAM_NOTICE.value


@dataclass(frozen=True)
class RunFacts:
    """What the board needs of one absence run."""

    run_id: str
    state: str  # the run's state: queued, running, success, failed
    plan: Mapping[str, Any] | None  # the validate task's plan XCom; None if never planned
    answer: Mapping[str, Any] | None = None  # the approval task's XCom (the manager's answer)
    tasks: Mapping[str, str | None] = field(default_factory=dict)  # unmapped task id -> state


#: States in which nobody is out: listed apart from who is out.
NOT_HAPPENING = ("cancelled", "rejected")


@dataclass(frozen=True)
class Row:
    absence: Absence
    return_day: dt.date
    today: dt.date  # in the employee's zone
    state: str
    run_id: str
    run_url: str
    detail: str = ""  # "Allison Reed, by Dec 7", "by Ops on Dec 3", "no answer by Dec 7"
    timeline: Timeline | None = None  # the plan's: half days' times

    @property
    def out_today(self) -> bool:
        return self.state not in NOT_HAPPENING and self.absence.start <= self.today <= self.absence.end

    @property
    def happening(self) -> bool:
        return self.state not in NOT_HAPPENING


def run_url(run_id: str, base: str = "") -> str:
    """The run's page in the Airflow UI (its grid of steps)."""
    return f"{base.rstrip('/')}/dags/{DAG_ID}/runs/{quote(run_id, safe='')}"


def absence_state(facts: RunFacts, plan: Plan, today: dt.date, team: Team | None = None) -> tuple[str, str]:
    """The absence's state on ``today`` (employee's zone), and by whom / until when where it matters."""
    absence, timeline = plan.absence, plan.timeline
    if cancelled := plan.cancelled:
        by = (team.name_of(cancelled.by) if team else None) or cancelled.by or "ops"
        return "cancelled", f"by {by}" + (f" on {month_day(cancelled.at)}" if cancelled.at else "")
    answer = ApprovalAnswer.from_dict(facts.answer) if facts.answer else None
    approved = absence.is_unexpected or absence.approved_by is not None or bool(answer and answer.approved)
    if answer is not None and (answer.chosen_options or answer.timedout) and not approved:
        if answer.timedout:
            return "rejected", f"no answer by {month_day(timeline.approval_deadline)}"
        return "rejected", f"by {responder(answer, plan, team)}"
    if facts.state == "failed":
        return "failed", "a step broke: see the run"
    if not approved:
        if facts.tasks.get(APPROVAL_TASK) in ("success", "skipped", "failed") or facts.state == "success":
            return "rejected", "not approved"  # ended without an answer the board can read
        asked = plan.asked.name if plan.asked else "the manager"
        return "awaiting approval", f"{asked}, by {month_day(timeline.approval_deadline)}"
    if today > absence.end:
        return "back", ""
    if today >= absence.start:
        return "out", ""
    return ("announced" if facts.tasks.get(NOTICE_TASK) == "success" else "approved"), ""


def board_rows(runs: Iterable[RunFacts], now: dt.datetime, base_url: str = "",
               days: int = WINDOW_DAYS, team: Team | None = None) -> list[Row]:
    """The board on ``now`` (aware): absences out on some day of today..today+``days``, or not back yet.

    "Today" is each employee's own date; rows come by first day out, then name.
    """
    rows = []
    for facts in runs:
        if not facts.plan or facts.plan.get("dry_run"):
            continue
        plan = Plan.from_dict(facts.plan)
        absence, timeline = plan.absence, plan.timeline
        today = now.astimezone(ZoneInfo(timeline.timezone)).date()
        if absence.start > today + dt.timedelta(days=days) or timeline.return_day < today:
            continue
        state, detail = absence_state(facts, plan, today, team)
        rows.append(Row(absence, timeline.return_day, today, state, facts.run_id, run_url(facts.run_id, base_url),
                        detail, timeline))
    return sorted(rows, key=lambda r: (r.absence.start, r.absence.employee.name, r.run_id))


def read_runs(session: Any, now: dt.datetime) -> list[RunFacts]:
    """The absence runs that can be on the board today, read through Airflow's ORM in ``session``.

    Runs in flight, and runs finished in the last :data:`FINISHED_WITHIN`; with, for each, its
    plan, its approval answer and its unmapped task states (three queries in all).
    """
    from airflow.models import DagRun, TaskInstance
    from airflow.models.xcom import XComModel
    from sqlalchemy import or_, select

    runs = session.execute(
        select(DagRun.run_id, DagRun.state).where(
            DagRun.dag_id == DAG_ID,
            or_(DagRun.state.in_(("queued", "running")), DagRun.end_date >= now - FINISHED_WITHIN),
        )
    ).all()
    run_ids = [r.run_id for r in runs]
    if not run_ids:
        return []
    xcoms: dict[tuple[str, str], Any] = {}
    for row in session.execute(
        select(XComModel).where(
            XComModel.dag_id == DAG_ID, XComModel.run_id.in_(run_ids), XComModel.map_index == -1,
            or_((XComModel.task_id == PLAN_TASK) & (XComModel.key == PLAN_KEY),
                (XComModel.task_id == APPROVAL_TASK) & (XComModel.key == "return_value")),
        )
    ).scalars():
        xcoms[(row.run_id, row.task_id)] = XComModel.deserialize_value(row)
    tasks: dict[str, dict[str, str | None]] = {}
    for run_id, task_id, state in session.execute(
        select(TaskInstance.run_id, TaskInstance.task_id, TaskInstance.state).where(
            TaskInstance.dag_id == DAG_ID, TaskInstance.run_id.in_(run_ids), TaskInstance.map_index == -1,
            TaskInstance.task_id.in_((APPROVAL_TASK, NOTICE_TASK)),
        )
    ).all():
        tasks.setdefault(run_id, {})[task_id] = str(state) if state is not None else None
    return [RunFacts(r.run_id, str(r.state), xcoms.get((r.run_id, PLAN_TASK)),
                     xcoms.get((r.run_id, APPROVAL_TASK)), tasks.get(r.run_id, {})) for r in runs]
