"""Airflow's side of an absence: validating the params, the manager's approval, dated steps.

The DAG file wires these; the procedure itself lives in :mod:`ooo.steps` (no Airflow there).

* :func:`validate` turns the run's params into the plan (absence + timeline) every later task
  reads from XCom, or rejects the absence before anything is touched.
* :class:`ManagerApproval` asks the manager in the Airflow UI (human-in-the-loop); an unexpected
  absence skips it, an approval recorded when filing (``approved_by``) stands for it, and no
  answer by the start of the absence counts as a rejection. The employee is told why.
* :class:`AbsenceStep` waits, deferred (no worker slot, one trigger), until its moment in the
  timeline, then runs one step function. A moment already past runs at once (catch-up); a step
  the timeline marks as lapsed is skipped with the reason.
* :func:`keep_note` rewrites the run's note (who, when, buddy, approval, what was done) after
  every task, so ops see each absence at a glance in the runs list.
"""

from __future__ import annotations

import datetime as dt
import logging
import subprocess
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from airflow.providers.common.compat.sdk import AirflowNotFoundException, AirflowSkipException
from airflow.providers.standard.operators.hitl import ApprovalOperator
from airflow.providers.standard.triggers.temporal import DateTimeTrigger
from airflow.sdk import BaseOperator, Param, Variable, timezone
from airflow.sdk.configuration import conf
from airflow.sdk.definitions.param import ParamsDict

import ooo
from ooo.absence import (AbsenceRejected, absence_from_dict, coverage_warnings, overlapping, parse_absence,
                         which_in_flight)
from ooo.airflow_api import IN_FLIGHT, AirflowApi
from ooo.messages import long_date, markdown_escape, render
from ooo.notes import approval_state, clip, plan_note
from ooo.services import Services
from ooo.steps import PLAN_KEY, PLAN_TASK, RECORDED_STEPS, Records, StepContext
from ooo.steps.notices import ask_manager, tell_employee_not_approved
from ooo.team import Team, load_team
from ooo.timeline import Review, Timeline, plan_timeline, timeline_from_dict

log = logging.getLogger(__name__)

TEAM_FILE_VARIABLE = "ooo_team_file"

Step = Callable[[StepContext], dict[str, Any]]


def team_for_run() -> Team:
    """The roster: the Airflow Variable ``ooo_team_file`` if set, else ``OOO_TEAM_FILE`` or the sample."""
    return load_team(Variable.get(TEAM_FILE_VARIABLE, default=None))


@cache
def code_version() -> str:
    here = Path(__file__).resolve().parent
    try:
        sha = subprocess.run(["git", "-C", str(here), "rev-parse", "--short", "HEAD"],
                             capture_output=True, text=True, timeout=5).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        sha = ""
    return f"ooo-pipelines {ooo.__version__}" + (f" ({sha})" if sha else "")


def validate(params: dict[str, Any], context: dict[str, Any]) -> list[dict[str, Any]]:
    """Check the absence against the roster and the other absences in flight.

    The plan (absence + timeline) goes to the XCom key ``plan``, which every later task reads;
    the return value is the list of SMS reviews, which the daily review task is mapped over
    (Airflow maps only over return values).
    """
    from airflow import __version__ as airflow_version

    ti = context["ti"]
    dag_run = context["dag_run"]
    log.info("Airflow %s, %s", airflow_version, code_version())
    team = team_for_run()
    requested_at = dag_run.logical_date or dag_run.run_after or timezone.utcnow()

    @cache
    def in_flight(start: dt.date, end: dt.date) -> list[str]:
        # One question lists the DAG's runs (each has a validate task); "how many of those that
        # share a day are in flight" is usually one more. (Asking about every run id a person's
        # overlapping absence could have took ~150 questions for a team of 50.)
        runs = ti.get_task_states(dag_id=ti.dag_id, task_ids=[PLAN_TASK])
        near = [a.run_id for a in overlapping(runs, start, end) if a.run_id != dag_run.run_id]
        return which_in_flight(
            near, lambda ids: ti.get_dr_count(dag_id=ti.dag_id, run_ids=ids, states=list(IN_FLIGHT)))

    try:
        absence = parse_absence(params, team, requested_at, in_flight)
    except AbsenceRejected as rejected:
        for problem in rejected.problems:
            log.error("Rejected: %s", problem)
        keep_note(context, text="**Rejected**, nothing was changed:\n\n" + "\n".join(
            f"- {markdown_escape(p)}" for p in rejected.problems))
        raise
    if dag_run.run_id != absence.run_id:
        log.warning(
            "This run's id is %r; trigger absences with the run id %r (`ooo trigger` does) so that "
            "Airflow itself refuses the same absence twice.", dag_run.run_id, absence.run_id,
        )
    timeline = plan_timeline(absence, team, requested_at)

    def buddy_of(run_id: str) -> str | None:
        other = ti.xcom_pull(task_ids=PLAN_TASK, key=PLAN_KEY, dag_id=ti.dag_id, run_id=run_id)
        return other["absence"]["buddy"]["email"] if other else None

    warnings = coverage_warnings(absence, team, in_flight, buddy_of)
    for warning in warnings:
        log.warning("Coverage: %s", warning)
    for name, moment in timeline.moments.items():
        when = _local(moment.at, timeline)
        log.info("%-18s %s%s", name, when, f"  (skipped: {moment.skip})" if moment.skip else "")
    for review in timeline.reviews:
        log.info("%-18s %s", "sms_review", review.label)
    plan = {"absence": absence.to_dict(), "timeline": timeline.to_dict(), "code": code_version(),
            "warnings": warnings}
    if params.get("dry_run") is True:  # preview only: every later task skips (read_plan), nothing changes
        from ooo.preview import dry_run, dry_run_note

        shown = dry_run(absence, timeline, requested_at, log)
        ti.xcom_push(key=PLAN_KEY, value={**plan, "dry_run": True, "preview": shown.to_dict()})
        keep_note(context, text=dry_run_note(shown))
        return []  # no review days: the mapped sms_review has nothing to expand
    ti.xcom_push(key=PLAN_KEY, value=plan)
    keep_note(context, plan=plan)
    return [r.to_dict() for r in timeline.reviews]


