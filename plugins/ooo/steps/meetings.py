"""Meetings the absence touches, as both the cleanup and its undoing see them.

What the notes to a meeting's clients are written from, and putting declined meetings back on the
calendar (a cancel, or a return earlier than planned), with a reply to the clients who were asked
to reschedule: the meeting stands (logged on their HubSpot records, like the note it answers).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from ooo.keys import MARKER, meeting_stands_message_id, reschedule_message_id
from ooo.records import RestoredMeeting
from ooo.steps.context import StepContext
from ooo.steps.hubspot_log import Logged, log_to_clients
from ooo.steps.mail import automated_email, send_once
from ooo.team import Team
from ooo.templates import days_out, local_time, long_date, render, split_subject
from ooo.times import event_time


def meeting_when(event: Mapping[str, Any], tz: str) -> str:
    """When the meeting is, as the employee reads it (their time zone)."""
    if event["start"].get("date"):
        return long_date(event["start"]["date"])
    start = event_time(event, tz)
    assert start is not None
    return local_time(start, tz)


def client_guests(event: Mapping[str, Any], team: Team) -> list[dict[str, Any]]:
    """The meeting's guests from outside the company (not the employee, not rooms)."""
    return [a for a in event.get("attendees") or []
            if not a.get("self") and not a.get("resource") and not team.is_internal(a["email"])]


def about_the_absence(ctx: StepContext) -> dict[str, Any]:
    """What every note about the absence is written from."""
    return {"absence": ctx.absence, "return_day": ctx.timeline.return_day, "company": ctx.team.company,
            "days": days_out(ctx.absence, ctx.timeline)}


def to_clients(ctx: StepContext, event: Mapping[str, Any], external: list[dict[str, Any]], when: str) -> dict[str, Any]:
    """What a note to a meeting's clients is written from: the meeting, and a greeting by first name."""
    names = [a.get("displayName", "").split()[0] for a in external if a.get("displayName")]
    return {**about_the_absence(ctx), "meeting": {"summary": event.get("summary") or "our meeting", "when": when},
            "greeting": " and ".join(names) if 0 < len(names) == len(external) else "there"}


def recipients(external: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(a.get("displayName", ""), a["email"]) for a in external]


def restore_meetings(ctx: StepContext, start: dt.datetime, end: dt.datetime,
                     cancelled: bool) -> list[RestoredMeeting]:
    """The meetings from ``start`` to ``end`` the absence declined: back on the calendar.

    Clients who were sent the reschedule note are told the meeting stands after all (the absence
    is ``cancelled``, or the employee is back before it).
    """
    if end <= start:
        return []
    employee = ctx.absence.employee
    tz = employee.timezone
    google = ctx.services.google(employee.email)
    restored = []
    for event in google.list_events(start, end, single_events=True,
                                    privateExtendedProperty=f"{MARKER}={ctx.key}"):
        me = next((a for a in event.get("attendees") or [] if a.get("self")), None)
        if event.get("eventType", "default") != "default" or me is None or me.get("responseStatus") != "declined":
            continue  # the block itself, or a meeting the absence booked
        organiser = bool((event.get("organizer") or {}).get("self"))
        google.patch_event(event["id"], {
            "attendeesOmitted": True,
            "attendees": [{"email": me["email"], "responseStatus": "accepted" if organiser else "needsAction",
                           "comment": ""}],
            "extendedProperties": {"private": {MARKER: ""}},
        })
        when = meeting_when(event, tz)
        external = client_guests(event, ctx.team)
        told: list[str] = []
        logged = Logged()
        if external and google.find_message(reschedule_message_id(ctx.key, event["id"], ctx.team.email_domain)):
            told, logged = _meeting_stands(ctx, google, event, external, when, cancelled)
        restored.append(RestoredMeeting(id=event["id"], summary=event.get("summary") or "(no title)", when=when,
                                        told=told, logged=logged.engagement_id, not_in_hubspot=logged.not_in_hubspot))
    ctx.log.info("%d declined meetings put back on %s's calendar", len(restored), employee.name)
    return restored


def _meeting_stands(ctx: StepContext, google: Any, event: Mapping[str, Any], external: list[dict[str, Any]],
                    when: str, cancelled: bool) -> tuple[list[str], Logged]:
    """Tell the clients who were asked to reschedule that the meeting stands (a reply to that note),
    and log it on their HubSpot records."""
    domain = ctx.team.email_domain
    original = reschedule_message_id(ctx.key, event["id"], domain)
    context = {**to_clients(ctx, event, external, when), "cancelled": cancelled}
    subject, text = split_subject(render("meeting_stands.txt", **context))
    message = automated_email(ctx.absence.employee, recipients(external), subject, text,
                              render("meeting_stands.html", **context),
                              meeting_stands_message_id(ctx.key, event["id"], domain), ctx.now,
                              headers={"In-Reply-To": original, "References": original})
    send_once(google, message)
    told = [a["email"] for a in external]
    return told, log_to_clients(ctx, message, told)
