"""An absence: the parsed, validated params of one ``ooo_absence`` run.

Everything that can reject an absence is checked here, before any side effect, and every
problem is reported at once, each in a sentence the person who filed it can act on.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any, Literal

from ooo.domains import company_ref
from ooo.team import Person, Team

Kind = Literal["planned", "unexpected", "client_visit"]
KINDS: tuple[str, ...] = ("planned", "unexpected", "client_visit")
#: A half first day: out from the team's split time (``team.half_day_split``); a half last day: back at it.
START_HALVES: tuple[str, ...] = ("full", "afternoon")
END_HALVES: tuple[str, ...] = ("full", "morning")
NOTE_MAX_CHARS = 500
FILING_HORIZON_DAYS = 2 * 366  # an absence further away than this is a typo in the year
RUN_ID_PREFIX = "absence__"
#: What :func:`run_id_for` makes, in the characters Airflow's ``[scheduler] allowed_run_id_pattern``
#: admits (config/airflow.env): no ``/``, ``%``, ``?``, ``#``, spaces or NULs, so a run id given to a change
#: DAG or the CLI can only name an ``ooo_absence`` run (a JSON-schema pattern for the forms, too).
RUN_ID_PATTERN = (r"^absence__[A-Za-z0-9_.~:+-]+@[A-Za-z0-9_.~:+-]+"
                  r"__[0-9]{4}-[0-9]{2}-[0-9]{2}__[0-9]{4}-[0-9]{2}-[0-9]{2}$")

#: Given an absence's first and last day, the run ids of the other absences in flight around
#: them (more is fine: only contract run ids overlapping the days count). The DAG answers it from
#: Airflow's own runs, ``ooo plan`` from the REST API, tests from a list.
AbsencesInFlight = Callable[[dt.date, dt.date], Iterable[str]]


class AbsenceRejected(ValueError):
    """The absence cannot be carried out; ``problems`` says why, one sentence each."""

    def __init__(self, problems: Iterable[str]):
        self.problems = list(problems)
        super().__init__("The absence was rejected:\n" + "\n".join(f"- {p}" for p in self.problems))


@dataclass(frozen=True)
class Absence:
    employee: Person
    buddy: Person
    manager: Person | None
    start: dt.date
    end: dt.date
    kind: Kind
    reachable: bool
    note: str
    requested_at: dt.datetime  # the run's logical date: when the absence was asked for
    approved_by: Person | None = None  # a manager's approval recorded before filing (an HR tool)
    filed_by: str | None = None  # the Airflow login that filed it
    start_half: str = "full"  # "afternoon": out from the team's split time on the first day
    end_half: str = "full"  # "morning": back at the team's split time on the last day
    client_company: str = ""  # kind client_visit: the HubSpot company visited (its id or domain, as given)

    @property
    def run_id(self) -> str:
        return run_id_for(self.employee.email, self.start, self.end)

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def days_out(self) -> float:
        """The days out, a half first or last day counting one half."""
        return self.days - 0.5 * self.starts_afternoon - 0.5 * self.ends_morning

    @property
    def is_unexpected(self) -> bool:
        return self.kind == "unexpected"

    @property
    def is_client_visit(self) -> bool:
        return self.kind == "client_visit"

    @property
    def starts_afternoon(self) -> bool:
        return self.start_half == "afternoon"

    @property
    def ends_morning(self) -> bool:
        return self.end_half == "morning"

    @property
    def has_halves(self) -> bool:
        return self.starts_afternoon or self.ends_morning

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe record (the plan's XCom); :meth:`from_dict` reads it back."""
        return {
            "employee": asdict(self.employee),
            "buddy": asdict(self.buddy),
            "manager": asdict(self.manager) if self.manager else None,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "kind": self.kind,
            "reachable": self.reachable,
            "note": self.note,
            "requested_at": self.requested_at.isoformat(),
            "approved_by": asdict(self.approved_by) if self.approved_by else None,
            "filed_by": self.filed_by,
            "start_half": self.start_half,
            "end_half": self.end_half,
            "client_company": self.client_company,
        }

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> Absence:
        return cls(
            employee=Person.from_dict(raw["employee"]),
            buddy=Person.from_dict(raw["buddy"]),
            manager=Person.from_dict(raw["manager"]) if raw.get("manager") else None,
            start=dt.date.fromisoformat(raw["start"]),
            end=dt.date.fromisoformat(raw["end"]),
            kind=raw["kind"],
            reachable=bool(raw["reachable"]),
            note=raw.get("note") or "",
            requested_at=dt.datetime.fromisoformat(raw["requested_at"]),
            approved_by=Person.from_dict(raw["approved_by"]) if raw.get("approved_by") else None,
            filed_by=raw.get("filed_by"),
            # Plans filed before half days and client visits: whole days, no company.
            start_half=raw.get("start_half") or "full",
            end_half=raw.get("end_half") or "full",
            client_company=raw.get("client_company") or "",
        )


