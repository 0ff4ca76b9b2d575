"""``ooo_intake``: absences filed from the people's own out-of-office events in Google Calendar.

The buddy-system protocol starts with "place OOO dates on your calendar as soon as they are known
and when OOO unexpectedly"; people do, and ops used to type the same absence again into Airflow.
Each run of ``ooo_intake`` (when the roster's ``team.intake.enabled`` is on) reads every roster
person's calendar incrementally, out-of-office events only (Google's sync token: a quiet calendar
costs one small request), and for each event (read by :mod:`ooo.out_of_office`):

* new: files an absence under the contract run id (``absence__<employee>__<first>__<last>``), so
  one filed by hand for the same days is refused by Airflow (409) and never doubled. Planned (it
  waits for the manager's approval); unexpected when the event was made on or after its own start,
  within ``team.intake.unexpected_within_hours`` (made later, it is a record after the fact, and is
  left to ops). The absence is first checked with ``ooo_absence``'s own rules, so one its
  ``validate`` would reject is reported here instead of filed;
* cut short: the absence is shortened (``ooo_shorten``); deleted: cancelled (``ooo_cancel``);
  lengthened: the extra days are filed as a new absence from the old last day's next working day;
  moved to a later start: cancelled and filed again once the cancel has gone through (a run id,
  like a start, never changes);
* made by ooo-pipelines (an absence's block): ignored.

Changes go through Airflow's REST API (the ``ooo_airflow`` connection), as ops make them: the
``ooo_cancel`` / ``ooo_shorten`` DAGs are triggered under the run ids ``ooo cancel`` and ``ooo
shorten`` use, so the change shows as its own run with its own log, retries and failure alert,
the intake never waits for an undo to finish, and a change asked twice is refused (409), not
doubled. Only absences the intake filed itself are changed; one filed by hand is left to ops
(and the run says so).

What the intake knows between runs (each calendar's sync token, and per event the absences it
filed) is the Airflow Variable ``ooo_intake_state``: kept whatever becomes of the runs, one place
to look at, and deleting it makes the next run sync every calendar from scratch (nothing is filed
twice: an absence already filed answers 409). An expired sync token (Google's 410) is a full sync
of that calendar, compared with what was filed: an event gone meanwhile is cancelled, one seen
before is not filed again. Everything is reported, per person, in the run's log and note; a
calendar that cannot be read, or a person no longer in the roster, is reported and the others go on.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from ooo.absence import AbsenceRejected, absence_of_run, parse_absence, run_id_for
from ooo.airflow_api import IN_FLIGHT, AirflowApiError, RunExists
from ooo.out_of_office import FULL, OUT_OF_OFFICE, NoAbsence, OwnEvent, read_event, working_days
from ooo.records import Record
from ooo.run_note import clip
from ooo.team import Intake, Person, Team
from ooo.times import maybe_instant

log = logging.getLogger(__name__)

DAG_ID = "ooo_intake"
#: The Airflow Variable holding :class:`IntakeState`.
VARIABLE = "ooo_intake_state"
#: A full sync lists the events ending after this long ago (so an absence ending today is still seen).
LOOKBACK = dt.timedelta(days=2)


# -- what the intake keeps between runs ----------------------------------------------------------
@dataclass
class Filed(Record):
    """An absence the intake filed for an event: its run id and its days now (after shortening)."""

    run_id: str = ""
    start: str = ""
    end: str = ""

    @property
    def days(self) -> tuple[dt.date, dt.date]:
        return dt.date.fromisoformat(self.start), dt.date.fromisoformat(self.end)


@dataclass
class Tracked(Record):
    """An out-of-office event the intake has seen, as it was last seen, and what was filed for it."""

    id: str = ""
    series: str | None = None
    first: str | None = None  # the event's working days; None: deleted, or no longer an absence
    last: str | None = None
    start_half: str = FULL
    end_half: str = FULL
    starts: str | None = None  # when the event's absence begins (ISO)
    made: str | None = None  # when this version of the event was made (ISO)
    filed: list[Filed] = field(default_factory=list)
    others: list[str] = field(default_factory=list)  # absences for these days filed by someone else
    tried: list[str] = field(default_factory=list)  # filings maybe made by an earlier run that stopped
    cancelling: list[str] = field(default_factory=list)  # our absences whose ooo_cancel was filed
    open: bool = False  # something is left to do (the next run tries again)

    @property
    def days(self) -> tuple[dt.date, dt.date] | None:
        if self.first is None or self.last is None:
            return None
        return dt.date.fromisoformat(self.first), dt.date.fromisoformat(self.last)


@dataclass
class Calendar(Record):
    person: str = ""
    sync: str | None = None  # Google's sync token: the changes after the last read
    events: list[Tracked] = field(default_factory=list)

    def event(self, event_id: str) -> Tracked | None:
        return next((e for e in self.events if e.id == event_id), None)


@dataclass
class IntakeState(Record):
    calendars: list[Calendar] = field(default_factory=list)

    def calendar(self, person: str) -> Calendar:
        found = next((c for c in self.calendars if c.person == person), None)
        if found is None:
            found = Calendar(person=person)
            self.calendars.append(found)
        return found


# -- what a run did ------------------------------------------------------------------------------
FILED, SHORTENED, CANCELLED, IGNORED, NOT_FILED, ALREADY, LEFT, WAITING, ERROR, UNREAD = (
    "filed", "shortened", "cancelled", "ignored", "not filed", "filed already", "left to ops", "waiting",
    "error", "not read")


@dataclass(frozen=True)
class Line(Record):
    person: str = ""
    what: str = ""
    detail: str = ""

    def __str__(self) -> str:
        return f"{self.person}: {self.what}: {self.detail}"


@dataclass
class Report(Record):
    """What one run did, per person: its log, its note and its XCom."""

    enabled: bool = True
    team: str = ""
    read: int = 0
    full_syncs: int = 0
    lines: list[Line] = field(default_factory=list)

    @classmethod
    def off(cls, team: Team) -> Report:
        log.info("Intake is off for %s (team.intake.enabled in the roster): nothing read", team.name)
        return cls(enabled=False, team=team.name)

    def add(self, person: str, what: str, detail: str) -> None:
        line = Line(person, what, detail)
        self.lines.append(line)
        (log.warning if what in (ERROR, UNREAD) else log.info)("%s", line)

    def count(self, what: str) -> int:
        return sum(1 for line in self.lines if line.what == what)

    def note(self) -> str:
        if not self.enabled:
            return (f"**Intake is off** for {self.team}: nothing was read. Set `team.intake.enabled` in the "
                    "roster to file absences from people's out-of-office events.")
        counts = ", ".join(f"{self.count(w)} {w}" for w in (FILED, SHORTENED, CANCELLED, ALREADY, NOT_FILED,
                                                               LEFT, IGNORED, WAITING, ERROR, UNREAD) if self.count(w))
        head = (f"**Intake**: {self.read} calendars read ({self.full_syncs} in full); "
                + (counts or "nothing new") + ".")
        return clip("\n\n".join([head, *[f"- {line}" for line in self.lines]]) if self.lines else head)


# -- Airflow, as the intake uses it --------------------------------------------------------------
class AbsenceRuns(Protocol):
    """What the intake asks of Airflow (:class:`ooo.airflow_api.AirflowApi` through the REST API)."""

    def trigger_absence(self, params: dict[str, Any], logical_date: str | None = None) -> dict[str, Any]: ...
    def run_state(self, run_id: str, dag_id: str = ...) -> str | None: ...
    def run_ids(self, states: tuple[str, ...] = ..., dag_id: str = ...) -> set[str]: ...
    def trigger_cancel(self, absence_run_id: str) -> dict[str, Any]: ...
    def trigger_shorten(self, absence_run_id: str, end: str) -> dict[str, Any]: ...


# -- the changes an event asks for (pure) --------------------------------------------------------
@dataclass(frozen=True)
class Changes:
    """What to do with an event's absences so that they cover its days (``wanted``) again."""

    cancel: list[str] = field(default_factory=list)  # run ids
    shorten: list[tuple[str, dt.date]] = field(default_factory=list)  # run id, new last day
    file: list[tuple[dt.date, dt.date]] = field(default_factory=list)  # new absences: first, last day
    left: list[str] = field(default_factory=list)  # absences filed by someone else the change touches


