"""A person's own out-of-office event in Google Calendar, read as the days of an absence (pure).

The buddy-system protocol asks people to "place OOO dates on your calendar as soon as they are
known and when OOO unexpectedly"; ``ooo_intake`` files absences from those events, and
``calendar_cleanup`` adopts one as an absence's block instead of adding a second.

How an event reads, in the person's time zone (the roster's, as every absence is):

* it covers every day it touches; an all-day event's ``end.date`` and an end at midnight are
  exclusive (a week off made in Calendar's form runs from midnight to the midnight after);
* then it is trimmed to the team's working days (Saturday to Wednesday is an absence from
  Monday); an event on non-working days only is no absence;
* half days, when the team has a half-day split time: a start at or after it is an afternoon
  start (``start_half``), an end at or before it a morning end (``end_half``: back at the split).
  An end later in the day counts the whole day out, a start earlier the whole day.

The events ooo-pipelines makes (an absence's block carries ``keys.MARKER``) are never absences.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from ooo.keys import MARKER
from ooo.team import Person, Team
from ooo.times import event_time, maybe_instant

OUT_OF_OFFICE = "outOfOffice"
FULL, AFTERNOON, MORNING = "full", "afternoon", "morning"


@dataclass(frozen=True)
class OwnEvent:
    """An out-of-office event as an absence's days."""

    id: str
    series: str | None  # the recurring event it is an occurrence of
    first: dt.date  # first working day out
    last: dt.date  # last working day out
    starts: dt.datetime  # when the absence begins: the event's start, or its first working day's midnight
    start_half: str = FULL  # FULL | AFTERNOON
    end_half: str = FULL  # FULL | MORNING
    created: dt.datetime | None = None
    updated: dt.datetime | None = None

    @property
    def days(self) -> tuple[dt.date, dt.date]:
        return self.first, self.last


@dataclass(frozen=True)
class NoAbsence:
    """An event that is no absence, and why."""

    id: str
    reason: str


def is_ours(event: Mapping[str, Any]) -> bool:
    """Made by ooo-pipelines (an absence's block): it carries the run's key."""
    private = (event.get("extendedProperties") or {}).get("private") or {}
    return bool(private.get(MARKER))


def read_event(event: Mapping[str, Any], person: Person, team: Team) -> OwnEvent | NoAbsence:
    """What ``event`` on ``person``'s calendar says about their days out."""
    event_id = str(event.get("id") or "")
    if event.get("status") == "cancelled":
        return NoAbsence(event_id, "deleted")
    if event.get("eventType", "default") != OUT_OF_OFFICE:
        return NoAbsence(event_id, f"not an out-of-office event ({event.get('eventType', 'default')})")
    if is_ours(event):
        return NoAbsence(event_id, "made by ooo-pipelines (an absence's out-of-office block)")
    zone = ZoneInfo(person.timezone)
    start, end = event_time(event, person.timezone), event_time(event, person.timezone, "end")
    if start is None or end is None or end <= start:
        return NoAbsence(event_id, "it has no start and end")
    start, end = start.astimezone(zone), end.astimezone(zone)
    split = team.half_day_split
    first, start_half = start.date(), AFTERNOON if start.time() >= split else FULL
    if end.time() == dt.time(0):
        last, end_half = end.date() - dt.timedelta(days=1), FULL
    else:
        last, end_half = end.date(), MORNING if end.time() <= split else FULL
    while first <= last and not team.is_working_day(first):
        first, start_half = first + dt.timedelta(days=1), FULL
    while last >= first and not team.is_working_day(last):
        last, end_half = last - dt.timedelta(days=1), FULL
    if first > last:
        return NoAbsence(event_id, f"no working day in it ({start.date()} to {end.date()})")
    starts = start if first == start.date() else dt.datetime.combine(first, dt.time(), zone)
    return OwnEvent(id=event_id, series=event.get("recurringEventId"), first=first, last=last, starts=starts,
                    start_half=start_half, end_half=end_half, created=maybe_instant(event.get("created")),
                    updated=maybe_instant(event.get("updated")))


def working_days(start: dt.date, end: dt.date, team: Team) -> tuple[dt.date, dt.date] | None:
    """``start``..``end`` trimmed to the team's working days; None when it has none."""
    while start <= end and not team.is_working_day(start):
        start += dt.timedelta(days=1)
    while end >= start and not team.is_working_day(end):
        end -= dt.timedelta(days=1)
    return (start, end) if start <= end else None


def covering(events: Sequence[Mapping[str, Any]], person: Person, team: Team, start: dt.date, end: dt.date,
             out_from: dt.datetime) -> Mapping[str, Any] | None:
    """The person's own out-of-office event among ``events`` that covers the absence ``start``..``end``
    (every working day of it, from ``out_from``), if any: the absence adopts it as its block."""
    wanted = working_days(start, end, team)
    if wanted is None:
        return None
    for event in events:
        own = read_event(event, person, team)
        if (isinstance(own, OwnEvent) and (event.get("organizer") or {}).get("self", True)
                and own.first <= wanted[0] and own.last >= wanted[1] and own.starts <= out_from):
            return event
    return None