def run_id_for(employee: str, start: dt.date | str, end: dt.date | str) -> str:
    """The contract's run id: the same absence triggered twice is refused, not doubled."""
    return f"{RUN_ID_PREFIX}{employee.strip().lower()}__{start}__{end}"


def parse_absence(
    params: Mapping[str, Any],
    team: Team,
    requested_at: dt.datetime,
    in_flight: AbsencesInFlight | None = None,
    filed_by: str | None = None,
) -> Absence:
    """Parse and check the params; raise :class:`AbsenceRejected` listing every problem.

    ``filed_by`` is the Airflow login that filed the absence (the run's triggering user): it may
    record an approval (``approved_by``) only if the roster allows it.
    """
    problems: list[str] = []
    employee = _person(params, "employee", team, problems)
    buddy_email = params.get("backup_buddy") or None
    if buddy_email is None and employee is not None:
        buddy_email = employee.buddy
        if buddy_email is None:
            problems.append(
                f"{employee.name} has no backup buddy in the roster: choose one in backup_buddy."
            )
    buddy = _person({"backup_buddy": buddy_email}, "backup_buddy", team, problems) if buddy_email else None
    start = _date(params, "start_date", problems)
    end = _date(params, "end_date", problems)
    kind = params.get("kind")
    if kind not in KINDS:
        problems.append(f"kind must be 'planned', 'unexpected' or 'client_visit', not {_shown(kind)}.")
    start_half = _half(params, "start_half", START_HALVES, team, problems)
    end_half = _half(params, "end_half", END_HALVES, team, problems)
    client_company = _client_company(params.get("client_company"), kind, problems)
    note = _note(params.get("note"), problems)
    approver = _approver(params.get("approved_by"), employee, team, filed_by, problems)
    reachable = params.get("reachable", False)
    if not isinstance(reachable, bool):
        problems.append(f"reachable must be true or false, not {_shown(reachable)}.")

    if employee and buddy and employee.email == buddy.email:
        problems.append(
            f"{employee.name} cannot be their own backup buddy: choose someone who will be in."
        )
    if start and end:
        if end < start:
            problems.append(f"end_date {end} is before start_date {start}: the end is the last day out.")
        elif (end - start).days + 1 > team.max_absence_days:
            problems.append(
                f"The absence lasts {(end - start).days + 1} days, longer than the team's limit of "
                f"{team.max_absence_days}: split it, or ask ops to raise max_absence_days."
            )
    if start and end and start == end and start_half == "afternoon" and end_half == "morning":
        problems.append(
            f"start_half afternoon and end_half morning on the one day {start} leave no time out: for a "
            "morning off keep start_half full, for an afternoon off keep end_half full."
        )
    for key, day, half in (("start_half", start, start_half), ("end_half", end, end_half)):
        if day and half not in (None, "full") and not team.is_working_day(day):
            problems.append(
                f"{key} is {half} but {day} ({day:%A}) is not a working day: a half day is a working day's; "
                f"set {key} to full."
            )
    horizon = requested_at.date() + dt.timedelta(days=FILING_HORIZON_DAYS)
    for key, day in (("start_date", start), ("end_date", end)):
        if day and day > horizon:
            problems.append(f"{key} {day} is more than two years away: check the year.")
    if start and employee and kind in ("planned", "client_visit"):
        today = requested_at.astimezone(employee.tz).date()
        if start < today:
            problems.append(
                f"A planned absence cannot start in the past ({start} is before {today} in "
                f"{employee.timezone}); log it as unexpected instead."
            )
    # An absence out of bounds has no overlaps to find.
    in_limits = start is not None and end is not None and 0 <= (end - start).days < team.max_absence_days
    if in_limits and start and end and employee and in_flight is not None:
        clash = out_between(employee.email, start, end, in_flight)
        if clash:
            problems.append(
                f"{employee.name} already has an absence from {clash[0]} to {clash[1]} in flight: "
                "cancel that run or choose other dates."
            )
        if buddy and buddy.email != employee.email:
            clash = out_between(buddy.email, start, end, in_flight)
            if clash:
                problems.append(
                    f"The backup buddy {buddy.name} is out {clash[0]} to {clash[1]}, overlapping this "
                    "absence: choose another buddy in backup_buddy."
                )
    if problems:
        raise AbsenceRejected(problems)
    assert employee and buddy and start and end  # narrowed by the checks above
    manager = team.person(employee.manager) if employee.manager else None
    return Absence(
        employee=employee,
        buddy=buddy,
        manager=manager,
        start=start,
        end=end,
        kind=kind,  # type: ignore[arg-type]
        reachable=reachable,
        note=note,
        requested_at=requested_at,
        approved_by=approver,
        filed_by=filed_by,
        start_half=start_half or "full",
        end_half=end_half or "full",
        client_company=client_company,
    )


