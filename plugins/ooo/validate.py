"""The ``validate`` task: the absence checked against the roster and the absences in flight, then planned.

A rejected absence fails here, before any side effect, with one line per problem in the task's log
and the run's note. An accepted one gets its plan (:class:`ooo.plan.Plan`, the XCom every later
task reads) and returns its review days (Airflow maps the daily ``sms_review`` over a return value).
"""

from __future__ import annotations

import datetime as dt
import logging
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from ooo.absence import (
    Absence,
    AbsenceRejected,
    AbsencesInFlight,
    coverage_warnings,
    filed_before,
    out_between,
    overlapping,
    parse_absence,
    which_in_flight,
)
from ooo.airflow_api import IN_FLIGHT
from ooo.plan import PLAN_KEY, PLAN_TASK, Plan
from ooo.records import Records
from ooo.release import code_version
from ooo.run import AbsenceRun
from ooo.run_note import run_note
from ooo.team import Person, Team
from ooo.templates import markdown_escape
from ooo.timeline import Timeline, plan_timeline

log = logging.getLogger(__name__)


def validate_absence(params: dict[str, Any], context: dict[str, Any]) -> list[dict[str, Any]]:
    """Check the absence; push its plan; return the days of its SMS reviews."""
    from airflow import __version__ as airflow_version
    from airflow.sdk import timezone

    run = AbsenceRun.from_context(context)
    ti, dag_run = run.ti, context["dag_run"]
    log.info("Airflow %s, %s", airflow_version, code_version())
    team = run.team
    requested_at = dag_run.logical_date or dag_run.run_after or timezone.utcnow()

    @cache
    def in_flight(start: dt.date, end: dt.date) -> list[str]:
        # One question lists the DAG's runs (each has a validate task); "how many of those that
        # share a day are in flight" is usually one more. (Asking about every run id a person's
        # overlapping absence could have took ~150 questions for a team of 50.)
        runs = ti.get_task_states(dag_id=ti.dag_id, task_ids=[PLAN_TASK])
        near = [a.run_id for a in overlapping(runs, start, end) if a.run_id != run.run_id]
        return which_in_flight(
            near, lambda ids: ti.get_dr_count(dag_id=ti.dag_id, run_ids=ids, states=list(IN_FLIGHT)))

    @cache
    def filed_at(run_id: str) -> Any:
        return _filed_at(run.dag_id, run_id)

    def filed_earlier(start: dt.date, end: dt.date) -> list[str]:
        """What can reject this absence: the absences in flight filed before it (not the ones after)."""
        return filed_before(in_flight(start, end), run.run_id, filed_at)

    try:
        absence = parse_absence(params, team, requested_at, filed_earlier,
                                filed_by=getattr(dag_run, "triggering_user_name", None))
    except AbsenceRejected as rejected:
        for problem in rejected.problems:
            log.error("Rejected: %s", problem)
        run.keep_note("**Rejected**, nothing was changed:\n\n" + "\n".join(
            f"- {markdown_escape(p)}" for p in rejected.problems))
        raise
    if run.run_id != absence.run_id:
        log.warning(
            "This run's id is %r; trigger absences with the run id %r (`ooo trigger` does) so that "
            "Airflow itself refuses the same absence twice.", run.run_id, absence.run_id,
        )
    timeline = plan_timeline(absence, team, requested_at)

    def buddy_of(run_id: str) -> str | None:
        other = ti.xcom_pull(task_ids=PLAN_TASK, key=PLAN_KEY, dag_id=ti.dag_id, run_id=run_id)
        return other["absence"]["buddy"]["email"] if other else None

    warnings = coverage_warnings(absence, team, in_flight, buddy_of)
    for warning in warnings:
        log.warning("Coverage: %s", warning)
    for name, moment in timeline.moments.items():
        log.info("%-18s %s%s", name, local(moment.at, timeline), f"  (skipped: {moment.skip})" if moment.skip else "")
    for review in timeline.reviews:
        log.info("%-18s %s", "sms_review", review.label)
    approver, approver_why = approver_for(absence, team, requested_at, in_flight)
    plan = Plan(absence, timeline, warnings=tuple(warnings), code=code_version(), approver=approver,
                approver_why=approver_why)
    if params.get("dry_run") is True:  # preview only: every later task skips, nothing changes
        from ooo.preview import dry_run, dry_run_note

        shown = dry_run(absence, timeline, requested_at, log)
        ti.xcom_push(key=PLAN_KEY, value=Plan(absence, timeline, plan.warnings, code=plan.code, dry_run=True,
                                              preview=shown.to_dict()).to_dict())
        run.keep_note(dry_run_note(shown))
        return []  # no review days: the mapped sms_review has nothing to expand
    ti.xcom_push(key=PLAN_KEY, value=plan.to_dict())
    run.keep_note(run_note(plan, None, Records(), team=team))  # nothing done yet
    return [r.to_dict() for r in timeline.reviews]


def approver_for(absence: Absence, team: Team, now: dt.datetime,
                 in_flight: AbsencesInFlight) -> tuple[Person | None, str]:
    """Who answers the approval: the employee's manager, or their deputy while the manager is out
    on the day it is asked (an absence of theirs in flight); and why, when it is the deputy."""
    manager = absence.manager
    if manager is None or absence.is_unexpected or absence.approved_by is not None:
        return manager, ""
    today = now.astimezone(manager.tz).date()
    out = out_between(manager.email, today, today, in_flight)
    deputy = team.person(manager.deputy) if manager.deputy else None
    if out is None or deputy is None or deputy.email == absence.employee.email:
        return manager, ""
    return deputy, f"{manager.name} is out until {out[1]}"


def _filed_at(dag_id: str, run_id: str) -> Any:
    """When Airflow created the run (its ``queued_at``), through the REST API; None when unknown."""
    from ooo.airflow_api import AirflowApi

    try:
        return AirflowApi.from_connection().run(run_id, dag_id=dag_id).get("queued_at")
    except Exception:  # noqa: BLE001 - unknown: the clash counts, as before this rule
        log.warning("Could not read when %s was filed: it counts as filed before this one", run_id, exc_info=True)
        return None


def local(moment: dt.datetime, timeline: Timeline) -> str:
    """``Mon 2026-12-07 00:00 MST``: a moment as the logs show it, in the employee's zone."""
    return moment.astimezone(ZoneInfo(timeline.timezone)).strftime("%a %Y-%m-%d %H:%M %Z")
