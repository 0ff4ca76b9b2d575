"""
### ooo_absence: one run per absence

Trigger it with the absence's params (the form below, `ooo trigger`, or the REST API with the run
id `absence__<employee>__<start_date>__<end_date>`). The run then carries out the team's
out-of-office procedure on the right dates, in the employee's time zone:

1. **validate**: the params against the roster and the other absences in flight; a rejected
   absence stops here, with nothing touched.
2. **approval**: a planned absence waits for the manager in *Required Actions* (unless filed with
   `approved_by`); an unexpected one skips it. No answer by the first day out counts as a
   rejection, and the employee is told.
3. **calendar_cleanup**: out-of-office block, meetings declined, clients sent the reschedule
   note, the handover (CSM) or coverage review (CC) booked.
4. **team_notice**, **customer_notice**, **buddy_handover**, **voicemail_reminder**: the working
   day before (at once when unexpected); a CSM's customers and paired CC are told who covers.
5. **auto_reply_on**, **slack_status_on**: the first day out, from the team's split time on an
   afternoon off (the Slack status says who covers, until the return; it needs the optional
   `ooo_slack_user` connection).
6. **visit_requests**: a client visit only, with the auto-reply: the team's replies to the notice's
   thread (what they need from the client), to the employee's DM.
7. **sms_review**: each working day out, and the return morning (one mapped task per day).
8. **auto_reply_off**, **slack_status_off** (the status before put back), **return_digest**: the
   first working day back (at the split time after a morning off).

Every dated step waits deferred (no worker slot), one at a time.
"""

from __future__ import annotations

import datetime as dt

import pendulum
from airflow.sdk import DAG, Param, task

from ooo.notifiers import failure_alert
from ooo.operators import AbsenceStep, ManagerApproval
from ooo.procedure import Step
from ooo.steps.auto_reply import auto_reply_off, auto_reply_on
from ooo.steps.calendar import calendar_cleanup
from ooo.steps.client_visit import visit_requests
from ooo.steps.customer_notice import customer_notice
from ooo.steps.digest import return_digest
from ooo.steps.notices import buddy_handover, team_notice, voicemail_reminder
from ooo.steps.slack_status import slack_status_off, slack_status_on
from ooo.steps.sms_review import sms_review
from ooo.validate import validate_absence

# No NUL in free text: PostgreSQL's JSONB (where Airflow keeps a run's conf) cannot hold U+0000, so
# such a filing failed with a 422 "Value rejected by database" instead of naming the param.
NO_NUL = "^[^\\x00]*$"