def out_between(
    person: str, start: dt.date, end: dt.date, in_flight: AbsencesInFlight
) -> tuple[dt.date, dt.date] | None:
    """The dates of ``person``'s first absence in flight that overlaps ``start``..``end``, if any."""
    found = [a for a in absences_overlapping(start, end, in_flight) if a.person == person]
    return (found[0].start, found[0].end) if found else None


@dataclass(frozen=True)
class InFlight:
    """Someone's absence in flight, as its contract run id tells it."""

    run_id: str
    person: str
    start: dt.date
    end: dt.date


def is_absence_run_id(run_id: object) -> bool:
    """Whether ``run_id`` has the shape of an absence's contract run id (:data:`RUN_ID_PATTERN`)."""
    return isinstance(run_id, str) and re.fullmatch(RUN_ID_PATTERN, run_id) is not None


def absence_of_run(run_id: str) -> InFlight | None:
    """Whose absence a contract run id (:func:`run_id_for`) is, and its days; None for other run ids."""
    if not run_id.startswith(RUN_ID_PREFIX):
        return None
    parts = run_id[len(RUN_ID_PREFIX):].rsplit("__", 2)
    try:
        person, first, last = parts
        return InFlight(run_id, person, dt.date.fromisoformat(first), dt.date.fromisoformat(last))
    except ValueError:
        return None


def overlapping(run_ids: Iterable[str], start: dt.date, end: dt.date) -> list[InFlight]:
    """The absences among ``run_ids`` that share a day with ``start``..``end``, in date order."""
    found = [a for a in map(absence_of_run, run_ids) if a is not None and a.start <= end and a.end >= start]
    return sorted(found, key=lambda a: (a.start, a.end, a.person))


def which_in_flight(run_ids: list[str], count_in_flight: Callable[[list[str]], int], most: int = 400) -> list[str]:
    """The run ids among ``run_ids`` still in flight, asking "how many of these are?" by halves.

    Absences that overlap days still to come are usually all in flight, so one question is the
    usual cost; a rejected or cancelled one among them costs a few more. At most ``most`` ids go
    in one question (they travel in a query string).
    """
    if len(run_ids) > most:
        return [r for i in range(0, len(run_ids), most) for r in which_in_flight(run_ids[i:i + most], count_in_flight)]
    found = count_in_flight(run_ids) if run_ids else 0
    if found == 0:
        return []
    if found == len(run_ids):
        return list(run_ids)
    half = len(run_ids) // 2
    return which_in_flight(run_ids[:half], count_in_flight) + which_in_flight(run_ids[half:], count_in_flight)


