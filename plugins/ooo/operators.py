"""Airflow's side of an absence: validating the params, the manager's approval, dated steps.

The DAG file wires these; the procedure itself lives in :mod:`ooo.steps` (no Airflow there).

* :func:`validate` turns the run's params into the plan (absence + timeline) every later task
  reads from XCom, or rejects the absence before anything is touched.
* :class:`ManagerApproval` asks the manager in the Airflow UI (human-in-the-loop); an unexpected
  absence skips it, and no answer by the start of the absence counts as a rejection.
* :class:`AbsenceStep` waits, deferred (no worker slot, one trigger), until its moment in the
  timeline, then runs one step function. A moment already past runs at once (catch-up); a step
  the timeline marks as lapsed is skipped with the reason.
"""

from __future__ import annotations

import datetime as dt
import logging
import subprocess
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

from airflow.providers.common.compat.sdk import AirflowSkipException
from airflow.providers.standard.operators.hitl import ApprovalOperator
from airflow.providers.standard.triggers.temporal import DateTimeTrigger
from airflow.sdk import BaseOperator, Variable, timezone
from airflow.sdk.configuration import conf

import ooo
from ooo.absence import AbsenceRejected, absence_from_dict, parse_absence
from ooo.messages import long_date, render
from ooo.services import Services
from ooo.steps import Records, StepContext
from ooo.steps.notices import ask_manager
from ooo.team import Team, load_team
from ooo.timeline import Review, Timeline, plan_timeline, timeline_from_dict

log = logging.getLogger(__name__)

PLAN_TASK = "validate"
PLAN_KEY = "plan"
TEAM_FILE_VARIABLE = "ooo_team_file"
IN_FLIGHT = ["queued", "running"]
#: Steps whose records later steps may read (a missing one means "nothing was done").
RECORDED_STEPS = ("calendar_cleanup", "team_notice", "buddy_handover", "voicemail_reminder",
                  "auto_reply_on", "auto_reply_off")

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

    def runs_in_flight(run_ids: list[str]) -> int:
        others = [run_id for run_id in run_ids if run_id != dag_run.run_id]
        return ti.get_dr_count(dag_id=ti.dag_id, run_ids=others, states=IN_FLIGHT) if others else 0

    try:
        absence = parse_absence(params, team, requested_at, runs_in_flight)
    except AbsenceRejected as rejected:
        for problem in rejected.problems:
            log.error("Rejected: %s", problem)
        raise
    if dag_run.run_id != absence.run_id:
        log.warning(
            "This run's id is %r; trigger absences with the run id %r (`ooo trigger` does) so that "
            "Airflow itself refuses the same absence twice.", dag_run.run_id, absence.run_id,
        )
    timeline = plan_timeline(absence, team, requested_at)
    for name, moment in timeline.moments.items():
        when = moment.at.strftime("%a %Y-%m-%d %H:%M %Z")
        log.info("%-18s %s%s", name, when, f"  (skipped: {moment.skip})" if moment.skip else "")
    for review in timeline.reviews:
        log.info("%-18s %s", "sms_review", review.label)
    plan = {"absence": absence.to_dict(), "timeline": timeline.to_dict(), "code": code_version()}
    ti.xcom_push(key=PLAN_KEY, value=plan)
    return [r.to_dict() for r in timeline.reviews]


def read_plan(context: dict[str, Any]):
    plan = context["ti"].xcom_pull(task_ids=PLAN_TASK, key=PLAN_KEY)
    if not plan:
        raise AirflowSkipException("no plan: the absence was not validated")
    return absence_from_dict(plan["absence"]), timeline_from_dict(plan["timeline"])


class ManagerApproval(ApprovalOperator):
    """The manager approves a planned absence in the Airflow UI before anything is changed."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(
            subject="Approve an absence",
            defaults="Reject",  # no answer by the start = not approved
            ignore_downstream_trigger_rules=True,  # a rejection skips the whole procedure
            **kwargs,
        )

    def execute(self, context: Any) -> Any:
        absence, timeline = read_plan(context)
        if absence.is_unexpected:
            raise AirflowSkipException("unexpected absence: no approval needed")
        who = absence.employee
        self.subject = f"Approve {who.name}'s absence, {long_date(absence.start)} to {long_date(absence.end)}?"
        self.body = render(
            "approval_request.md", absence=absence, timeline=timeline,
            manager=absence.manager.name if absence.manager else "the manager",
        )
        now = timezone.utcnow()
        self.response_timeout = max(timeline.approval_deadline - now, dt.timedelta(seconds=1))
        self._ask_manager(context)
        self.log.info("Waiting for %s to answer until %s",
                      absence.manager.email if absence.manager else "a manager",
                      timeline.approval_deadline.strftime("%a %Y-%m-%d %H:%M %Z"))
        return super().execute(context)


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

    def _due(self, timeline: Timeline) -> tuple[dt.datetime, str | None]:
        if self.review is not None:
            return dt.datetime.fromisoformat(self.review["at"]), None
        moment = timeline[self.moment]
        return moment.at, moment.skip

    def execute(self, context: Any) -> Any:
        absence, timeline = read_plan(context)
        at, skip = self._due(timeline)
        if skip:
            raise AirflowSkipException(f"{self.task_id} skipped: {skip}")
        now = timezone.utcnow()
        when = at.strftime("%a %Y-%m-%d %H:%M %Z")
        if at > now:
            self.log.info("Waiting until %s (%s): deferred, holding no worker slot", when, timeline.timezone)
            self.defer(trigger=DateTimeTrigger(moment=timezone.convert_to_utc(at)),
                       method_name="execute_complete", timeout=None)
        self.log.info("Was due %s: running at once (catch-up)", when)
        return self._run(context)

    def execute_complete(self, context: Any, event: Any = None) -> Any:
        return self._run(context)

    def _run(self, context: Any) -> Any:
        return self.action(step_context(context, review=_review(self.review), log=self.log))


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


def _review(raw: dict[str, Any] | None) -> Review | None:
    if raw is None:
        return None
    return Review(day=dt.date.fromisoformat(raw["day"]), at=dt.datetime.fromisoformat(raw["at"]),
                  since=dt.datetime.fromisoformat(raw["since"]), final=raw.get("final", False))


def _records(context: Any) -> Records:
    ti = context["ti"]
    by_step = {step: ti.xcom_pull(task_ids=step) for step in RECORDED_STEPS}
    reviews = ti.xcom_pull(task_ids="sms_review")  # every day's, in map-index order
    if isinstance(reviews, dict):  # Airflow unwraps a single value
        reviews = [reviews]
    return Records(by_step, reviews or [])
