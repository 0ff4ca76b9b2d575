"""The absence's operators: the manager's approval, and a dated step of the procedure.

The DAG file wires these; the procedure itself lives in :mod:`ooo.steps` (no Airflow there), and
what a task reads of its run in :mod:`ooo.run`.

* :class:`ManagerApproval` asks the manager in the Airflow UI (human-in-the-loop); an unexpected
  absence skips it, an approval recorded when filing (``approved_by``) stands for it, and no
  answer by the start of the absence counts as a rejection. The employee is told why.
* :class:`AbsenceStep` waits, deferred (no worker slot, one trigger), until its moment in the
  timeline, then runs one step function. A moment already past runs at once (catch-up); a step
  the timeline marks as lapsed is skipped with the reason.

Both rewrite the run's note after what they did, so ops see each absence at a glance.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from typing import Any

from airflow import __version__ as airflow_version
from airflow.providers.common.compat.sdk import AirflowSkipException
from airflow.providers.standard.operators.hitl import ApprovalOperator
from airflow.providers.standard.triggers.temporal import DateTimeTrigger
from airflow.sdk import BaseOperator, Param, timezone
from airflow.sdk.definitions.param import ParamsDict
from airflow.sdk.execution_time.hitl import HITLUser

from ooo.notifiers import ManagerAskedToApprove
from ooo.procedure import PURPOSE, Step
from ooo.records import ApprovalAnswer, Record
from ooo.release import code_version
from ooo.run import AbsenceRun, NotPlanned
from ooo.run_note import approval_state
from ooo.steps.context import StepContext
from ooo.steps.notices import tell_employee_not_approved
from ooo.templates import day_range, render
from ooo.timeline import Review, Timeline
from ooo.times import instant
from ooo.validate import local

Action = Callable[[StepContext], Record]
log = logging.getLogger(__name__)


def planned_run(context: Any) -> AbsenceRun:
    """The task's absence run; the task skips when there is nothing to carry out.

    Its log first says which Airflow and which release serve it: a run lives for weeks, and a release
    that lands meanwhile serves its next step (design §8; README, "Releasing while absences are in flight").
    """
    log.info("Airflow %s, %s", airflow_version, code_version())
    run = AbsenceRun.from_context(context)
    try:
        plan = run.plan
    except NotPlanned:
        raise AirflowSkipException("no plan: the absence was not validated") from None
    if plan.dry_run:
        raise AirflowSkipException("dry run: nothing changed")
    if cancelled := plan.cancelled:
        raise AirflowSkipException(f"the absence was cancelled ({cancelled.summary}): nothing more to do")
    return run


class ManagerApproval(ApprovalOperator):
    """The employee's manager (or their deputy while the manager is out) approves a planned absence
    in the Airflow UI before anything is changed; nobody else can answer (Airflow's HITL
    ``assigned_users``, by login: a manager's login is their roster email)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs["task_id"] = Step(kwargs.get("task_id", Step.APPROVAL)).value
        # The approval form: Airflow has merged the DAG's params in already; HITL shows the task's.
        form = ParamsDict(kwargs.pop("params", None) or {})
        form["reason"] = Param("", type=["null", "string"], maxLength=500, title="Reason", source="task",
                               description="Optional: told to the employee with your answer.")
        # No ``defaults``: Airflow makes a default the request's filled, primary button, and a default
        # of Reject made the wrong click the easy one. No answer by the deadline is a rejection all the
        # same: the scheduler resumes the task with a timeout event (``execute_complete``).
        super().__init__(
            subject="Approve an absence",
            ignore_downstream_trigger_rules=True,  # a rejection skips the whole procedure
            params=form,
            **kwargs,
        )

    def execute(self, context: Any) -> Any:
        run = planned_run(context)
        plan = run.plan
        absence, timeline = plan.absence, plan.timeline
        if absence.is_unexpected:
            run.keep_note()
            raise AirflowSkipException("unexpected absence: no approval needed")
        if absence.approved_by is not None:
            approver = absence.approved_by
            self.log.info("Approved by %s when filed (approved_by, filed by %s): not waiting", approver.email,
                          absence.filed_by)
            answer = ApprovalAnswer(chosen_options=[self.APPROVE], responded_at=absence.requested_at.isoformat(),
                                    recorded=True, responded_by_user={"id": approver.email, "name": approver.name})
            run.keep_note(answer=answer)
            return answer.to_dict()
        if (given := _answer_given_before(run)) is not None:
            # An earlier try of this task parked the request and was answered, then failed anyway (a
            # quick answer racing the executor's report of the park, Airflow 3.3.2). The answer stands:
            # asking again would wipe it.
            self.log.info("The request was answered before this try (%s): going on with that answer",
                          given["chosen_options"])
            return self.execute_complete(context, given)
        if (getattr(run.ti, "try_number", 1) or 1) > 1 and timezone.utcnow() >= timeline.approval_deadline:
            # An earlier try waited until the deadline and failed in the same race as the timeout fired:
            # nobody answered in time, and asking again now would wait for nothing.
            self.log.info("Not answered by the deadline %s (an earlier try waited): not approved",
                          local(timeline.approval_deadline, timeline))
            return self.execute_complete(context, {"error_type": "timeout"})
        asked = plan.asked
        self.subject = f"{absence.employee.name} out {day_range(absence.start, absence.end)}: approve?"
        self.body = render("approval_request.md", absence=absence, timeline=timeline, warnings=plan.warnings,
                           asked=asked.name if asked else "the manager", asked_why=plan.approver_why)
        self.assigned_users = [HITLUser(id=asked.email, name=asked.name)] if asked else []
        # Sent by the HITL operator once the request exists, so its link opens it; it also sets the
        # deadline last, so the wait ends at the start of the absence, not seconds after the DM.
        self.notifiers = [ManagerAskedToApprove(run, deadline=timeline.approval_deadline)]
        self.log.info("Waiting for %s to answer until %s%s", asked.email if asked else "a manager",
                      local(timeline.approval_deadline, timeline),
                      f" ({plan.approver_why})" if plan.approver_why else "")
        run.keep_note(waiting=True)
        self.response_timeout = max(timeline.approval_deadline - timezone.utcnow(), dt.timedelta(seconds=1))
        return super().execute(context)

    def execute_complete(self, context: Any, event: dict[str, Any]) -> Any:
        run = planned_run(context)
        if event.get("error_type") == "timeout":  # no answer by the deadline: not approved
            event = {"chosen_options": [self.REJECT], "params_input": {}, "responded_at": timezone.utcnow(),
                     "responded_by_user": None, "timedout": True}
        answer = ApprovalAnswer.from_dict(event)
        if "error" not in event and not answer.approved:
            # Not approved: the base class skips the whole procedure by raising, so the employee is
            # told, the note written and the answer kept (the coverage board reads it) first.
            plan = run.plan
            why = approval_state(plan, answer, team=run.team)
            self.log.info("Not approved (%s): the absence ends here, nothing changed", why)
            try:
                tell_employee_not_approved(run.step_context(logger=self.log), why)
            except Exception:  # noqa: BLE001 - the answer stands even if Slack is down
                self.log.warning("Could not tell %s in Slack", plan.absence.employee.email, exc_info=True)
            run.keep_note(answer=answer)
            context["ti"].xcom_push(key="return_value", value=_plain_answer(event))
        result = _plain_answer({**super().execute_complete(context=context, event=event),
                                "timedout": bool(event.get("timedout"))})
        run.keep_note(answer=ApprovalAnswer.from_dict(result))
        return result


def _answer_given_before(run: AbsenceRun) -> dict[str, Any] | None:
    """The answer an earlier try of this task was given, as the resume event carries it; None on a first try
    or when there is none. Read through the REST API: the Task SDK's worker cannot read an answer."""
    if (getattr(run.ti, "try_number", 1) or 1) <= 1 or run.api is None:
        return None
    try:
        detail = run.api.hitl_detail(run.run_id, run.ti.task_id, dag_id=run.dag_id)
    except Exception:  # noqa: BLE001 - unknown: ask again (the manager answers once more)
        log.warning("Could not read the answer given to an earlier try: asking again", exc_info=True)
        return None
    if not detail or not detail.get("response_received"):
        return None
    return {"chosen_options": list(detail.get("chosen_options") or []),
            "params_input": detail.get("params_input") or {},
            "responded_at": instant(detail["responded_at"]) if detail.get("responded_at") else timezone.utcnow(),
            "responded_by_user": detail.get("responded_by_user"), "timedout": False}


def _plain_answer(answer: dict[str, Any]) -> dict[str, Any]:
    """The answer as its XCom keeps it (the time as ISO text)."""
    at = answer.get("responded_at")
    return {"chosen_options": list(answer.get("chosen_options") or []),
            "params_input": answer.get("params_input") or {},
            "responded_at": at.isoformat() if isinstance(at, dt.datetime) else at,
            "responded_by_user": answer.get("responded_by_user"), "timedout": bool(answer.get("timedout"))}


class AbsenceStep(BaseOperator):
    """One dated step of the procedure: wait (deferred) for its moment, then do it.

    The task id is the step's name (:class:`ooo.procedure.Step`); ``moment`` names the step's
    moment in the timeline (default: the step itself). Mapped over ``review`` (one per day), it
    runs the daily SMS review of that day.
    """

    ui_color = "#e8f1ff"

    def __init__(self, *, action: Action, moment: Step | None = None, review: dict[str, Any] | None = None,
                 **kwargs: Any) -> None:
        step = Step(kwargs["task_id"])  # a name of the procedure's table, or a ValueError
        super().__init__(**{**kwargs, "task_id": step.value})
        self.step = step
        self.action = action
        self.moment = moment or self.step
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
        moment = timeline.moments.get(self.moment)
        if moment is None:  # a run planned by a release before this step existed (design §8)
            return timeline.back_at, f"not in this absence's plan: it was planned before {self.moment} existed"
        return moment.at, moment.skip

    def execute(self, context: Any) -> Any:
        run = planned_run(context)
        timeline = run.plan.timeline
        at, skip = self._due(timeline)
        if skip:
            raise AirflowSkipException(f"{self.task_id} skipped: {skip}")
        when = local(at, timeline)
        if at > timezone.utcnow():
            self.log.info("Waiting until %s (%s): deferred, holding no worker slot", when, timeline.timezone)
            # Where ops look (the task's note): what it waits for, and until when; cleared when it runs.
            what = PURPOSE.get(self.step, f"run {self.step.value}")
            day = f" of {self.review['label']}" if self.review is not None else ""
            run.keep_task_note(f"Waits until {when} ({at.astimezone(dt.timezone.utc):%Y-%m-%d %H:%M} UTC) "
                               f"to {what}{day}.")
            self.defer(trigger=DateTimeTrigger(moment=timezone.convert_to_utc(at)),
                       method_name="execute_complete", timeout=None)
        self.log.info("Was due %s: running at once (catch-up)", when)
        return self._run(run)

    def execute_complete(self, context: Any, event: Any = None) -> Any:
        run = planned_run(context)
        run.keep_task_note("")  # no longer waiting
        return self._run(run)

    def _run(self, run: AbsenceRun) -> Any:
        record = self.action(run.step_context(review=self._review_now(run.plan.timeline), logger=self.log))
        run.keep_note(current=(self.step, record))
        return record.to_dict()