def filed_before(run_ids: Iterable[str], mine: str, filed_at: Callable[[str], Any]) -> list[str]:
    """The runs among ``run_ids`` filed before the run ``mine``: by Airflow's creation time, then run id.

    Two absences that clash, filed moments apart, are both checked while both are in flight; only
    the one filed later is rejected, whichever checks first. A run whose time is unknown (None)
    counts as filed before.
    """
    run_ids = list(run_ids)
    own = filed_at(mine) if run_ids else None  # asked only when something clashes
    if own is None:
        return run_ids
    return [r for r in run_ids if (when := filed_at(r)) is None or (when, r) < (own, mine)]


def absences_overlapping(start: dt.date, end: dt.date, in_flight: AbsencesInFlight) -> list[InFlight]:
    """Everyone's absences in flight that share a day with ``start``..``end``, in date order."""
    return overlapping(in_flight(start, end), start, end)


def coverage_warnings(
    absence: Absence, team: Team, in_flight: AbsencesInFlight,
    buddy_of: Callable[[str], str | None] | None = None,
) -> list[str]:
    """What the approver should know: too many people out at once, a buddy covering two people.

    ``buddy_of`` answers "who is the buddy of the absence with this run id" (the DAG reads the
    other runs' plans); without it the second check is left out.
    """
    others: dict[Person, list[InFlight]] = {}
    for other in absences_overlapping(absence.start, absence.end, in_flight):
        person = team.person(other.person)
        if person is not None and person.email != absence.employee.email:
            others.setdefault(person, []).append(other)
    warnings = []
    crowded: list[tuple[dt.date, list[Person]]] = []
    day = absence.start
    while day <= absence.end:
        out = [p for p, spans in others.items() if any(s.start <= day <= s.end for s in spans)]
        if len(out) + 1 > team.max_out_at_once and team.is_working_day(day):
            crowded.append((day, out))
        day += dt.timedelta(days=1)
    if crowded:
        day, out = max(crowded, key=lambda c: len(c[1]))
        names = ", ".join([absence.employee.name] + [p.name for p in out])
        if len(crowded) == 1:
            when = f"{len(out) + 1} people out on {day} ({names})"
        else:
            when = (f"up to {len(out) + 1} people out on {len(crowded)} working days from {crowded[0][0]} "
                    f"to {crowded[-1][0]} ({names} on {day})")
        warnings.append(f"{when}, more than the team's limit of {team.max_out_at_once} at once.")
    if buddy_of is not None:
        for person, spans in others.items():
            for other in spans:
                if buddy_of(other.run_id) == absence.buddy.email:
                    warnings.append(
                        f"The backup buddy {absence.buddy.name} already covers {person.name} from "
                        f"{other.start} to {other.end}."
                    )
    return warnings


def _shown(value: Any, quote: bool = True, limit: int = 60) -> str:
    """What was given, as a message quotes it: cut short, so a huge value cannot drown the message."""
    text = repr(value) if quote else str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _person(params: Mapping[str, Any], key: str, team: Team, problems: list[str]) -> Person | None:
    value = params.get(key)
    if not value:
        problems.append(f"{key} is missing: give the person's work email.")
        return None
    if not isinstance(value, str) or not _EMAIL.match(value.strip()):
        problems.append(f"{key} {_shown(value)} is not an email address.")
        return None
    person = team.person(value)
    if person is None:
        problems.append(f"{key} {_shown(value.strip(), quote=False)} is not in the {team.name} roster.")
    return person


