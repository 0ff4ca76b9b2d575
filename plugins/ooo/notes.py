"""An absence run's note: who, when, buddy, approval, and what was done or undone, at a glance.

Airflow shows a run's note in the runs list and on the run's page. Each task of the absence
rewrites the whole note from the plan and the steps' records, so it is always current and a
retry writes the same note again. (Tasks write it through the REST API: the Task SDK has no
call for it.)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ooo.absence import Absence, absence_from_dict
from ooo.messages import local_time, render
from ooo.steps import Records
from ooo.timeline import Timeline, timeline_from_dict

#: Airflow keeps at most this many characters of a note.
NOTE_MAX_CHARS = 1000


def clip(note: str) -> str:
    """The note as Airflow keeps it: cut, visibly, to :data:`NOTE_MAX_CHARS`."""
    return note if len(note) <= NOTE_MAX_CHARS else note[: NOTE_MAX_CHARS - 1] + "…"


def approval_state(absence: Absence, timeline: Timeline, answer: dict[str, Any] | None,
                   waiting: bool = False) -> str:
    """The approval as ops read it: not needed, waiting, approved by whom, or why not."""
    manager = absence.manager.name if absence.manager else "a manager"
    if absence.is_unexpected:
        return "not needed (unexpected absence)"
    if absence.approved_by is not None:
        return f"approved by {absence.approved_by.name} (recorded when filed)"
    if not answer:
        if waiting:
            deadline = local_time(timeline.approval_deadline, absence.employee.timezone)
            return f"waiting for {manager} until {deadline}"
        return "not given"
    who = (answer.get("responded_by_user") or {}).get("name") or manager
    if answer.get("chosen_options") == ["Approve"]:
        return f"approved by {who}"
    if answer.get("timedout"):
        return f"not approved: no answer from {manager} by the start"
    reason = ((answer.get("params_input") or {}).get("reason") or "").strip()
    return f"rejected by {who}" + (f": {reason}" if reason else "")


def done_so_far(records: Records, reviews_planned: int) -> list[str]:
    """One short phrase per step that has done something, in the procedure's order."""
    done = []
    cleanup = records.get("calendar_cleanup")
    if cleanup.get("ooo_event_id"):
        done.append(f"out-of-office block, {len(cleanup.get('declined') or [])} meetings declined, "
                    f"{len(cleanup.get('reschedule_emails') or [])} reschedule notes")
    for step, phrase in (("team_notice", "team notice"), ("buddy_handover", "buddy handover"),
                         ("voicemail_reminder", "voicemail script")):
        if records.get(step).get("ts"):
            done.append(phrase)
    if records.get("auto_reply_on").get("enabled"):
        done.append("auto-reply on")
    reviews = records.reviews()
    if reviews:
        raised = sum(len(r.get("raised") or []) for r in reviews)
        done.append(f"SMS reviews {len(reviews)}/{reviews_planned} ({raised} texts raised)")
    if records.get("auto_reply_off").get("verified"):
        done.append("auto-reply off")
    if records.get("return_digest").get("message_id"):
        done.append("digest sent")
    return done


def plan_note(plan: dict[str, Any], answer: dict[str, Any] | None, records: Records, waiting: bool = False,
              undone: str | None = None) -> str:
    """The note of the absence planned as ``plan`` (the ``validate`` task's XCom, changes included)."""
    absence, timeline = absence_from_dict(plan["absence"]), timeline_from_dict(plan["timeline"])
    return run_note(absence, timeline, approval_state(absence, timeline, answer, waiting), records,
                    warnings=plan.get("warnings") or [], changes=[c["summary"] for c in plan.get("changes") or []],
                    undone=undone)


def run_note(absence: Absence, timeline: Timeline, approval: str, records: Records,
             warnings: Sequence[str] = (), changes: Sequence[str] = (), undone: str | None = None) -> str:
    note = render("run_note.md", absence=absence, timeline=timeline, approval=approval,
                  done=done_so_far(records, len(timeline.reviews)), warnings=warnings, changes=changes,
                  undone=undone).strip()
    return clip(note)
