"""Changing a filed absence: cancel it, or end it early (the ``ooo_cancel`` and ``ooo_shorten`` DAGs).

Both act on the absence's run through Airflow's REST API, since the Task SDK can read another
run's XComs but not stop it, re-plan it or wake its waits. What was done is undone with the
steps in :mod:`ooo.steps.cancel` and :mod:`ooo.steps.back_early`; the absence run's note then
says what changed. A change that cannot be made is refused before anything is touched.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import time
from dataclasses import dataclass
from typing import Any

from ooo.absence import is_absence_run_id
from ooo.airflow_api import IN_FLIGHT, AirflowApi, AirflowApiError
from ooo.plan import PLAN_KEY, PLAN_TASK, Change, Plan
from ooo.procedure import Step
from ooo.records import SINGLE_RECORD_STEPS, ApprovalAnswer, BackEarly, Cancellation, Records
from ooo.run_note import run_note
from ooo.services import Services
from ooo.steps.back_early import back_early
from ooo.steps.cancel import cancel_absence
from ooo.steps.context import StepContext
from ooo.team import Team
from ooo.templates import counted, short_date


class ChangeRefused(ValueError):
    """The change cannot be made; the message says why and what to do instead."""


@dataclass(frozen=True)
class FiledAbsence:
    """An absence run as the REST API shows it: its state, plan, approval and steps' records."""

    run_id: str
    state: str
    plan: Plan
    approval: ApprovalAnswer | None
    records: Records

    def context(self, team: Team, services: Services, now: dt.datetime) -> StepContext:
        return StepContext(absence=self.plan.absence, team=team, timeline=self.plan.timeline, run_id=self.run_id,
                           now=now, services=services, records=self.records)

    def note(self, team: Team, undone: str | None = None) -> str:
        return run_note(self.plan, self.approval, self.records, undone=undone, team=team)


def load(api: AirflowApi, run_id: str) -> FiledAbsence:
    """The absence run ``run_id``; :class:`ChangeRefused` when there is none, or it was never planned."""
    if not is_absence_run_id(run_id):
        raise ChangeRefused(f"{str(run_id)[:120]!r} is not an absence's run id: copy it from ooo_absence's runs "
                            "(absence__<employee>__<first day>__<last day>).")
    try:
        state = api.run(run_id)["state"]
    except AirflowApiError as exc:
        if exc.status == 404:
            raise ChangeRefused(f"There is no absence run {run_id!r}: copy the run id from ooo_absence's runs "
                                "(absence__<employee>__<first day>__<last day>).") from exc
        raise
    raw = api.xcom(run_id, PLAN_TASK, key=PLAN_KEY)
    if not raw:
        raise ChangeRefused(f"{run_id} was never planned (its validate step rejected it or has not run): "
                            "nothing was done, so there is nothing to change.")
    plan = Plan.from_dict(raw)
    reviews = [api.xcom(run_id, Step.SMS_REVIEW, map_index=i) for i in range(len(plan.timeline.reviews))]
    records = Records.from_xcoms({step: api.xcom(run_id, step) for step in SINGLE_RECORD_STEPS}, reviews)
    answer = api.xcom(run_id, Step.APPROVAL)
    return FiledAbsence(run_id, state, plan, ApprovalAnswer.from_dict(answer) if answer else None, records)


#: Task instance states that are over: a cancel leaves them as they are.
FINISHED = frozenset({"success", "skipped", "failed", "upstream_failed", "removed"})


def check_cancellable(filed: FiledAbsence) -> None:
    """:class:`ChangeRefused` when the absence cannot be cancelled (over, or cancelled already)."""
    if cancelled := filed.plan.cancelled:
        raise ChangeRefused(f"{filed.run_id} was cancelled already ({cancelled.summary}): nothing more to do.")
    if filed.state == "success":
        raise ChangeRefused(f"{filed.run_id} has finished: the absence is over (or was not approved), "
                            "so there is nothing to cancel.")


def check_new_end(filed: FiledAbsence, new_end: dt.date | str) -> dt.date:
    """The new last day out, or :class:`ChangeRefused` when it cannot be (not a date, outside the absence,
    the absence over or cancelled)."""
    was = filed.plan.absence
    try:
        end = dt.date.fromisoformat(str(new_end))
    except ValueError:
        raise ChangeRefused(f"end_date {str(new_end)[:40]!r} is not a date: use YYYY-MM-DD.") from None
    if filed.plan.cancelled:
        raise ChangeRefused(f"{filed.run_id} was cancelled: there is nothing to shorten.")
    if filed.state not in IN_FLIGHT:
        raise ChangeRefused(f"{filed.run_id} is {filed.state}, not in flight: there is nothing to shorten.")
    if not was.start <= end < was.end:
        raise ChangeRefused(
            f"The new last day out must be from {was.start} (the first day) to {was.end - dt.timedelta(days=1)} "
            f"(the day before the old last day); {end} is not. To extend an absence, file another one "
            f"starting {was.end + dt.timedelta(days=1)}.")
    return end


