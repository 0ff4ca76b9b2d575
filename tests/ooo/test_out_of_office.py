"""A person's own out-of-office event read as an absence's days: whole days, working days, time zones
across DST, all-day events, half days, and the events that are no absence."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from ooo.keys import MARKER
from ooo.out_of_office import AFTERNOON, FULL, MORNING, NoAbsence, OwnEvent, covering, read_event, working_days
from ooo.team import Team

LENA = "lena.fischer@yellowstonelocal.com"  # America/New_York
SAM = "sam.okafor@yellowstonelocal.com"  # Europe/London
NEW_YORK = ZoneInfo("America/New_York")


def ooo(start: dt.datetime | str, end: dt.datetime | str, **fields: Any) -> dict[str, Any]:
    """An out-of-office event as Calendar lists it (``dateTime`` with an offset, or all-day ``date``)."""
    def when(value: dt.datetime | str) -> dict[str, str]:
        return {"date": value} if isinstance(value, str) else {"dateTime": value.isoformat(), "timeZone": "UTC"}
    return {"id": "ownooo0001", "eventType": "outOfOffice", "status": "confirmed", "start": when(start),
            "end": when(end), "created": "2026-11-20T14:00:00.000Z", "updated": "2026-11-21T09:30:00.000Z",
            **fields}


def ny(day: dt.date, hour: int = 0, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), NEW_YORK)


def read(team: Team, event: dict[str, Any], who: str = LENA) -> OwnEvent | NoAbsence:
    person = team.person(who)
    assert person is not None
    return read_event(event, person, team)


def test_a_week_off_from_calendars_form_is_its_working_days(team):
    # Monday 2026-12-07 00:00 to the Saturday midnight after Friday, as the form makes a week off
    own = read(team, ooo(ny(dt.date(2026, 12, 7)), ny(dt.date(2026, 12, 12))))
    assert isinstance(own, OwnEvent)
    assert own.days == (dt.date(2026, 12, 7), dt.date(2026, 12, 11))
    assert (own.start_half, own.end_half) == (FULL, FULL)
    assert own.starts == ny(dt.date(2026, 12, 7))
    assert own.created == dt.datetime(2026, 11, 20, 14, tzinfo=dt.timezone.utc)
    assert own.updated == dt.datetime(2026, 11, 21, 9, 30, tzinfo=dt.timezone.utc)


def test_an_all_day_event_ends_the_day_before_its_end_date(team):
    own = read(team, ooo("2026-12-08", "2026-12-10"))
    assert isinstance(own, OwnEvent) and own.days == (dt.date(2026, 12, 8), dt.date(2026, 12, 9))
    assert own.starts == ny(dt.date(2026, 12, 8))


def test_weekends_and_holidays_at_either_end_are_trimmed(team):
    # Saturday 2026-12-05 to Wednesday 2026-12-09: from Monday
    own = read(team, ooo(ny(dt.date(2026, 12, 5)), ny(dt.date(2026, 12, 10))))
    assert isinstance(own, OwnEvent) and own.days == (dt.date(2026, 12, 7), dt.date(2026, 12, 9))
    assert own.starts == ny(dt.date(2026, 12, 7))  # the absence begins on the first working day
    # Wednesday before Thanksgiving to Sunday: the holidays and the weekend are not days out
    own = read(team, ooo(ny(dt.date(2026, 11, 25)), ny(dt.date(2026, 11, 30))))
    assert isinstance(own, OwnEvent) and own.days == (dt.date(2026, 11, 25), dt.date(2026, 11, 25))


@pytest.mark.parametrize(("start", "end"), [
    (dt.date(2026, 12, 12), dt.date(2026, 12, 14)),  # a weekend
    (dt.date(2026, 11, 26), dt.date(2026, 11, 30)),  # Thanksgiving, the Friday after and the weekend
])
def test_an_event_on_non_working_days_only_is_no_absence(team, start, end):
    own = read(team, ooo(ny(start), ny(end)))
    assert isinstance(own, NoAbsence) and own.reason.startswith("no working day in it")


def test_a_multi_day_event_across_the_clocks_going_forward_keeps_its_local_days(team):
    # 2027-03-14: US clocks go forward. Friday 12 00:00 EST to Tuesday 16 00:00 EDT, given in UTC.
    start, end = ny(dt.date(2027, 3, 12)), ny(dt.date(2027, 3, 16))
    start, end = start.astimezone(dt.timezone.utc), end.astimezone(dt.timezone.utc)
    assert (end - start) == dt.timedelta(days=4, hours=-1)  # 95 hours, not four whole days
    own = read(team, ooo(start, end))
    assert isinstance(own, OwnEvent) and own.days == (dt.date(2027, 3, 12), dt.date(2027, 3, 15))
    # the same instants read for Sam in London (clocks go forward there on 2027-03-28): his own days
    own = read(team, ooo(dt.datetime(2027, 3, 26, tzinfo=ZoneInfo("Europe/London")),
                         dt.datetime(2027, 3, 30, tzinfo=ZoneInfo("Europe/London"))), who=SAM)
    assert isinstance(own, OwnEvent) and own.days == (dt.date(2027, 3, 26), dt.date(2027, 3, 29))


def test_an_event_written_in_another_zone_is_read_in_the_persons_own(team):
    # 2026-12-08 00:00 in Tokyo is Monday 10:00 in New York: Monday is a day out
    tokyo = ZoneInfo("Asia/Tokyo")
    own = read(team, ooo(dt.datetime(2026, 12, 8, tzinfo=tokyo), dt.datetime(2026, 12, 10, tzinfo=tokyo)))
    assert isinstance(own, OwnEvent) and own.days == (dt.date(2026, 12, 7), dt.date(2026, 12, 9))


def test_half_days_follow_the_teams_split_time(team):
    day = dt.date(2026, 12, 8)  # the sample team splits at 12:00
    cases = [
        ((ny(day, 13), ny(day + dt.timedelta(days=2))), (day, day + dt.timedelta(days=1), AFTERNOON, FULL)),
        ((ny(day, 12), ny(day, 17)), (day, day, AFTERNOON, FULL)),  # at the split: the afternoon
        ((ny(day), ny(day + dt.timedelta(days=1), 12)), (day, day + dt.timedelta(days=1), FULL, MORNING)),
        ((ny(day, 9), ny(day + dt.timedelta(days=1), 15)), (day, day + dt.timedelta(days=1), FULL, FULL)),
        ((ny(day, 8), ny(day, 11)), (day, day, FULL, MORNING)),  # a morning out
    ]
    for (start, end), (first, last, start_half, end_half) in cases:
        own = read(team, ooo(start, end))
        assert isinstance(own, OwnEvent)
        assert (own.first, own.last, own.start_half, own.end_half) == (first, last, start_half, end_half), start
        assert own.starts == start
    later = dataclasses.replace(team, half_day_split=dt.time(14))  # a team whose afternoon begins at 2 PM
    own = read(later, ooo(ny(day, 13), ny(day + dt.timedelta(days=1), 13)))
    assert isinstance(own, OwnEvent) and (own.start_half, own.end_half) == (FULL, MORNING)
    # a half day falling on a weekend is trimmed away with its day
    own = read(team, ooo(ny(dt.date(2026, 12, 5), 14), ny(dt.date(2026, 12, 8), 10)))
    assert isinstance(own, OwnEvent)
    assert (own.first, own.start_half, own.last, own.end_half) == (dt.date(2026, 12, 7), FULL, dt.date(2026, 12, 8),
                                                                   MORNING)


@pytest.mark.parametrize(("fields", "reason"), [
    ({"status": "cancelled"}, "deleted"),
    ({"eventType": "focusTime"}, "not an out-of-office event (focusTime)"),
    ({"extendedProperties": {"private": {MARKER: "abc123"}}},
     "made by ooo-pipelines (an absence's out-of-office block)"),
])
def test_events_that_are_no_absence_say_why(team, fields, reason):
    own = read(team, ooo(ny(dt.date(2026, 12, 7)), ny(dt.date(2026, 12, 9)), **fields))
    assert own == NoAbsence("ownooo0001", reason)


def test_an_occurrence_of_a_recurring_event_knows_its_series(team):
    own = read(team, ooo(ny(dt.date(2026, 12, 11)), ny(dt.date(2026, 12, 12)), id="fridays01_20261211T050000Z",
                         recurringEventId="fridays01"))
    assert isinstance(own, OwnEvent) and (own.id, own.series) == ("fridays01_20261211T050000Z", "fridays01")


def test_the_own_event_covering_an_absence_is_found(team):
    person = team.person(LENA)
    week = ooo(ny(dt.date(2026, 12, 7)), ny(dt.date(2026, 12, 12)), organizer={"email": LENA, "self": True})
    ours = ooo(ny(dt.date(2026, 12, 7)), ny(dt.date(2026, 12, 12)), id="ourblock01",
               extendedProperties={"private": {MARKER: "k"}})
    meeting = {"id": "meeting01", "eventType": "default",
               "start": {"dateTime": ny(dt.date(2026, 12, 8), 10).isoformat()},
               "end": {"dateTime": ny(dt.date(2026, 12, 8), 11).isoformat()}}
    out_from = ny(dt.date(2026, 12, 7))
    assert covering([meeting, ours, week], person, team, dt.date(2026, 12, 7), dt.date(2026, 12, 11), out_from) is week
    assert covering([meeting, ours, week], person, team, dt.date(2026, 12, 8), dt.date(2026, 12, 9),
                    ny(dt.date(2026, 12, 8))) is week  # a shorter absence inside it
    assert covering([ours, week], person, team, dt.date(2026, 12, 7), dt.date(2026, 12, 14), out_from) is None
    assert covering([meeting, ours], person, team, dt.date(2026, 12, 7), dt.date(2026, 12, 11), out_from) is None
    late = ooo(ny(dt.date(2026, 12, 7), 13), ny(dt.date(2026, 12, 12)))  # from Monday afternoon only
    assert covering([late], person, team, dt.date(2026, 12, 7), dt.date(2026, 12, 11), out_from) is None


def test_working_days_of_a_stretch(team):
    assert working_days(dt.date(2026, 12, 5), dt.date(2026, 12, 13), team) == (dt.date(2026, 12, 7),
                                                                                 dt.date(2026, 12, 11))
    assert working_days(dt.date(2026, 12, 12), dt.date(2026, 12, 13), team) is None