def _local(moment: dt.datetime, timeline: Timeline) -> str:
    """``Mon 2026-12-07 00:00 MST``: a moment as the log shows it, in the employee's zone."""
    return moment.astimezone(ZoneInfo(timeline.timezone)).strftime("%a %Y-%m-%d %H:%M %Z")


def read_plan(context: dict[str, Any]):
    plan = context["ti"].xcom_pull(task_ids=PLAN_TASK, key=PLAN_KEY)
    if not plan:
        raise AirflowSkipException("no plan: the absence was not validated")
    if plan.get("dry_run"):
        raise AirflowSkipException("dry run: nothing changed")
    return absence_from_dict(plan["absence"]), timeline_from_dict(plan["timeline"])


class ManagerApproval(ApprovalOperator):
    """The manager approves a planned absence in the Airflow UI before anything is changed."""

    def __init__(self, **kwargs: Any) -> None:
        # The approval form: Airflow has merged the DAG's params in already; HITL shows the task's.
        form = ParamsDict(kwargs.pop("params", None) or {})
        form["reason"] = Param("", type=["null", "string"], maxLength=500, title="Reason", source="task",
                               description="Optional: told to the employee with your answer.")
        super().__init__(
            subject="Approve an absence",
            defaults="Reject",  # no answer by the start = not approved
            ignore_downstream_trigger_rules=True,  # a rejection skips the whole procedure
            params=form,
            **kwargs,
        )

    def execute(self, context: Any) -> Any:
        absence, timeline = read_plan(context)
        if absence.is_unexpected:
            keep_note(context)
            raise AirflowSkipException("unexpected absence: no approval needed")
        if absence.approved_by is not None:
            approver = absence.approved_by
            self.log.info("Approved by %s when filed (approved_by): not waiting", approver.email)
            answer = {"chosen_options": [self.APPROVE], "params_input": {},
                      "responded_at": absence.requested_at.isoformat(), "recorded": True,
                      "responded_by_user": {"id": approver.email, "name": approver.name}}
            keep_note(context, answer=answer)
            return answer
        who = absence.employee
        self.subject = f"Approve {who.name}'s absence, {long_date(absence.start)} to {long_date(absence.end)}?"
        plan = context["ti"].xcom_pull(task_ids=PLAN_TASK, key=PLAN_KEY) or {}
        self.body = render(
            "approval_request.md", absence=absence, timeline=timeline,
            manager=absence.manager.name if absence.manager else "the manager",
            warnings=plan.get("warnings") or [],
        )
        self._ask_manager(context)
        self.log.info("Waiting for %s to answer until %s",
                      absence.manager.email if absence.manager else "a manager",
                      _local(timeline.approval_deadline, timeline))
        keep_note(context, waiting=True)
        # Last, so the deadline is the start of the absence and not seconds after (Slack, the note).
        self.response_timeout = max(timeline.approval_deadline - timezone.utcnow(), dt.timedelta(seconds=1))
        return super().execute(context)

    def execute_complete(self, context: Any, event: dict[str, Any]) -> Any:
        # A rejection ends in the base class skipping everything downstream (it raises), so the
        # employee is told first.
        if "error" not in event and event.get("chosen_options") != [self.APPROVE]:
            absence, timeline = read_plan(context)
            why = approval_state(absence, timeline, event)
            self.log.info("Not approved (%s): the absence ends here, nothing changed", why)
            try:
                tell_employee_not_approved(step_context(context, log=self.log), why)
            except Exception:  # noqa: BLE001 - the answer stands even if Slack is down
                self.log.warning("Could not tell %s in Slack", absence.employee.email, exc_info=True)
            keep_note(context, answer=event)
        answer = dict(super().execute_complete(context=context, event=event))
        keep_note(context, answer=answer)
        return answer

    def _ask_manager(self, context: Any) -> None:
        """Tell the manager in Slack, with a link; the approval works without it (Required Actions)."""
        try:
            link = self.generate_link_to_ui(task_instance=context["task_instance"],
                                            base_url=conf.get("api", "base_url", fallback=None))
            ask_manager(step_context(context, log=self.log), link)
        except Exception:  # noqa: BLE001 - a Slack outage must not reject the absence
            self.log.warning("Could not tell the manager in Slack; the approval waits in Airflow's "
                             "Required Actions", exc_info=True)