def stop_absence(api: AirflowApi, run_id: str, by: str, now: dt.datetime, grace: float = 10.0,
                 **_: Any) -> dict[str, Any]:
    """Stop the absence's run: its plan says it was cancelled, and every step still to come is skipped
    with that reason in its note. The run then ends as Airflow ends a run whose steps are done or
    skipped (success: a cancelled absence is an outcome, not a failure); its wait is dropped.

    A step that was running is stopped by Airflow within a heartbeat; ``grace`` seconds give it
    time to end before anything is undone.
    """
    filed = load(api, run_id)
    check_cancellable(filed)
    change = Change(summary=f"cancelled by {by} on {short_date(now)}", by=by, at=now.isoformat(), kind="cancelled")
    # First the plan: a step that wakes from here on reads it and skips itself.
    api.set_xcom(run_id, PLAN_TASK, PLAN_KEY, filed.plan.with_change(change).to_dict())
    left = [t for t in api.task_instances(run_id) if t["state"] not in FINISHED]
    for t in left:
        api.skip_task(run_id, t["task_id"], t["map_index"], f"Skipped: the absence was {change.summary}.")
    running = [t["task_id"] for t in left if t["state"] == "running"]
    if running:
        time.sleep(grace)
    return {"was": filed.state, "stopped": bool(left), "running": running,
            "skipped": [f"{t['task_id']}[{t['map_index']}]" if t["map_index"] >= 0 else t["task_id"] for t in left]}


def undo_absence(api: AirflowApi, run_id: str, team: Team, services: Services, by: str,
                 now: dt.datetime) -> Cancellation:
    """Undo what the (stopped) absence did, and say so in its note."""
    filed = load(api, run_id)
    done = cancel_absence(filed.context(team, services, now))
    parts = [f"{counted(len(done.deleted_events), 'calendar event')} deleted"] if done.deleted_events else []
    parts += [f"{counted(len(done.restored), 'meeting')} back on the calendar"] if done.restored else []
    told = sum(len(m.told) for m in done.restored)
    parts += [f"{counted(told, 'client')} told their meeting stands"] if told else []
    parts += ["auto-reply off"] if done.auto_reply_off else []
    parts += ["Slack status put back"] if done.status_put_back else []
    parts += ["team notice corrected"] if done.team_corrected else []
    parts += ["buddy told"] if done.buddy_told else []
    parts += [f"{len(done.customers_told)} customer contacts told"] if done.customers_told else []
    parts += ["CC told"] if done.cc_told else []
    summary = f"by {by} on {short_date(now)}: " + (", ".join(parts) or "nothing had been done yet")
    api.set_note(run_id, filed.note(team, undone=summary))
    return dataclasses.replace(done, summary=summary)


def shorten_absence(api: AirflowApi, run_id: str, new_end: dt.date | str, team: Team, services: Services,
                    by: str, now: dt.datetime) -> BackEarly:
    """End the absence on ``new_end`` (its new last day out): re-plan it, cut its effects, wake its waits."""
    filed = load(api, run_id)
    was = filed.plan.absence
    new_end = check_new_end(filed, new_end)
    return_day = team.next_working_day(new_end)
    change = Change(summary=f"back early: last day out {short_date(new_end)} (was {short_date(was.end)}), back "
                            f"{short_date(return_day)}; by {by} on {short_date(now)}",
                    end=new_end.isoformat(), was=was.end.isoformat(), by=by, at=now.isoformat())
    plan = filed.plan.ending(new_end, team, change)
    api.set_xcom(run_id, PLAN_TASK, PLAN_KEY, plan.to_dict())
    before = filed.context(team, services, now)
    done = back_early(dataclasses.replace(before, absence=plan.absence, timeline=plan.timeline), before)
    # The waits re-read the plan when they wake: dropped reviews skip, the return steps move.
    waiting = [(t["task_id"], t["map_index"]) for t in api.task_instances(run_id) if t["state"] == "deferred"]
    api.clear(run_id, waiting)
    api.set_note(run_id, run_note(plan, filed.approval, filed.records, team=team))
    return dataclasses.replace(done, summary=change.summary,
                               woken=[f"{t}[{i}]" if i >= 0 else t for t, i in waiting])


def in_task(context: Any) -> dict[str, Any]:
    """What a change DAG's task acts with: the REST API, the roster, the clients, who asked, and now."""
    from airflow.sdk import timezone

    from ooo.team import team_for_run

    dag_run = context["dag_run"]
    return {"api": AirflowApi.from_connection(), "team": team_for_run(), "services": Services(),
            "by": getattr(dag_run, "triggering_user_name", None) or "ops", "now": timezone.utcnow()}