def plan_changes(filed: list[Filed], others: list[str], wanted: tuple[dt.date, dt.date] | None,
                 team: Team) -> Changes:
    """The cancels, shortenings and filings that make the absences cover ``wanted`` (None: none).

    An absence outside the days, or starting before them (a start never moves: a run id holds
    it), is cancelled; one ending after them is shortened; days left uncovered are filed, each
    stretch trimmed to working days. Absences filed by someone else (``others``) count as covering
    their days but are never changed: a change that would touch one is ``left`` to ops.
    """
    if wanted is None:
        return Changes(cancel=[f.run_id for f in filed], left=list(others))
    first, last = wanted
    cancel, shorten, covered, left = [], [], [], []
    for absence in sorted(filed, key=lambda f: f.start):
        start, end = absence.days
        if end < first or start > last or start < first:
            cancel.append(absence.run_id)
        elif end > last:
            shorten.append((absence.run_id, last))
            covered.append((start, last))
        else:
            covered.append((start, end))
    for run_id in others:
        other = absence_of_run(run_id)
        if other is None:
            continue
        if other.start < first or other.end > last:
            left.append(run_id)
        if other.start <= last and other.end >= first:
            covered.append((max(other.start, first), min(other.end, last)))
    gaps, day = [], first
    for start, end in sorted(covered):
        if start > day:
            gaps.append((day, start - dt.timedelta(days=1)))
        day = max(day, end + dt.timedelta(days=1))
    if day <= last:
        gaps.append((day, last))
    return Changes(cancel=cancel, shorten=shorten, left=left,
                   file=[span for gap in gaps if (span := working_days(*gap, team)) is not None])


