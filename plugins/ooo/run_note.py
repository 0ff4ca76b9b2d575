"""An absence run's note: who, when, buddy, approval, and what was done or undone, at a glance.

Airflow shows a run's note in the runs list and on the run's page. Each task of the absence
rewrites the whole note from the plan and the steps' records, so it is always current and a
retry writes the same note again. (Tasks write it through the REST API: the Task SDK has no
call for it.)
"""

from __future__ import annotations

from ooo.absence import Absence
from ooo.plan import Plan
from ooo.records import ApprovalAnswer, Records, TeamNotice
from ooo.templates import local_time, render
from ooo.timeline import Timeline

#: Airflow keeps at most this many characters of a note.
NOTE_MAX_CHARS = 1000


def clip(note: str) -> str:
    """The note as Airflow keeps it: cut, visibly, to :data:`NOTE_MAX_CHARS`."""
    return note if len(note) <= NOTE_MAX_CHARS else note[: NOTE_MAX_CHARS - 1] + "…"


def approval_state(absence: Absence, timeline: Timeline, answer: ApprovalAnswer | None,
                   waiting: bool = False) -> str:
    """The approval as ops read it: not needed, waiting, approved by whom, or why not."""
    manager = absence.manager.name if absence.manager else "a manager"
    if absence.is_unexpected:
        return "not needed (unexpected absence)"
    if absence.approved_by is not None:
        return f"approved by {absence.approved_by.name} (recorded when filed)"
    if answer is None or not (answer.chosen_options or answer.timedout):
        if waiting:
            deadline = local_time(timeline.approval_deadline, absence.employee.timezone)
            return f"waiting for {manager} until {deadline}"
        return "not given"
    who = (answer.responded_by_user or {}).get("name") or manager
    if answer.approved:
        return f"approved by {who}"
    if answer.timedout:
        return f"not approved: no answer from {manager} by the start"
    return f"rejected by {who}" + (f": {answer.reason}" if answer.reason else "")


def done_so_far(records: Records, reviews_planned: int) -> list[str]:
    """One short phrase per step that has done something, in the procedure's order."""
    done = []
    cleanup = records.calendar_cleanup
    if cleanup and cleanup.ooo_event_id:
        done.append(f"out-of-office block, {len(cleanup.declined)} meetings declined, "
                    f"{len(cleanup.reschedule_emails)} reschedule notes")
    for post, phrase in ((records.team_notice, "team notice"), (records.buddy_handover, "buddy handover"),
                         (records.voicemail_reminder, "voicemail script")):
        if post and post.ts:
            done.append(phrase)
    if records.auto_reply_on and records.auto_reply_on.enabled:
        done.append("auto-reply on")
    if records.visit_requests and records.visit_requests.ts:
        done.append(f"visit requests to the DM ({len(records.visit_requests.requests)})")
    if records.reviews:
        raised = sum(len(r.raised) for r in records.reviews)
        done.append(f"SMS reviews {len(records.reviews)}/{reviews_planned} ({raised} texts raised)")
    if records.auto_reply_off and records.auto_reply_off.verified:
        done.append("auto-reply off")
    if records.return_digest and records.return_digest.message_id:
        done.append("digest sent")
    return done


def run_note(plan: Plan, answer: ApprovalAnswer | None, records: Records, waiting: bool = False,
             undone: str | None = None) -> str:
    """The note of the absence planned as ``plan`` (changes included)."""
    absence, timeline = plan.absence, plan.timeline
    notice = records.team_notice
    unknown = [f"The client {absence.client_company} is named as given in the notices: "
               f"{notice.client_company_unknown}."] \
        if isinstance(notice, TeamNotice) and notice.client_company_unknown else []
    note = render("run_note.md", absence=absence, timeline=timeline,
                  approval=approval_state(absence, timeline, answer, waiting),
                  done=done_so_far(records, len(timeline.reviews)), warnings=[*plan.warnings, *unknown],
                  changes=[c.summary for c in plan.changes], undone=undone).strip()
    return clip(note)
