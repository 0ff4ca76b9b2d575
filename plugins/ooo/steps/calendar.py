"""Calendar and meeting cleanup (Google Calendar), right after approval.

What the procedure asks (seeds 000 and 003), acting as the employee:

* the out-of-office block over the absence, which auto-declines new invitations; when the
  employee put their own out-of-office event over the absence (as the protocol asks), that event
  is adopted as the block instead of adding a second one: its id is recorded, and nothing of it
  is changed (the meetings it declined count as declined by the absence, so their clients get the
  reschedule note too);
* every meeting in the window the employee attends declined on their own copy (the others keep
  theirs); internal ones (team meetings, Lunch & Learns) recorded for the return digest;
  external ones: the "CSM OOO Meeting Reschedule Notification" mailed to the clients from the
  employee's mailbox;
* meetings the employee organises are never cancelled for the others: their clients get the
  note too, and the list goes to the buddy;
* each note logged on the clients' HubSpot contacts and companies, as the protocol's HubSpot email
  template would be (:mod:`ooo.steps.hubspot_log`; a client HubSpot does not know is reported);
* a CSM's handover with the buddy the working day before; a CC's coverage review with the
  manager a week before.

Idempotent: every event id is derived from the run key (409 = made by an earlier try), declines
are marked on the employee's copy (``extendedProperties.private.oooRun``), and each note carries
a Message-ID derived from the run key and the meeting, looked up before sending.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ooo.absence import Absence
from ooo.keys import MARKER, event_id, reschedule_message_id
from ooo.out_of_office import covering
from ooo.procedure import Step
from ooo.records import (
    CalendarCleanup,
    DeclinedMeeting,
    MissedMeeting,
    OrganisedMeeting,
    RescheduleEmail,
    SkippedMeeting,
)
from ooo.steps.context import StepContext
from ooo.steps.hubspot_log import log_to_clients
from ooo.steps.mail import automated_email, send_once
from ooo.steps.meetings import about_the_absence, meeting_when, recipients, to_clients
from ooo.templates import render, split_subject
from ooo.timeline import Timeline
from ooo.times import event_time


@dataclass(frozen=True)
class MeetingPlan:
    """What the cleanup does with one meeting in the window, decided before anything is done.

    ``skip`` says why it is left as it is; otherwise it is declined (``decline`` is False when the
    employee's copy already is, by this run, or when they only organise it) and ``external``
    guests get the reschedule note. ``ooo plan --services`` shows these without doing them.
    """

    event: dict[str, Any]
    summary: str
    start: dt.datetime
    when: str
    me: dict[str, Any] | None
    organiser: bool
    others: list[dict[str, Any]]
    skip: str | None = None
    decline: bool = False
    external: list[dict[str, Any]] = field(default_factory=list)

    @property
    def kind(self) -> str:
        return "external" if self.external else "internal"


def ooo_event_text(ctx: StepContext) -> tuple[str, str]:
    """The out-of-office block's title and the decline message Calendar sends with it."""
    summary, message = split_subject(render("ooo_event.txt", **about_the_absence(ctx)))
    return summary, message.strip()


def own_block(ctx: StepContext, events: Sequence[Mapping[str, Any]]) -> Mapping[str, Any] | None:
    """The employee's own out-of-office event among ``events`` that covers the whole absence: the
    absence adopts it as its block (pure)."""
    absence = ctx.absence
    return covering(events, absence.employee, ctx.team, absence.start, absence.end, ctx.timeline.out_from)


def meeting_plans(ctx: StepContext, events: list[dict[str, Any]]) -> list[MeetingPlan]:
    """What :func:`calendar_cleanup` does with each meeting of ``events`` (pure: nothing is changed)."""
    _, decline_message = ooo_event_text(ctx)
    # A meeting declined by the block (ours, or the employee's own adopted) is declined by the absence.
    adopted = own_block(ctx, events)
    theirs = str(((adopted or {}).get("outOfOfficeProperties") or {}).get("declineMessage") or "")
    messages = {decline_message, theirs} - {""}
    # Meetings that began before the absence was logged are left as they are (an unexpected
    # absence logged mid-morning); a backfilled run replays from its logical date.
    cutoff = max(ctx.timeline.out_from, ctx.absence.requested_at)
    plans = (_plan_meeting(ctx, event, cutoff, messages) for event in events)
    return [plan for plan in plans if plan is not None]


def meeting_skip(absence: Absence, timeline: Timeline, step: Step) -> str | None:
    """Why the cleanup books no ``handover_meeting`` / ``coverage_review`` (None: it books it)."""
    moment = timeline.moments.get(step)
    if moment is None:
        return "not in this absence's plan"
    if moment.skip:
        return moment.skip
    if step is Step.COVERAGE_REVIEW and absence.manager is None:
        return f"{absence.employee.name} has no manager in the roster"
    return None


def calendar_cleanup(ctx: StepContext) -> CalendarCleanup:
    absence, timeline = ctx.absence, ctx.timeline
    employee = absence.employee
    google = ctx.services.google(employee.email)
    common = about_the_absence(ctx)
    ooo_summary, decline_message = ooo_event_text(ctx)

    done = _Done()
    meetings = google.list_events(timeline.out_from, timeline.back_at, single_events=True)
    for plan in meeting_plans(ctx, meetings):
        _meeting(ctx, google, plan, done, decline_message)

    adopted = own_block(ctx, meetings)
    ours = event_id(ctx.key, "ooo")
    if adopted is not None and (google.get_event(ours) or {}).get("status", "cancelled") == "cancelled":
        ooo_event_id = adopted["id"]  # theirs, as they made it: never patched, never deleted by the absence
        ctx.log.info("%s's own out-of-office event %s covers the absence: adopted as its block", employee.name,
                     ooo_event_id)
    else:
        adopted = None  # no own event, or an earlier try of this step made the block already
        ooo_event_id = _ensure_event(ctx, google, _block(ctx, ooo_summary, decline_message), "out-of-office event")

    handover_event_id = coverage_review_event_id = None
    client_meetings = [m for m in done.declined if m.kind == "external"]
    if employee.role == "csm" and Step.HANDOVER_MEETING in timeline.moments:
        if skip := meeting_skip(absence, timeline, Step.HANDOVER_MEETING):
            ctx.log.info("no handover meeting: %s", skip)
        else:
            summary, description = split_subject(render(
                "handover_meeting.txt", **common, client_meetings=client_meetings, organised=done.organised))
            handover_event_id = _ensure_event(ctx, google, _meeting_event(
                ctx, "handover", summary, description, timeline[Step.HANDOVER_MEETING].at,
                [employee.email, absence.buddy.email]),
                "handover meeting", send_updates="all")
    if employee.role == "cc" and Step.COVERAGE_REVIEW in timeline.moments:
        if skip := meeting_skip(absence, timeline, Step.COVERAGE_REVIEW):
            ctx.log.info("no coverage review: %s", skip)
        elif absence.manager is not None:  # narrowed: meeting_skip says so when there is none
            contacts = ", ".join(p.name for p in map(ctx.team.person, ctx.team.cc_request_contacts) if p) \
                or absence.manager.name
            summary, description = split_subject(render("coverage_review.txt", **common,
                                                        request_contacts=contacts))
            coverage_review_event_id = _ensure_event(ctx, google, _meeting_event(
                ctx, "coverage-review", summary, description, timeline[Step.COVERAGE_REVIEW].at,
                [employee.email, absence.manager.email]),
                "coverage review", send_updates="all")
    ctx.log.info("calendar cleanup for %s: %d declined, %d reschedule notes, %d organised, %d skipped",
                 employee.email, len(done.declined), len(done.reschedule_emails), len(done.organised),
                 len(done.skipped))
    return CalendarCleanup(ooo_event_id=ooo_event_id, ooo_event_adopted=adopted is not None,
                           declined=done.declined,
                           reschedule_emails=done.reschedule_emails, organised=done.organised,
                           missed_internal=done.missed_internal, skipped=done.skipped,
                           handover_event_id=handover_event_id, coverage_review_event_id=coverage_review_event_id)


@dataclass
class _Done:
    """What the cleanup did with the meetings so far."""

    declined: list[DeclinedMeeting] = field(default_factory=list)
    reschedule_emails: list[RescheduleEmail] = field(default_factory=list)
    organised: list[OrganisedMeeting] = field(default_factory=list)
    missed_internal: list[MissedMeeting] = field(default_factory=list)
    skipped: list[SkippedMeeting] = field(default_factory=list)


def _block(ctx: StepContext, summary: str, decline_message: str) -> dict[str, Any]:
    """The absence's own out-of-office block, from the start of the first day out to the return."""
    tz = ctx.absence.employee.timezone
    return {
        "id": event_id(ctx.key, "ooo"),
        "eventType": "outOfOffice",
        "summary": summary,
        "start": {"dateTime": ctx.timeline.out_from.isoformat(), "timeZone": tz},
        "end": {"dateTime": ctx.timeline.back_at.isoformat(), "timeZone": tz},
        "transparency": "opaque",
        "outOfOfficeProperties": {"autoDeclineMode": "declineAllConflictingInvitations",
                                  "declineMessage": decline_message},
        "extendedProperties": {"private": {MARKER: ctx.key}},
    }


def _plan_meeting(ctx: StepContext, event: dict[str, Any], cutoff: dt.datetime,
                  decline_messages: set[str]) -> MeetingPlan | None:
    if event.get("eventType", "default") != "default" or event.get("status") == "cancelled":
        return None  # out-of-office, focus time, working location: not meetings
    attendees = event.get("attendees") or []
    me = next((a for a in attendees if a.get("self")), None)
    organiser = bool((event.get("organizer") or {}).get("self"))
    others = [a for a in attendees if not a.get("self") and not a.get("resource")]
    if not others or (me is None and not organiser):
        return None  # a personal block or an all-day reminder with no guests: not a meeting
    tz = ctx.absence.employee.timezone
    start = event_time(event, tz)
    if start is None:
        return None
    seen = MeetingPlan(event=event, summary=event.get("summary") or "(no title)", start=start,
                       when=meeting_when(event, tz), me=me, organiser=organiser, others=others)
    if start < cutoff:
        return dataclasses.replace(seen, skip="it began before the absence was logged")
    private = (event.get("extendedProperties") or {}).get("private") or {}
    ours = private.get(MARKER) == ctx.key or (me or {}).get("comment") in decline_messages
    if me is not None and me.get("responseStatus") == "declined" and not ours:
        return dataclasses.replace(seen, skip="already declined")
    decline = me is not None and not (me.get("responseStatus") == "declined" and private.get(MARKER) == ctx.key)
    return dataclasses.replace(seen, decline=decline,
                               external=[a for a in others if not ctx.team.is_internal(a["email"])])


def _meeting(ctx: StepContext, google: Any, plan: MeetingPlan, done: _Done, decline_message: str) -> None:
    event, summary, start, when = plan.event, plan.summary, plan.start, plan.when
    if plan.skip:
        done.skipped.append(SkippedMeeting(id=event["id"], summary=summary, reason=plan.skip))
        return
    organiser, others, external, kind = plan.organiser, plan.others, plan.external, plan.kind
    if plan.decline and plan.me is not None and plan.me.get("responseStatus") == "declined":
        # declined by the block already (Calendar's auto-decline): marked as the absence's, the answer kept
        google.patch_event(event["id"], {"extendedProperties": {"private": {MARKER: ctx.key}}})
    elif plan.decline and plan.me is not None:
        google.patch_event(event["id"], {
            "attendeesOmitted": True,
            "attendees": [{"email": plan.me["email"], "responseStatus": "declined", "comment": decline_message}],
            "extendedProperties": {"private": {MARKER: ctx.key}},
        })
    link = event.get("htmlLink")
    done.declined.append(DeclinedMeeting(id=event["id"], summary=summary, start=start.isoformat(), when=when,
                                         kind=kind, organised=organiser, html_link=link))
    if organiser:
        done.organised.append(OrganisedMeeting(
            id=event["id"], summary=summary, start=start.isoformat(), when=when,
            attendees=[a["email"] for a in others], external=[a["email"] for a in external], html_link=link))
    if external:
        done.reschedule_emails.append(_send_reschedule_note(ctx, google, plan))
    elif not organiser:
        end = event_time(event, ctx.absence.employee.timezone, "end") or start
        done.missed_internal.append(MissedMeeting(
            id=event["id"], summary=summary, start=start.isoformat(), when=when, end=end.isoformat(),
            description=event.get("description") or "",
            attachments=[{"title": a.get("title", ""), "fileUrl": a.get("fileUrl", "")}
                         for a in event.get("attachments") or []],
            html_link=link, organizer=(event.get("organizer") or {}).get("email"),
            recurring_event_id=event.get("recurringEventId")))


def reschedule_note(ctx: StepContext, plan: MeetingPlan) -> tuple[str, str, str]:
    """The reschedule note to ``plan``'s external guests: subject, plain text and HTML."""
    context = to_clients(ctx, plan.event, plan.external, plan.when)
    subject, text = split_subject(render("reschedule_notification.txt", **context))
    return subject, text, render("reschedule_notification.html", **context)


def _send_reschedule_note(ctx: StepContext, google: Any, plan: MeetingPlan) -> RescheduleEmail:
    event, external = plan.event, plan.external
    subject, text, html = reschedule_note(ctx, plan)
    mid = reschedule_message_id(ctx.key, event["id"], ctx.team.email_domain)
    message = automated_email(ctx.absence.employee, recipients(external), subject, text, html, mid, ctx.now)
    gmail_id, sent = send_once(google, message, look_first=not ctx.first_try)
    if not sent:
        ctx.log.info("reschedule note %s was sent by an earlier try", mid)
    to = [a["email"] for a in external]
    logged = log_to_clients(ctx, message, to)
    return RescheduleEmail(event_id=event["id"], event=event.get("summary") or "", to=to, subject=subject,
                           message_id=mid, gmail_id=gmail_id, logged=logged.engagement_id,
                           not_in_hubspot=logged.not_in_hubspot)


def _meeting_event(ctx: StepContext, what: str, summary: str, description: str, at: dt.datetime,
                   attendees: list[str]) -> dict[str, Any]:
    tz = ctx.absence.employee.timezone
    end = at + dt.timedelta(minutes=ctx.team.meeting_minutes)
    return {
        "id": event_id(ctx.key, what), "summary": summary, "description": description,
        "start": {"dateTime": at.isoformat(), "timeZone": tz}, "end": {"dateTime": end.isoformat(), "timeZone": tz},
        "attendees": [{"email": email, **({"responseStatus": "accepted"} if i == 0 else {})}
                      for i, email in enumerate(attendees)],
        "extendedProperties": {"private": {MARKER: ctx.key}},
    }


def _ensure_event(ctx: StepContext, google: Any, event: dict[str, Any], what: str,
                  send_updates: str = "none") -> str:
    """Create ``event``; a retry finds the one an earlier try made (409) instead of doubling it."""
    created = google.insert_event(event, send_updates=send_updates)
    if created is not None:
        ctx.log.info("created the %s %s", what, event["id"])
        return created["id"]
    existing = google.get_event(event["id"])
    if existing is not None and existing.get("status") == "cancelled":
        google.patch_event(event["id"], {"status": "confirmed"}, send_updates=send_updates)
        ctx.log.info("restored the %s %s (it had been deleted)", what, event["id"])
    else:
        ctx.log.info("the %s %s already exists", what, event["id"])
    return event["id"]