def kind_of(first: dt.date, event: Tracked, person: Person, intake: Intake) -> tuple[str | None, str]:
    """``planned`` or ``unexpected`` for an absence from ``first`` filed for ``event``; (None, why) when
    the event was made too long after that start to be filed."""
    zone = ZoneInfo(person.timezone)
    event_starts = maybe_instant(event.starts)
    starts = event_starts if event_starts and event.first == first.isoformat() else \
        dt.datetime.combine(first, dt.time(), zone)
    made = maybe_instant(event.made)
    if made is None or made < starts:
        return "planned", "made before it begins: waits for approval"
    late = made - starts
    if late <= intake.unexpected_within:
        return "unexpected", f"made {_duration(late)} after it began: unexpected, no approval"
    return None, (f"made {_duration(late)} after it began, later than the roster's "
                  f"{intake.unexpected_within_hours} h for an unexpected absence: file it by hand if it should be")


def absence_params(person: Person, first: dt.date, last: dt.date, kind: str, event: Tracked,
                   team: Team) -> dict[str, Any]:
    """``ooo_absence``'s params for the days ``first``..``last`` of ``event``: its half days (read at the team's
    split time) on the event's own first and last day, whole days between."""
    return {"employee": person.email, "start_date": first.isoformat(), "end_date": last.isoformat(), "kind": kind,
            "reachable": False, "note": "",
            "start_half": event.start_half if event.first == first.isoformat() else FULL,
            "end_half": event.end_half if event.last == last.isoformat() else FULL}


def _duration(delta: dt.timedelta) -> str:
    hours = delta.total_seconds() / 3600
    return f"{hours:.0f} h" if hours < 48 else f"{hours / 24:.0f} days"


# -- a run ---------------------------------------------------------------------------------------
def run_intake(team: Team, services: Any, runs: AbsenceRuns, state: IntakeState, now: dt.datetime,
               save: Callable[[IntakeState], None]) -> Report:
    """Read every roster person's calendar, then file, shorten and cancel; ``save`` keeps ``state``.

    ``state`` is saved after the calendars are read (with the filings about to be tried, so that a
    run stopped half-way is picked up by the next one) and again at the end, each time only if it
    changed.
    """
    if not team.intake.enabled:
        return Report.off(team)
    report = Report(team=team.name)
    earlier_tries = {run_id for c in state.calendars for e in c.events for run_id in e.tried}
    saved = [state.to_dict()]

    def keep() -> None:
        if state.to_dict() != saved[0]:
            save(state)
            saved[0] = state.to_dict()

    for calendar in list(state.calendars):
        if team.person(calendar.person) is None:
            report.add(calendar.person, UNREAD, "no longer in the roster: their calendar is not read, and the "
                       f"absences filed from it ({_filed(calendar)}) are left as they are")
            state.calendars.remove(calendar)
    for person in team:
        read_calendar(person, state.calendar(person.email), team, services, now, report)
    for calendar in state.calendars:
        for event in calendar.events:
            if event.open:  # remember the filings about to be tried: a 409 on them later is our own
                changes = plan_changes(event.filed, event.others, event.days, team)
                event.tried = sorted({*event.tried, *(run_id_for(calendar.person, a, b) for a, b in changes.file)})
    keep()
    act = _Acting(team, runs, now, report, earlier_tries)
    for calendar in state.calendars:
        owner = team.person(calendar.person)
        if owner is None:
            continue
        for event in calendar.events:
            if event.open:
                act.on(owner, event)
        # Forget what is over (a full read still looks back to yesterday) and what was deleted and done.
        yesterday = now.astimezone(ZoneInfo(owner.timezone)).date() - dt.timedelta(days=1)
        calendar.events = [e for e in calendar.events if e.open or (e.days is not None and e.days[1] >= yesterday)]
    keep()
    return report


