"""Calendar and meeting cleanup (Google Calendar), right after approval.

What the procedure asks (seeds 000 and 003), acting as the employee:

* the out-of-office block over the absence, which auto-declines new invitations;
* every meeting in the window the employee attends declined on their own copy (the others keep
  theirs); internal ones (team meetings, Lunch & Learns) recorded for the return digest;
  external ones: the "CSM OOO Meeting Reschedule Notification" mailed to the clients from the
  employee's mailbox;
* meetings the employee organises are never cancelled for the others: their clients get the
  note too, and the list goes to the buddy;
* a CSM's handover with the buddy the working day before; a CC's coverage review with the
  manager a week before.

Idempotent: every event id is derived from the run key (409 = made by an earlier try), declines
are marked on the employee's copy (``extendedProperties.private.oooRun``), and each note carries
a Message-ID derived from the run key and the meeting, looked up before sending.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any
from zoneinfo import ZoneInfo

from ooo.messages import local_time, long_date, render, split_subject
from ooo.steps import StepContext
from ooo.steps.mail import automated_email, send_once

MARKER = "oooRun"  # extendedProperties.private key on what this run made or declined


def event_id(ctx: StepContext, what: str) -> str:
    """A deterministic Calendar event id (hex is base32hex) for ``what`` in this run."""
    return hashlib.sha256(f"{ctx.key}/{what}".encode()).hexdigest()[:26]


def message_id(ctx: StepContext, event: str) -> str:
    """The Message-ID of the reschedule note for ``event`` in this run."""
    digest = hashlib.sha256(event.encode()).hexdigest()[:16]
    return f"<ooo.{ctx.key}.{digest}@{ctx.team.email_domain}>"


def calendar_cleanup(ctx: StepContext) -> dict[str, Any]:
    absence, timeline = ctx.absence, ctx.timeline
    employee = absence.employee
    google = ctx.services.google(employee.email)
    tz = employee.timezone
    common = {"absence": absence, "return_day": timeline.return_day, "company": ctx.team.company}
    ooo_summary, decline_message = split_subject(render("ooo_event.txt", **common))
    decline_message = decline_message.strip()
    # Meetings that began before the absence was logged are left as they are (an unexpected
    # absence logged mid-morning); a backfilled run replays from its logical date.
    cutoff = max(timeline.out_from, absence.requested_at)

    record: dict[str, Any] = {
        "ooo_event_id": None, "declined": [], "reschedule_emails": [], "organised": [],
        "missed_internal": [], "skipped": [], "handover_event_id": None, "coverage_review_event_id": None,
    }
    meetings = google.list_events(timeline.out_from, timeline.back_at, single_events=True)
    for event in meetings:
        _meeting(ctx, google, event, record, cutoff, decline_message, tz, common)

    ooo = {
        "id": event_id(ctx, "ooo"),
        "eventType": "outOfOffice",
        "summary": ooo_summary,
        "start": {"dateTime": timeline.out_from.isoformat(), "timeZone": tz},
        "end": {"dateTime": timeline.back_at.isoformat(), "timeZone": tz},
        "transparency": "opaque",
        "outOfOfficeProperties": {"autoDeclineMode": "declineAllConflictingInvitations",
                                  "declineMessage": decline_message},
        "extendedProperties": {"private": {MARKER: ctx.key}},
    }
    record["ooo_event_id"] = _ensure_event(ctx, google, ooo, "out-of-office event")

    client_meetings = [m for m in record["declined"] if m["kind"] == "external"]
    handover = timeline.moments.get("handover_meeting")
    if employee.role == "csm" and handover is not None:
        if handover.skip:
            ctx.log.info("no handover meeting: %s", handover.skip)
        else:
            summary, description = split_subject(render(
                "handover_meeting.txt", **common, client_meetings=client_meetings, organised=record["organised"]))
            record["handover_event_id"] = _ensure_event(ctx, google, _meeting_event(
                ctx, "handover", summary, description, handover.at, [employee.email, absence.buddy.email]),
                "handover meeting", send_updates="all")
    review = timeline.moments.get("coverage_review")
    if employee.role == "cc" and review is not None:
        if review.skip:
            ctx.log.info("no coverage review: %s", review.skip)
        elif absence.manager is None:
            ctx.log.info("no coverage review: %s has no manager in the roster", employee.name)
        else:
            contacts = ", ".join(p.name for p in map(ctx.team.person, ctx.team.cc_request_contacts) if p) \
                or absence.manager.name
            summary, description = split_subject(render("coverage_review.txt", **common,
                                                        request_contacts=contacts))
            record["coverage_review_event_id"] = _ensure_event(ctx, google, _meeting_event(
                ctx, "coverage-review", summary, description, review.at, [employee.email, absence.manager.email]),
                "coverage review", send_updates="all")
    ctx.log.info("calendar cleanup for %s: %d declined, %d reschedule notes, %d organised, %d skipped",
                 employee.email, len(record["declined"]), len(record["reschedule_emails"]),
                 len(record["organised"]), len(record["skipped"]))
    return record


def _meeting(ctx: StepContext, google: Any, event: dict[str, Any], record: dict[str, Any], cutoff: dt.datetime,
             decline_message: str, tz: str, common: dict[str, Any]) -> None:
    if event.get("eventType", "default") != "default" or event.get("status") == "cancelled":
        return  # out-of-office, focus time, working location: not meetings
    attendees = event.get("attendees") or []
    me = next((a for a in attendees if a.get("self")), None)
    organiser = bool((event.get("organizer") or {}).get("self"))
    others = [a for a in attendees if not a.get("self") and not a.get("resource")]
    summary = event.get("summary") or "(no title)"
    if not others or (me is None and not organiser):
        return  # a personal block or an all-day reminder with no guests: not a meeting
    start = _start(event, tz)
    if start < cutoff:
        record["skipped"].append({"id": event["id"], "summary": summary,
                                  "reason": "it began before the absence was logged"})
        return
    private = (event.get("extendedProperties") or {}).get("private") or {}
    ours = private.get(MARKER) == ctx.key or (me or {}).get("comment") == decline_message
    if me is not None and me.get("responseStatus") == "declined" and not ours:
        record["skipped"].append({"id": event["id"], "summary": summary, "reason": "already declined"})
        return
    external = [a for a in others if not ctx.team.is_internal(a["email"])]
    kind = "external" if external else "internal"
    if me is not None and not (me.get("responseStatus") == "declined" and private.get(MARKER) == ctx.key):
        google.patch_event(event["id"], {
            "attendeesOmitted": True,
            "attendees": [{"email": me["email"], "responseStatus": "declined", "comment": decline_message}],
            "extendedProperties": {"private": {MARKER: ctx.key}},
        })
    when = _when(event, tz)
    entry = {"id": event["id"], "summary": summary, "start": start.isoformat(), "when": when, "kind": kind,
             "organised": organiser, "htmlLink": event.get("htmlLink")}
    record["declined"].append(entry)
    if organiser:
        record["organised"].append({
            "id": event["id"], "summary": summary, "start": start.isoformat(), "when": when,
            "attendees": [a["email"] for a in others], "external": [a["email"] for a in external],
            "htmlLink": event.get("htmlLink"),
        })
    if external:
        record["reschedule_emails"].append(_reschedule_note(ctx, google, event, external, when, common))
    elif not organiser:
        record["missed_internal"].append({
            "id": event["id"], "summary": summary, "start": start.isoformat(), "when": when,
            "end": _start(event, tz, "end").isoformat(),
            "description": event.get("description") or "",
            "attachments": [{"title": a.get("title", ""), "fileUrl": a.get("fileUrl", "")}
                            for a in event.get("attachments") or []],
            "htmlLink": event.get("htmlLink"),
            "organizer": (event.get("organizer") or {}).get("email"),
            "recurringEventId": event.get("recurringEventId"),
        })


def _reschedule_note(ctx: StepContext, google: Any, event: dict[str, Any], external: list[dict[str, Any]],
                     when: str, common: dict[str, Any]) -> dict[str, Any]:
    employee = ctx.absence.employee
    names = [a.get("displayName", "").split()[0] for a in external if a.get("displayName")]
    context = {**common, "meeting": {"summary": event.get("summary") or "our meeting", "when": when},
               "greeting": " and ".join(names) if 0 < len(names) == len(external) else "there"}
    subject, text = split_subject(render("reschedule_notification.txt", **context))
    mid = message_id(ctx, event["id"])
    to = [a["email"] for a in external]
    note = {"event_id": event["id"], "event": event.get("summary"), "to": to, "subject": subject,
            "message_id": mid}
    message = automated_email(employee, [(a.get("displayName", ""), a["email"]) for a in external], subject, text,
                              render("reschedule_notification.html", **context), mid, ctx.now)
    gmail_id, sent = send_once(google, message)
    if not sent:
        ctx.log.info("reschedule note %s was sent by an earlier try", mid)
    return {**note, "gmail_id": gmail_id}


def _meeting_event(ctx: StepContext, what: str, summary: str, description: str, at: dt.datetime,
                   attendees: list[str]) -> dict[str, Any]:
    tz = ctx.absence.employee.timezone
    end = at + dt.timedelta(minutes=ctx.team.meeting_minutes)
    return {
        "id": event_id(ctx, what), "summary": summary, "description": description,
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


def _start(event: dict[str, Any], tz: str, side: str = "start") -> dt.datetime:
    value = event[side]
    if value.get("dateTime"):
        moment = dt.datetime.fromisoformat(value["dateTime"].replace("Z", "+00:00"))
        return moment if moment.tzinfo else moment.replace(tzinfo=ZoneInfo(value.get("timeZone") or tz))
    return dt.datetime.combine(dt.date.fromisoformat(value["date"]), dt.time(), ZoneInfo(tz))


def _when(event: dict[str, Any], tz: str) -> str:
    """When the meeting is, as the employee reads it (their time zone)."""
    if event["start"].get("date"):
        return long_date(event["start"]["date"])
    return local_time(_start(event, tz), tz)