class AbsenceStep(BaseOperator):
    """One dated step of the procedure: wait (deferred) for its moment, then do it.

    ``moment`` names the step's moment in the timeline (default: the task id). Mapped over
    ``review`` (one per day), it runs the daily SMS review of that day.
    """

    ui_color = "#e8f1ff"

    def __init__(self, *, action: Step, moment: str | None = None, review: dict[str, Any] | None = None,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.action = action
        self.moment = moment or self.task_id
        self.review = review

    def _review_now(self, timeline: Timeline) -> Review | None:
        """This instance's review in the plan as it is now (a shortened absence drops days)."""
        if self.review is None:
            return None
        if self.review.get("final"):
            return timeline.reviews[-1]
        return next((r for r in timeline.reviews if not r.final and r.day.isoformat() == self.review["day"]), None)

    def _due(self, timeline: Timeline) -> tuple[dt.datetime, str | None]:
        if self.review is not None:
            review = self._review_now(timeline)
            if review is None:
                return timeline.back_at, f"the absence was shortened: no review on {self.review['day']}"
            return review.at, None
        moment = timeline[self.moment]
        return moment.at, moment.skip

    def execute(self, context: Any) -> Any:
        absence, timeline = read_plan(context)
        at, skip = self._due(timeline)
        if skip:
            raise AirflowSkipException(f"{self.task_id} skipped: {skip}")
        now = timezone.utcnow()
        when = _local(at, timeline)
        if at > now:
            self.log.info("Waiting until %s (%s): deferred, holding no worker slot", when, timeline.timezone)
            self.defer(trigger=DateTimeTrigger(moment=timezone.convert_to_utc(at)),
                       method_name="execute_complete", timeout=None)
        self.log.info("Was due %s: running at once (catch-up)", when)
        return self._run(context)

    def execute_complete(self, context: Any, event: Any = None) -> Any:
        return self._run(context)

    def _run(self, context: Any) -> Any:
        _, timeline = read_plan(context)
        result = self.action(step_context(context, review=self._review_now(timeline), log=self.log))
        keep_note(context, current=result)
        return result


def step_context(context: Any, review: Review | None = None, log: logging.Logger = log) -> StepContext:
    """What a step function gets: the plan, the team, the clients and the earlier steps' records."""
    absence, timeline = read_plan(context)
    return StepContext(
        absence=absence,
        team=team_for_run(),
        timeline=timeline,
        run_id=context["dag_run"].run_id,
        now=timezone.utcnow(),
        services=Services(),
        records=_records(context),
        review=review,
        log=log,
    )


def _records(context: Any, current: dict[str, Any] | None = None) -> Records:
    """The steps' records; ``current`` is the running task's own (not in XCom yet)."""
    ti = context["ti"]
    by_step = {step: ti.xcom_pull(task_ids=step) for step in RECORDED_STEPS}
    reviews = ti.xcom_pull(task_ids="sms_review")  # every day's, in map-index order
    if isinstance(reviews, dict):  # Airflow unwraps a single value
        reviews = [reviews]
    reviews = [r for r in reviews or [] if r]
    if current is not None and ti.task_id == "sms_review":
        reviews = [r for r in reviews if r.get("day") != current.get("day")] + [current]
    elif current is not None:
        by_step[ti.task_id] = current
    return Records(by_step, reviews)


def keep_note(context: Any, *, text: str | None = None, plan: dict[str, Any] | None = None,
              answer: dict[str, Any] | None = None, waiting: bool = False,
              current: dict[str, Any] | None = None) -> None:
    """Rewrite the run's note from the plan and the records (or set ``text``); never fails a task.

    Written through the REST API (the ``ooo_airflow`` connection): without it the note is not kept.
    """
    try:
        text = text or _note_text(context, plan, answer, waiting, current)
        if text:
            AirflowApi.from_connection().set_note(context["dag_run"].run_id, clip(text),
                                                  dag_id=context["ti"].dag_id)
    except AirflowNotFoundException:
        log.debug("No ooo_airflow connection: the run's note is not kept")
    except Exception:  # noqa: BLE001 - a note must never fail the step it describes
        log.warning("Could not write the run's note", exc_info=True)


def _note_text(context: Any, plan: dict[str, Any] | None, answer: dict[str, Any] | None, waiting: bool,
               current: dict[str, Any] | None) -> str | None:
    ti = context["ti"]
    plan = plan or ti.xcom_pull(task_ids=PLAN_TASK, key=PLAN_KEY)
    if not plan:
        return None
    if answer is None and ti.task_id != PLAN_TASK:
        answer = ti.xcom_pull(task_ids="approval")
    return plan_note(plan, answer, _records(context, current), waiting)
