"""An absence run's note: where the absence stands, first, then who, when, buddy, approval and what was done.

Airflow shows a run's note on the run's page (its first line in the grid and lists), so the first
line carries the absence at a glance: "Maya Patel · Dec 7–11 · waiting for Allison Reed's approval
until Dec 7". Each task of the absence rewrites the whole note from the plan and the steps' records,
so it is always current and a retry writes the same note again. (Tasks write it through the REST
API: the Task SDK has no call for it.)
"""

from __future__ import annotations

from ooo.plan import Plan
from ooo.records import ApprovalAnswer, Records, TeamNotice
from ooo.team import Team
from ooo.templates import counted, day_range, local_time, month_day, render

#: Airflow keeps at most this many characters of a note.
NOTE_MAX_CHARS = 1000


def clip(note: str) -> str:
    """The note as Airflow keeps it: cut, visibly, to :data:`NOTE_MAX_CHARS`."""
    return note if len(note) <= NOTE_MAX_CHARS else note[: NOTE_MAX_CHARS - 1] + "…"


def responder(answer: ApprovalAnswer, plan: Plan, team: Team | None) -> str:
    """Who answered, by their roster name (an Airflow login is the person's email), never an account name."""
    user = answer.responded_by_user or {}
    for login in (user.get("name"), user.get("id")):
        if team and (name := team.name_of(str(login or ""))):
            return name
    if answer.recorded and user.get("name"):
        return str(user["name"])
    asked = plan.asked
    return asked.name if asked else str(user.get("name") or "the manager")


def approval_state(plan: Plan, answer: ApprovalAnswer | None, waiting: bool = False, team: Team | None = None) -> str:
    """The approval as ops read it: not needed, waiting for whom until when, approved by whom, or why not."""
    absence, asked = plan.absence, plan.asked
    name = asked.name if asked else "a manager"
    if absence.is_unexpected:
        return "not needed (unexpected absence)"
    if absence.approved_by is not None:
        return f"approved by {absence.approved_by.name} (recorded when filed)"
    if answer is None or not (answer.chosen_options or answer.timedout):
        if waiting:
            deadline = local_time(plan.timeline.approval_deadline, absence.employee.timezone)
            why = f" ({plan.approver_why}, so their deputy answers)" if plan.approver_why else ""
            return f"waiting for {name}{why} until {deadline}"
        return "not given"
    if answer.timedout:
        return f"not approved: no answer from {name} by the start"
    who = responder(answer, plan, team)
    if answer.approved:
        return f"approved by {who}"
    return f"rejected by {who}" + (f": {answer.reason}" if answer.reason else "")


def headline(plan: Plan, answer: ApprovalAnswer | None, records: Records, waiting: bool = False,
             team: Team | None = None) -> str:
    """The note's first line: who, the days, and where the absence stands, in words."""
    absence, timeline = plan.absence, plan.timeline
    head = f"{absence.employee.name} · {day_range(absence.start, absence.end)}"
    back = month_day(timeline.return_day)
    if cancelled := plan.cancelled:
        by = (team.name_of(cancelled.by) if team else None) or cancelled.by or "ops"
        return f"{head} · cancelled by {by}" + (f" on {month_day(cancelled.at)}" if cancelled.at else "")
    if answer is not None and not answer.recorded and (answer.chosen_options or answer.timedout) \
            and not answer.approved:
        if answer.timedout:
            return f"{head} · not approved: no answer by {month_day(timeline.approval_deadline)}"
        return f"{head} · rejected by {responder(answer, plan, team)}"
    if waiting or (not absence.is_unexpected and absence.approved_by is None and answer is None):
        asked = plan.asked.name if plan.asked else "the manager"
        return f"{head} · waiting for {asked}'s approval until {month_day(timeline.approval_deadline)}"
    if records.return_digest and records.return_digest.message_id:
        return f"{head} · back {back} · digest sent"
    if records.auto_reply_off and records.auto_reply_off.verified:
        return f"{head} · back {back}"
    if (records.auto_reply_on and records.auto_reply_on.enabled) or records.reviews:
        return f"{head} · out · back {back}"
    if records.team_notice and records.team_notice.ts:
        return f"{head} · announced · auto-reply on {month_day(absence.start)}"
    notice = timeline.moments.get("team_notice")
    told = f" · team told {month_day(notice.at)}" if notice and not notice.skip else ""
    return f"{head} · {'unexpected' if absence.is_unexpected else 'approved'}{told}"


def done_so_far(records: Records, reviews_planned: int) -> list[str]:
    """One short phrase per step that has done something, in the procedure's order."""
    done = []
    cleanup = records.calendar_cleanup
    if cleanup and cleanup.ooo_event_id:
        done.append(f"out-of-office block, {counted(len(cleanup.declined), 'meeting')} declined, "
                    f"{counted(len(cleanup.reschedule_emails), 'reschedule note')}")
    if records.team_notice and records.team_notice.ts:
        done.append("team notice")
    customers = records.customer_notice
    if customers and (customers.told or not customers.skipped):
        done.append(customers.summary)
    if customers and customers.cc and customers.cc.ts:
        done.append("CC told")
    for post, phrase in ((records.buddy_handover, "buddy handover"), (records.voicemail_reminder, "voicemail script")):
        if post and post.ts:
            done.append(phrase)
    if records.auto_reply_on and records.auto_reply_on.enabled:
        done.append("auto-reply on")
    if records.slack_status_on and records.slack_status_on.status:
        done.append("Slack status set")
    if records.visit_requests and records.visit_requests.ts:
        done.append(f"visit requests to the DM ({len(records.visit_requests.requests)})")
    if records.reviews:
        raised = sum(len(r.raised) for r in records.reviews)
        done.append(f"SMS reviews {len(records.reviews)}/{reviews_planned} ({counted(raised, 'text')} raised)")
    if records.auto_reply_off and records.auto_reply_off.verified:
        done.append("auto-reply off")
    if (off := records.slack_status_off) and off.changed_meanwhile:
        done.append("Slack status left as they changed it")
    elif off and (off.put_back or (records.slack_status_on and records.slack_status_on.status)):
        done.append("Slack status back as before")
    if records.return_digest and records.return_digest.message_id:
        done.append("digest sent")
    return done


def run_note(plan: Plan, answer: ApprovalAnswer | None, records: Records, waiting: bool = False,
             undone: str | None = None, team: Team | None = None) -> str:
    """The note of the absence planned as ``plan`` (changes included)."""
    absence, timeline = plan.absence, plan.timeline
    filed_by = (team.name_of(absence.filed_by) if team else None) or absence.filed_by
    notice = records.team_notice
    unknown = [f"The client {absence.client_company} is named as given in the notices: "
               f"{notice.client_company_unknown}."] \
        if isinstance(notice, TeamNotice) and notice.client_company_unknown else []
    note = render("run_note.md", absence=absence, timeline=timeline,
                  headline=headline(plan, answer, records, waiting, team), filed_by=filed_by,
                  approval=approval_state(plan, answer, waiting, team),
                  done=done_so_far(records, len(timeline.reviews)), warnings=[*plan.warnings, *unknown],
                  changes=[c.summary for c in plan.changes if c.kind != "cancelled"], undone=undone).strip()
    return clip(note)