def read_calendar(person: Person, calendar: Calendar, team: Team, services: Any, now: dt.datetime,
                  report: Report) -> None:
    """Read what changed on ``person``'s calendar since the last run into ``calendar``; report what
    cannot be read (the others go on)."""
    from ooo.services.errors import ServiceError
    from ooo.services.google import GoogleApiError, GoogleCredentialsRefused, SyncTokenExpired

    google = services.google(person.email)
    full = calendar.sync is None
    try:
        try:
            changes = google.changed_events(calendar.sync, event_types=(OUT_OF_OFFICE,),
                                            time_min=now - LOOKBACK if full else None)
        except SyncTokenExpired:
            log.info("%s: Google no longer knows the sync token (410): reading the whole calendar", person.email)
            full = True
            changes = google.changed_events(None, event_types=(OUT_OF_OFFICE,), time_min=now - LOOKBACK)
    except GoogleCredentialsRefused as exc:
        report.add(person.name, UNREAD, f"the calendar may not be read: {exc}")
        return
    except GoogleApiError as exc:
        if exc.status in (403, 404):
            report.add(person.name, UNREAD, f"the calendar may not be read: {exc}")
        else:
            report.add(person.name, ERROR, f"the calendar could not be read (next run tries again): {exc}")
        return
    except ServiceError as exc:
        report.add(person.name, ERROR, f"the calendar could not be read (next run tries again): {exc}")
        return
    report.read += 1
    report.full_syncs += full
    seen = set()
    for event in sorted(changes.events, key=_start_key):
        seen.add(event.get("id"))
        _take(event, person, calendar, team, now, report)
    if full:  # what the whole calendar no longer holds was deleted meanwhile
        today = now.astimezone(ZoneInfo(person.timezone)).date()
        for tracked in calendar.events:
            days = tracked.days
            if tracked.id not in seen and days is not None and days[1] >= today - dt.timedelta(days=1):
                _gone(person, tracked, "deleted (found missing in a full read of the calendar)")
    calendar.sync = changes.next_sync_token


def _start_key(event: dict[str, Any]) -> str:
    start = event.get("start") or {}
    return str(start.get("dateTime") or start.get("date") or "")


def _take(event: dict[str, Any], person: Person, calendar: Calendar, team: Team, now: dt.datetime,
          report: Report) -> None:
    """One changed event into ``calendar``: what it now asks for, marked open when something is to do."""
    event_id = str(event.get("id") or "")
    tracked = calendar.event(event_id)
    own = read_event(event, person, team)
    if isinstance(own, NoAbsence):
        if tracked is not None:
            _gone(person, tracked, own.reason)
        elif own.reason == "deleted":
            series = [e for e in calendar.events if e.series == event_id]  # a whole recurring event deleted
            for occurrence in series:
                _gone(person, occurrence, "deleted (its recurring event was deleted)")
        else:
            report.add(person.name, IGNORED, f"event {event_id}: {own.reason}")
        return
    if tracked is None:
        today = now.astimezone(ZoneInfo(person.timezone)).date()
        if own.last < today:
            report.add(person.name, IGNORED, f"event {event_id} ({own.first} to {own.last}): already over")
            return
        if own.series is not None:
            filed = [e for e in calendar.events if e.series == own.series and e.days is not None]
            if len(filed) >= team.intake.max_occurrences:
                report.add(person.name, IGNORED, f"event {event_id} ({own.first} to {own.last}): an occurrence of a "
                           f"recurring event beyond the roster's limit of {team.intake.max_occurrences} "
                           "(team.intake.max_occurrences): file it by hand if it should be")
                return
        tracked = Tracked(id=event_id, series=own.series)
        calendar.events.append(tracked)
        made = own.created or own.updated
    else:
        made = own.updated
        if tracked.days == own.days:
            if (tracked.start_half, tracked.end_half) != (own.start_half, own.end_half):
                report.add(person.name, IGNORED, f"event {event_id}: only its half days changed; the absence's "
                           "days are the same, so nothing was changed")
                tracked.start_half, tracked.end_half = own.start_half, own.end_half
            return
    _see(tracked, own, made)


