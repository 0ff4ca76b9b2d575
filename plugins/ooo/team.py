"""The team roster and the team's settings, read from ``include/team.yaml``.

The roster is configuration, not code: a team adopts ooo-pipelines by writing its own file and
pointing the Airflow Variable ``ooo_team_file`` (or ``OOO_TEAM_FILE``) at it.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

Role = Literal["csm", "cc", "support", "manager"]
ROLES: tuple[str, ...] = ("csm", "cc", "support", "manager")
WEEKDAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

#: The sample team shipped with the project (and the sandbox's seed).
SAMPLE_TEAM_FILE = Path(__file__).resolve().parents[2] / "include" / "team.yaml"


class RosterError(ValueError):
    """The team file itself is wrong: a configuration problem, not a bad absence."""


@dataclass(frozen=True)
class Person:
    email: str
    name: str
    role: Role
    timezone: str
    manager: str | None = None
    buddy: str | None = None
    slack_id: str | None = None
    justcall_number: str | None = None
    hubspot_owner_id: str | None = None

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> Person:
        """A person as a plan recorded them (fields a later roster added take their defaults)."""
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in raw.items() if k in known})

    @property
    def first_name(self) -> str:
        return self.name.split()[0]

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


@dataclass(frozen=True)
class Team:
    name: str
    company: str
    email_domain: str
    support_email: str
    support_phone: str
    channels: dict[str, str]
    working_days: frozenset[int]  # ISO weekday numbers, Monday = 1
    holidays: frozenset[dt.date]
    max_absence_days: int
    times: dict[str, dt.time]
    meeting_minutes: int
    people: tuple[Person, ...]
    cc_request_contacts: tuple[str, ...] = field(default=())
    max_out_at_once: int = 2  # more people out on one day than this: the approver is warned

    def person(self, email: str) -> Person | None:
        wanted = email.strip().lower()
        return next((p for p in self.people if p.email == wanted), None)

    def __iter__(self) -> Iterator[Person]:
        return iter(self.people)

    def is_working_day(self, day: dt.date) -> bool:
        return day.isoweekday() in self.working_days and day not in self.holidays

    def next_working_day(self, after: dt.date) -> dt.date:
        day = after + dt.timedelta(days=1)
        while not self.is_working_day(day):
            day += dt.timedelta(days=1)
        return day

    def previous_working_day(self, before: dt.date) -> dt.date:
        day = before - dt.timedelta(days=1)
        while not self.is_working_day(day):
            day -= dt.timedelta(days=1)
        return day

    def is_internal(self, email: str) -> bool:
        return email.strip().lower().rsplit("@", 1)[-1] == self.email_domain

    def time_of(self, step: str) -> dt.time:
        return self.times[step]


def team_file() -> Path:
    """The roster in use: ``OOO_TEAM_FILE`` if set, else the sample team."""
    return Path(os.environ.get("OOO_TEAM_FILE") or SAMPLE_TEAM_FILE)


SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_team(path: str | os.PathLike[str] | None = None) -> Team:
    path = Path(path) if path else team_file()
    try:
        # libyaml's safe loader when PyYAML has it: every task reads the roster, ~10x faster than pure Python
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=SAFE_LOADER)  # noqa: S506 - a safe loader
    except (OSError, yaml.YAMLError) as exc:
        raise RosterError(f"cannot read the team file {path}: {exc}") from exc
    return parse_team(raw, source=str(path))


def parse_team(raw: object, source: str = "team file") -> Team:
    if not isinstance(raw, dict) or "team" not in raw or "people" not in raw:
        raise RosterError(f"{source}: expected top-level 'team' and 'people'")
    settings = raw["team"]
    try:
        days = frozenset(WEEKDAYS.index(d.lower()) + 1 for d in settings["working_days"])
        holidays = frozenset(_date(h) for h in settings.get("holidays") or [])
        times = {step: _time(value) for step, value in settings["times"].items()}
        people = tuple(_person(p) for p in raw["people"])
        team = Team(
            name=settings["name"],
            company=settings["company"],
            email_domain=settings["email_domain"].lower(),
            support_email=settings["support"]["email"],
            support_phone=str(settings["support"].get("phone", "")),
            channels=dict(settings["channels"]),
            working_days=days,
            holidays=holidays,
            max_absence_days=int(settings["max_absence_days"]),
            times=times,
            meeting_minutes=int(settings.get("meeting_minutes", 30)),
            people=people,
            cc_request_contacts=tuple(c.lower() for c in settings.get("cc_request_contacts") or ()),
            max_out_at_once=int(settings.get("max_out_at_once", 2)),
        )
    except (KeyError, TypeError, ValueError, ZoneInfoNotFoundError) as exc:
        raise RosterError(f"{source}: {exc!r}") from exc
    _check_references(team, source)
    return team


def _person(raw: dict) -> Person:
    person = Person(
        email=raw["email"].strip().lower(),
        name=raw["name"],
        role=raw["role"],
        timezone=raw["timezone"],
        manager=(raw.get("manager") or None) and raw["manager"].lower(),
        buddy=(raw.get("buddy") or None) and raw["buddy"].lower(),
        slack_id=raw.get("slack_id") or None,
        justcall_number=str(raw["justcall_number"]) if raw.get("justcall_number") else None,
        hubspot_owner_id=str(raw["hubspot_owner_id"]) if raw.get("hubspot_owner_id") else None,
    )
    if person.role not in ROLES:
        raise ValueError(f"{person.email}: role must be one of {', '.join(ROLES)}")
    ZoneInfo(person.timezone)  # raises on an unknown zone
    return person


def _check_references(team: Team, source: str) -> None:
    emails = [p.email for p in team.people]
    if len(set(emails)) != len(emails):
        raise RosterError(f"{source}: an email appears twice in people")
    for p in team.people:
        for what, ref in (("manager", p.manager), ("buddy", p.buddy)):
            if ref and team.person(ref) is None:
                raise RosterError(f"{source}: {p.email}'s {what} {ref} is not in people")
    missing = {"team_notice", "auto_reply_on", "sms_review", "return_digest"} - set(team.times)
    if missing:
        raise RosterError(f"{source}: times lacks {', '.join(sorted(missing))}")


def _date(value: object) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


def _time(value: object) -> dt.time:
    return dt.time.fromisoformat(str(value))


#: The Airflow Variable that names a team's own roster file.
TEAM_FILE_VARIABLE = "ooo_team_file"


def team_for_run() -> Team:
    """The roster a task works with: the file the Airflow Variable ``ooo_team_file`` names, else
    ``OOO_TEAM_FILE`` or the sample team. Only inside Airflow (a task, the API server)."""
    from airflow.sdk import Variable

    return load_team(Variable.get(TEAM_FILE_VARIABLE, default=None))
