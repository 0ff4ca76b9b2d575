"""
### ooo_intake: absences filed from people's own out-of-office events

The buddy-system protocol asks everyone to put their out-of-office dates on their Google Calendar
as soon as they are known. When the roster turns it on (`team.intake.enabled`), this DAG reads
every roster person's calendar every `team.intake.interval_minutes` (only what changed since the
last read) and, for each out-of-office event:

* **new**: files an `ooo_absence` run under the absence's run id, *planned* (it waits for the
  manager's approval), or *unexpected* when the event was made on or after its own start; an
  absence filed by hand for the same days is not filed again;
* **cut short**: files `ooo_shorten`; **deleted**: files `ooo_cancel`; **lengthened**: files the
  extra days as a new absence.

The run's note and its task's log say what was filed, changed or ignored, and why. With the
intake off, each run says so and reads nothing.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import DAG, task

from ooo.intake import DAG_ID, intake_in_task, intake_schedule

with DAG(
    dag_id=DAG_ID,
    description="Absences filed from people's own out-of-office events in Google Calendar",
    doc_md=__doc__,
    schedule=intake_schedule(),  # the roster's team.intake.interval_minutes (5 by default)
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,  # one reader of the sync tokens at a time
    disable_bundle_versioning=True,  # on the release deployed now, as ooo_absence
    tags=["ooo"],
    default_args={"owner": "client-services"},
):

    # No retries: the next run (minutes later) picks up where this one stopped.
    @task(task_id="read_calendars", retries=0)
    def read_calendars(**context) -> dict:
        """Read what changed in the calendars; file, shorten and cancel absences to match."""
        return intake_in_task(context)

    read_calendars()