def _approver(value: Any, employee: Person | None, team: Team, filed_by: str | None,
              problems: list[str]) -> Person | None:
    """A manager's approval recorded before filing (e.g. by the HR tool): skips the wait.

    Believed only from someone allowed to record it (a login in ``team.approvers``, or the
    approving manager themself), and only for the employee's manager or that manager's deputy,
    so nobody can file around the manager.
    """
    if value in (None, ""):
        return None
    approver = _person({"approved_by": value}, "approved_by", team, problems)
    if approver is None:
        return None
    if approver.role != "manager":
        problems.append(f"approved_by {approver.email} is not a manager in the roster: only a manager's "
                        "approval can be recorded; leave it empty to ask for one.")
        return None
    if employee is not None and approver.email == employee.email:
        problems.append(f"{employee.name} cannot approve their own absence: leave approved_by empty.")
        return None
    manager = team.person(employee.manager) if employee is not None and employee.manager else None
    allowed = {manager.email, manager.deputy} if manager else set()
    if employee is not None and approver.email not in allowed:
        whose = (f"{employee.name}'s manager {manager.name}" + (" or their deputy" if manager.deputy else "")
                 if manager else f"{employee.name}'s manager (none in the roster)")
        problems.append(f"approved_by {approver.name} is not {whose}: leave approved_by empty to ask for the "
                        "approval.")
        return None
    login = (filed_by or "").strip().lower()
    if login not in team.approvers and login != approver.email:
        logins = ", ".join(team.approvers) or "none in this roster"
        problems.append(f"approved_by can be recorded only by an approvals login (team.approvers: {logins}) or by "
                        f"{approver.name} themself, not by {_shown(filed_by or 'an unknown filer', quote=False)}: "
                        "leave approved_by empty to ask for the approval.")
        return None
    return approver


def _half(params: Mapping[str, Any], key: str, allowed: tuple[str, ...], team: Team,
          problems: list[str]) -> str | None:
    """``start_half`` / ``end_half``: ``full`` when not given; None (with the problem) when not one of ``allowed``."""
    value = params.get(key)
    if value in (None, ""):
        return "full"
    if value not in allowed:
        what = "out from" if allowed[-1] == "afternoon" else "back at"
        problems.append(f"{key} must be 'full' or '{allowed[-1]}' ({what} the team's split time, "
                        f"{team.half_day_split:%H:%M}), not {_shown(value)}.")
        return None
    return str(value)


def _client_company(value: Any, kind: Any, problems: list[str]) -> str:
    """The company a client visit is to, as given (a HubSpot id or a domain); only for that kind."""
    given = value.strip() if isinstance(value, str) else value
    if kind != "client_visit":
        if given not in (None, ""):
            problems.append("client_company is only for kind 'client_visit': clear it, or choose that kind.")
        return ""
    if given in (None, ""):
        problems.append("client_company is missing: a client visit names the HubSpot company visited, by its "
                        "id or its domain (e.g. bigskyoutfitters.com).")
        return ""
    if not isinstance(given, str) or company_ref(given) is None:
        problems.append(f"client_company {_shown(given)} is neither a HubSpot company id (digits) nor a domain "
                        "(e.g. bigskyoutfitters.com).")
        return ""
    return given


def _date(params: Mapping[str, Any], key: str, problems: list[str]) -> dt.date | None:
    value = params.get(key)
    if value in (None, ""):
        problems.append(f"{key} is missing: give a date as YYYY-MM-DD.")
        return None
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    try:
        if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()):
            raise ValueError
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        problems.append(f"{key} {_shown(value)} is not a date: use YYYY-MM-DD, e.g. 2026-12-01.")
        return None


#: Format characters that belong in text: line breaks and tabs, and the zero-width (non-)joiners
#: that emoji sequences and Indic and Persian scripts need. Bidi overrides and the rest are refused.
_TEXT_CONTROLS = "\n\t\u200c\u200d"


def _note(value: Any, problems: list[str]) -> str:
    """Free text stays text: HTML is kept verbatim (escaped where shown), control characters refused."""
    if value in (None, ""):
        return ""
    if not isinstance(value, str):
        problems.append("note must be text.")
        return ""
    bad = sorted({c for c in value if unicodedata.category(c) in ("Cc", "Cf") and c not in _TEXT_CONTROLS})
    if bad:
        names = ", ".join(f"U+{ord(c):04X}" for c in bad)
        problems.append(f"note contains control characters ({names}): remove them and try again.")
    if len(value) > NOTE_MAX_CHARS:
        problems.append(f"note is {len(value)} characters long; keep it under {NOTE_MAX_CHARS}.")
    return value.strip()