with DAG(
    dag_id="ooo_absence",
    description="Out-of-office procedure for one absence",
    doc_md=__doc__,
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    tags=["ooo"],
    # Every absence in flight is an active run, for weeks: Airflow's default cap (16) would hold
    # the 17th absence filed in the queue, not even validated, until another one ended.
    max_active_runs=10_000,
    # Every run, however old, runs its next step on the release deployed now, with that release's
    # plugins/ooo and templates (which no DAG bundle versions): never an old DAG file on a new package.
    # A release keeps the runs in flight working instead (README, "Releasing while absences are in flight").
    disable_bundle_versioning=True,
    default_args={
        "owner": "client-services",
        # retries and their first delay: [core] default_task_retries / default_task_retry_delay
        "retry_exponential_backoff": 2.0,
        "max_retry_delay": dt.timedelta(hours=1),
        "on_failure_callback": failure_alert,  # ops hear which absence, which step, with a link
        # a skipped (lapsed) step must not skip the rest; a rejection skips everything itself
        "trigger_rule": "none_failed",
    },
    params={
        "employee": Param(
            type="string", format="email", pattern=NO_NUL, title="Employee",
            description="Work email of the person going out (must be in the team roster).",
        ),
        "start_date": Param(
            type="string", format="date", title="First day out",
            description="In the employee's time zone.",
        ),
        "end_date": Param(
            type="string", format="date", title="Last day out",
            description="Inclusive; on or after the first day.",
        ),
        "start_half": Param(
            "full", type="string", enum=["full", "afternoon"], title="First day: whole or afternoon",
            description="Out the whole first day, or only its afternoon (from the team's half-day split time, "
                        "team.half_day_split, e.g. 12:00).",
            values_display={"full": "Whole day", "afternoon": "Afternoon only (out from the split time)"},
        ),
        "end_half": Param(
            "full", type="string", enum=["full", "morning"], title="Last day: whole or morning",
            description="Out the whole last day, or only its morning (back at the split time). A one-day "
                        "absence is a morning off with this, an afternoon off with First day; not both.",
            values_display={"full": "Whole day", "morning": "Morning only (back at the split time)"},
        ),
        "kind": Param(
            "planned", type="string", enum=["planned", "unexpected", "client_visit"], title="Kind",
            values_display={"planned": "Planned (PTO: needs approval)",
                            "unexpected": "Unexpected (out sick / logging off now)",
                            "client_visit": "Client visit (needs approval; the team is asked what it needs "
                                            "from the client)"},
        ),
        "client_company": Param(
            None, type=["null", "string"], maxLength=200, pattern=NO_NUL, title="Client visited",
            description="For a client visit only: the HubSpot company, by its record id or its website domain "
                        "(e.g. bigskyoutfitters.com).",
        ),
        "backup_buddy": Param(
            None, type=["null", "string"], pattern=NO_NUL, title="Backup buddy",
            description="Email; empty = the employee's buddy in the roster.",
        ),
        "approved_by": Param(
            None, type=["null", "string"], pattern=NO_NUL, title="Approved by",
            description="A manager's email when the approval is already recorded (e.g. in the HR tool): "
                        "skips the wait for approval.",
        ),
        "reachable": Param(
            False, type="boolean", title="Reachable",
            description="Shown in the notices: checking email while out, or not.",
        ),
        "note": Param(
            "", type=["null", "string"], maxLength=500, pattern=NO_NUL, title="Note",
            description="Free text for the team notice (shown as text).",
        ),
        "dry_run": Param(
            False, type="boolean", title="Dry run: preview only, change nothing",
            description="Validate and show, in the validate task's log and the run's note, what each step "
                        "would do and when; every later step is skipped and nothing is changed anywhere.",
        ),
    },
) as dag:

    # A rejection is the filer's to fix (the task's log says what): no ops alert, no channel touched.
    @task(task_id=Step.VALIDATE, retries=0, on_failure_callback=None)
    def validate(params: dict, **context) -> list[dict]:
        """Reject bad input before any side effect; plan the timeline; return the review days."""
        return validate_absence(params, context)

    review_days = validate()
    # One quick retry: Airflow 3.3.2 can fail an approval answered moments after it was asked (the
    # executor's report of the park arrives after the answer resumed the task); the retry goes on with
    # the answer already given instead of asking again.
    approval = ManagerApproval(task_id=Step.APPROVAL, retries=1, retry_delay=dt.timedelta(seconds=2))
    cleanup = AbsenceStep(task_id=Step.CALENDAR_CLEANUP, action=calendar_cleanup)
    notice = AbsenceStep(task_id=Step.TEAM_NOTICE, action=team_notice)
    customers = AbsenceStep(task_id=Step.CUSTOMER_NOTICE, action=customer_notice)
    handover = AbsenceStep(task_id=Step.BUDDY_HANDOVER, action=buddy_handover)
    voicemail = AbsenceStep(task_id=Step.VOICEMAIL_REMINDER, action=voicemail_reminder)
    reply_on = AbsenceStep(task_id=Step.AUTO_REPLY_ON, action=auto_reply_on)
    status_on = AbsenceStep(task_id=Step.SLACK_STATUS_ON, action=slack_status_on)
    requests = AbsenceStep(task_id=Step.VISIT_REQUESTS, action=visit_requests)
    reviews = AbsenceStep.partial(
        task_id=Step.SMS_REVIEW,
        action=sms_review,
        max_active_tis_per_dagrun=1,  # one review (and one trigger) at a time, day by day
        map_index_template="{{ task.review['label'] }}",
    ).expand(review=review_days)
    reply_off = AbsenceStep(task_id=Step.AUTO_REPLY_OFF, action=auto_reply_off)
    status_off = AbsenceStep(task_id=Step.SLACK_STATUS_OFF, action=slack_status_off)
    digest = AbsenceStep(task_id=Step.RETURN_DIGEST, action=return_digest)

    review_days >> approval >> cleanup >> notice >> customers >> handover >> voicemail >> reply_on >> status_on
    status_on >> requests >> reviews >> reply_off >> status_off >> digest
