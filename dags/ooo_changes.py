"""
Changes to a filed absence: **ooo_cancel** and **ooo_shorten**, one small DAG each.

Trigger them from the UI with the absence's run id, as `ooo_absence`'s runs list shows it
(`absence__<employee>__<first day>__<last day>`), or with `ooo cancel` / `ooo shorten`. A change
that cannot be made (no such absence, one already over, a new last day outside it) is refused by
its first task, with the reason in the log and nothing changed. Both write what they did into the
absence run's note.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import DAG, Param, task

from ooo.absence import RUN_ID_PATTERN
from ooo.changes import in_task, shorten_absence, stop_absence, undo_absence
from ooo.notifiers import failure_alert

CANCEL_DOC = """
### ooo_cancel: cancel a filed absence, and undo what it did

1. **stop_absence**: the absence's run stops: every step still to come is skipped, with the
   cancellation in its note, and its wait is dropped; the run then ends as a success (cancelled is
   an outcome, not a failure). A finished absence, one cancelled already, or a run id that is no
   absence, is refused here with nothing changed.
2. **undo_absence**: the out-of-office block and the meetings it booked are deleted, the
   declined meetings still to come are put back (clients who were asked to reschedule are told
   the meeting stands), the auto-reply it set is switched off, a correction is threaded under
   the team notice and the buddy is told.

Cancelling twice changes nothing the second time.
"""

SHORTEN_DOC = """
### ooo_shorten: end a filed absence early

**shorten_absence** re-plans the absence with the new last day: the daily reviews after it are
dropped, the return (auto-reply off, digest) moves to the new first working day back, the
out-of-office block and the auto-reply are cut to the new return, the meetings after it are put
back on the calendar (clients who were asked to reschedule are told they stand), and the team
and the buddy are told. The waiting step wakes at once and waits again for its new moment.
"""


def absence_run_id() -> Param:
    return Param(type="string", pattern=RUN_ID_PATTERN, title="Absence",
                 description="The ooo_absence run's id: absence__<employee>__<first day>__<last day>.")


CHANGE_DAG = {"start_date": pendulum.datetime(2026, 1, 1, tz="UTC"), "catchup": False,
              "tags": ["ooo"], "default_args": {"owner": "client-services"},
              "disable_bundle_versioning": True}  # on the release deployed now, as ooo_absence

with DAG(dag_id="ooo_cancel", description="Cancel a filed absence and undo what it did", doc_md=CANCEL_DOC,
         schedule=None, params={"absence_run_id": absence_run_id()}, **CHANGE_DAG):

    # A refused change is the filer's to fix (the log says why): no retries, no ops alert.
    @task(task_id="stop_absence", retries=0)
    def stop(params: dict, **context) -> dict:
        return stop_absence(run_id=params["absence_run_id"], **in_task(context))

    @task(task_id="undo_absence", on_failure_callback=failure_alert)
    def undo(params: dict, **context) -> dict:
        return undo_absence(run_id=params["absence_run_id"], **in_task(context)).to_dict()

    stop() >> undo()


with DAG(dag_id="ooo_shorten", description="End a filed absence early (a new last day out)", doc_md=SHORTEN_DOC,
         params={"absence_run_id": absence_run_id(),
                 "end_date": Param(type="string", format="date", title="New last day out",
                                   description="In the employee's time zone; before the current last day.")},
         schedule=None, **CHANGE_DAG):

    @task(task_id="shorten_absence", retries=0)
    def shorten(params: dict, **context) -> dict:
        return shorten_absence(run_id=params["absence_run_id"], new_end=params["end_date"],
                               **in_task(context)).to_dict()

    shorten()