def _see(tracked: Tracked, own: OwnEvent, made: dt.datetime | None) -> None:
    tracked.first, tracked.last = own.first.isoformat(), own.last.isoformat()
    tracked.start_half, tracked.end_half = own.start_half, own.end_half
    tracked.starts = own.starts.isoformat()
    tracked.made = made.isoformat() if made else None
    tracked.open = True


def _gone(person: Person, tracked: Tracked, why: str) -> None:
    """The event asks for no absence any more: its absences are to be cancelled."""
    if tracked.days is None:
        return
    log.info("%s: event %s %s", person.email, tracked.id, why)
    tracked.first = tracked.last = None
    tracked.open = bool(tracked.filed or tracked.others)


def _filed(calendar: Calendar) -> str:
    return ", ".join(f.run_id for e in calendar.events for f in e.filed) or "none"


@dataclass
class _Acting:
    """Phase two of a run: the changes each open event asks for, made through Airflow."""

    team: Team
    runs: AbsenceRuns
    now: dt.datetime
    report: Report
    earlier_tries: set[str]
    _in_flight: set[str] | None = None

    def in_flight(self) -> set[str]:
        if self._in_flight is None:
            self._in_flight = set(self.runs.run_ids(IN_FLIGHT))
        return self._in_flight

    def on(self, person: Person, event: Tracked) -> None:
        changes = plan_changes(event.filed, event.others, event.days, self.team)
        done = True
        try:
            for run_id in changes.cancel:
                self._cancel(person, event, run_id)
            for run_id, end in changes.shorten:
                self._shorten(person, event, run_id, end)
            for first, last in changes.file:
                done = self._file(person, event, first, last) and done
        except (AirflowApiError, OSError) as exc:  # the REST API failed: the next run tries again
            self.report.add(person.name, ERROR, f"event {event.id}: Airflow's REST API failed (next run tries "
                            f"again): {exc}")
            done = False
        for run_id in changes.left:
            self.report.add(person.name, LEFT, f"event {event.id} changed ({_days(event)}), but {run_id} was filed "
                            "by hand: change or cancel it yourself if it should follow")
        if event.days is None:
            event.others = []  # told once; the event is forgotten
        event.open = not done

    def _cancel(self, person: Person, event: Tracked, run_id: str) -> None:
        state = self.runs.run_state(run_id)
        if state in IN_FLIGHT:
            with suppress(RunExists):  # asked for before (by ops, or an earlier run): a cancel happens once
                self.runs.trigger_cancel(run_id)
            event.cancelling = sorted({*event.cancelling, run_id})
            self.report.add(person.name, CANCELLED, f"{run_id} ({_days(event)}): ooo_cancel filed")
        else:
            self.report.add(person.name, CANCELLED, f"{run_id}: nothing to cancel, it is {state or 'gone'}")
        event.filed = [f for f in event.filed if f.run_id != run_id]

    def _shorten(self, person: Person, event: Tracked, run_id: str, end: dt.date) -> None:
        state = self.runs.run_state(run_id)
        if state in IN_FLIGHT:
            with suppress(RunExists):  # that very change was asked for before
                self.runs.trigger_shorten(run_id, end.isoformat())
            self.report.add(person.name, SHORTENED, f"{run_id}: last day now {end}, ooo_shorten filed")
        else:
            self.report.add(person.name, SHORTENED, f"{run_id}: nothing to shorten, it is {state or 'gone'}")
        for filed in event.filed:
            if filed.run_id == run_id:
                filed.end = end.isoformat()

    def _file(self, person: Person, event: Tracked, first: dt.date, last: dt.date) -> bool:
        """File the absence ``first``..``last``; False when it is to be tried again by the next run."""
        run_id = run_id_for(person.email, first, last)
        waiting = [r for r in event.cancelling if _overlaps(r, first, last) and self.runs.run_state(r) in IN_FLIGHT]
        event.cancelling = [r for r in event.cancelling if r in waiting or not _overlaps(r, first, last)]
        if waiting:
            self.report.add(person.name, WAITING, f"{run_id}: filed once the cancel of {', '.join(waiting)} "
                            "has gone through")
            return False
        settled = self._try_filing(person, event, run_id, first, last)
        if settled:
            event.tried = [r for r in event.tried if r != run_id]
        return settled

    def _try_filing(self, person: Person, event: Tracked, run_id: str, first: dt.date, last: dt.date) -> bool:
        kind, why = kind_of(first, event, person, self.team.intake)
        if kind is None:
            self.report.add(person.name, NOT_FILED, f"{run_id}: {why}")
            return True
        params = absence_params(person, first, last, kind, event, self.team)
        in_flight = self.in_flight() - {run_id}
        try:  # the checks ooo_absence's validate makes, so that it is not filed to be rejected
            parse_absence(params, self.team, self.now, lambda start, end: in_flight)
        except AbsenceRejected as rejected:
            self.report.add(person.name, NOT_FILED, f"{run_id}: " + " ".join(rejected.problems))
            return True
        try:
            self.runs.trigger_absence(params)
        except RunExists:
            if run_id not in self.earlier_tries:
                event.others = sorted({*event.others, run_id})
                state = self.runs.run_state(run_id)
                self.report.add(person.name, ALREADY, f"{run_id} exists ({state}): filed by hand or earlier, "
                                "not filed twice")
                return True
            why = "filed by an earlier run"
        event.filed.append(Filed(run_id=run_id, start=first.isoformat(), end=last.isoformat()))
        self.in_flight().add(run_id)
        self.report.add(person.name, FILED, f"{run_id} ({kind}: {why})")
        return True


def _overlaps(run_id: str, first: dt.date, last: dt.date) -> bool:
    absence = absence_of_run(run_id)
    return absence is not None and absence.start <= last and absence.end >= first


def _days(event: Tracked) -> str:
    days = event.days
    return f"now {days[0]} to {days[1]}" if days else "deleted"  # or no longer an absence: the log says which


# -- Airflow's side ------------------------------------------------------------------------------
def intake_schedule() -> dt.timedelta:
    """The DAG's schedule: every ``team.intake.interval_minutes`` of the roster file ``OOO_TEAM_FILE`` names,
    read when the DAG file is parsed. The file only, not the ``ooo_team_file`` Variable: a DAG file's top
    level reads nothing from Airflow's database. A roster that cannot be read gives the default interval,
    and the run reports the roster's error."""
    from ooo.team import load_team

    try:
        return load_team().intake.interval
    except Exception:  # noqa: BLE001 - a broken roster must not break the DAG file; the task says why
        log.warning("ooo_intake: the roster could not be read for the interval; every %s", Intake().interval,
                    exc_info=True)
        return Intake().interval


def intake_in_task(context: Any) -> dict[str, Any]:
    """The ``ooo_intake`` task: one run over the roster's calendars; the run's note says what it did."""
    from airflow.sdk import Variable, timezone

    from ooo.airflow_api import AirflowApi
    from ooo.services import Services
    from ooo.team import team_for_run

    team = team_for_run()
    if not team.intake.enabled:
        report = Report.off(team)
        _keep_note(context["dag_run"].run_id, report.note())
        return report.to_dict()
    api = AirflowApi.from_connection()
    state = IntakeState.from_dict(Variable.get(VARIABLE, default=None, deserialize_json=True) or {})

    def save(kept: IntakeState) -> None:
        Variable.set(VARIABLE, kept.to_dict(), serialize_json=True,
                     description="ooo_intake: each calendar's sync token and the absences filed per event. "
                                 "Delete it to read every calendar from scratch (nothing is filed twice).")

    report = run_intake(team, Services(), api, state, timezone.utcnow(), save)
    _keep_note(context["dag_run"].run_id, report.note(), api)
    return report.to_dict()


def _keep_note(run_id: str, text: str, api: Any = None) -> None:
    """The intake run's note (through the REST API, the ``ooo_airflow`` connection); never fails the run."""
    from ooo.airflow_api import AirflowApi

    try:
        (api or AirflowApi.from_connection()).set_note(run_id, clip(text), dag_id=DAG_ID)
    except Exception:  # noqa: BLE001 - the note tells; the log has it all anyway
        log.warning("Could not write the intake run's note", exc_info=True)

