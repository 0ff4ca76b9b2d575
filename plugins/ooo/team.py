"""The team roster and the team's settings, read from ``include/team.yaml``.

The roster is configuration, not code: a team adopts ooo-pipelines by writing its own file and
pointing the Airflow Variable ``ooo_team_file`` (or ``OOO_TEAM_FILE``) at it.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

Role = Literal["csm", "cc", "support", "manager"]
ROLES: tuple[str, ...] = ("csm", "cc", "support", "manager")
#: Which of a customer's HubSpot contacts hear of a CSM's absence (``team.customer_notice.contacts``).
CONTACT_RULES: tuple[str, ...] = ("primary", "all")
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
    deputy: str | None = None  # a manager's stand-in: answers the approvals while the manager is out
    cc: str | None = None  # a CSM's paired Content Creator (told of the CSM's absences)

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
class Intake:
    """``team.intake``: absences filed from the people's own out-of-office events (``ooo_intake``).

    Off unless the roster turns it on. ``interval_minutes``: how often the calendars are read;
    ``unexpected_within_hours``: an event made on or after its own start counts as an unexpected
    absence if made within this long of it (later than that it is a record after the fact, and is
    not filed); ``max_occurrences``: how many occurrences of one recurring event are filed.
    """

    enabled: bool = False
    interval_minutes: int = 5
    unexpected_within_hours: int = 24
    max_occurrences: int = 8

    @property
    def interval(self) -> dt.timedelta:
        return dt.timedelta(minutes=self.interval_minutes)

    @property
    def unexpected_within(self) -> dt.timedelta:
        return dt.timedelta(hours=self.unexpected_within_hours)


@dataclass(frozen=True)
class CustomerNoticeRule:
    """Who hears of a CSM's absence in HubSpot (``team.customer_notice``): the companies the CSM
    owns whose lifecycle stage is one of ``lifecycle_stages``, minus those whose ``opt_out_property``
    is set; at each, its ``contacts``: ``primary`` (those whose primary company it is) or ``all``."""

    lifecycle_stages: tuple[str, ...]
    contacts: Literal["primary", "all"] = "primary"
    opt_out_property: str | None = None


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
    approvers: tuple[str, ...] = ()  # Airflow logins that may record an approval when filing (approved_by)
    intake: Intake = field(default_factory=Intake)
    customer_notice: CustomerNoticeRule | None = None  # None: customers are not told
    half_day_split: dt.time = dt.time(12)  # local time a morning ends and an afternoon begins (half days)

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

    def name_of(self, login: str | None) -> str | None:
        """The roster name of an Airflow login (a person's login is their email); None if not in the roster."""
        person = self.person(login) if login else None
        return person.name if person else None


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
            approvers=tuple(str(a).strip().lower() for a in settings.get("approvers") or ()),
            intake=_intake(settings.get("intake")),
            customer_notice=_customer_notice(settings.get("customer_notice"), source),
            half_day_split=_time(settings.get("half_day_split") or "12:00"),
        )
    except RosterError:
        raise
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
        deputy=(raw.get("deputy") or None) and raw["deputy"].strip().lower(),
        cc=(raw.get("cc") or None) and str(raw["cc"]).strip().lower(),
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
        for what, ref in (("manager", p.manager), ("buddy", p.buddy), ("deputy", p.deputy), ("cc", p.cc)):
            if ref and team.person(ref) is None:
                raise RosterError(f"{source}: {p.email}'s {what} {ref} is not in people")
        if p.deputy and p.role != "manager":
            raise RosterError(f"{source}: {p.email} has a deputy but is not a manager: only managers' approvals "
                              "go to a deputy")
        if p.deputy and p.deputy == p.email:
            raise RosterError(f"{source}: {p.email} cannot be their own deputy")
        if p.cc:
            paired = team.person(p.cc)
            if p.role != "csm":
                raise RosterError(f"{source}: {p.email} has a cc, but only a CSM is paired with a Content "
                                  f"Creator (their role is {p.role}): remove it")
            if paired is not None and paired.role != "cc":
                raise RosterError(f"{source}: {p.email}'s cc {p.cc} is a {paired.role}, not a Content Creator "
                                  "(role cc)")
    if team.half_day_split == dt.time(0):
        raise RosterError(f"{source}: half_day_split 00:00 leaves a morning no time: give the local time a "
                          "morning ends, e.g. \"12:00\"")
    missing = {"team_notice", "auto_reply_on", "sms_review", "return_digest"} - set(team.times)
    if missing:
        raise RosterError(f"{source}: times lacks {', '.join(sorted(missing))}")


def _intake(raw: object) -> Intake:
    """``team.intake``; absent: off."""
    if raw is None:
        return Intake()
    if not isinstance(raw, dict):
        raise ValueError("intake must be a mapping (enabled, interval_minutes, unexpected_within_hours, "
                         "max_occurrences)")
    unknown = set(raw) - {f.name for f in fields(Intake)}
    if unknown:
        raise ValueError(f"intake has unknown settings {sorted(unknown)}")
    enabled = raw.get("enabled", False)
    if not isinstance(enabled, bool):
        raise ValueError(f"intake.enabled must be true or false, not {enabled!r}")
    numbers = {name: int(raw.get(name, getattr(Intake, name))) for name in
               ("interval_minutes", "unexpected_within_hours", "max_occurrences")}
    if numbers["interval_minutes"] < 1 or numbers["max_occurrences"] < 1 or numbers["unexpected_within_hours"] < 0:
        raise ValueError(f"intake: interval_minutes and max_occurrences must be at least 1, "
                         f"unexpected_within_hours at least 0 (given {numbers})")
    return Intake(enabled=enabled, **numbers)


#: A HubSpot property's internal name (lowercase letters, digits and underscores).
_PROPERTY_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


def _customer_notice(raw: object, source: str) -> CustomerNoticeRule | None:
    """``team.customer_notice``, checked: each mistake is a RosterError that says what to write."""
    if raw is None:
        return None
    where = f"{source}: team.customer_notice"
    if not isinstance(raw, dict):
        raise RosterError(f"{where} must be a mapping with lifecycle_stages, contacts and opt_out_property")
    unknown = sorted(set(raw) - {"lifecycle_stages", "contacts", "opt_out_property"})
    if unknown:
        raise RosterError(f"{where} has unknown keys {', '.join(map(str, unknown))}: it takes lifecycle_stages, "
                          "contacts and opt_out_property")
    stages = raw.get("lifecycle_stages")
    if isinstance(stages, str):
        stages = [stages]
    if not isinstance(stages, list) or not stages or not all(isinstance(s, str) and s.strip() for s in stages):
        raise RosterError(f"{where}.lifecycle_stages must list at least one HubSpot lifecycle stage "
                          "(its internal value, e.g. [customer])")
    contacts = raw.get("contacts", "primary")
    if contacts not in CONTACT_RULES:
        raise RosterError(f"{where}.contacts must be 'primary' (each company's primary contacts) or 'all' (every "
                          f"contact with an email), not {contacts!r}")
    opt_out = raw.get("opt_out_property")
    if opt_out is not None and (not isinstance(opt_out, str) or not _PROPERTY_NAME.match(opt_out)):
        raise RosterError(f"{where}.opt_out_property must be a HubSpot company property's internal name "
                          f"(e.g. ooo_notice_opt_out), not {opt_out!r}")
    return CustomerNoticeRule(lifecycle_stages=tuple(dict.fromkeys(s.strip().lower() for s in stages)),
                              contacts=contacts, opt_out_property=opt_out)


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


def team_anywhere() -> Team:
    """:func:`team_for_run` where Airflow's Variables can be read; elsewhere (a callback, a server, a
    test, the CLI) the file ``OOO_TEAM_FILE`` names or the sample."""
    try:
        return team_for_run()
    except Exception:  # noqa: BLE001 - no Variable backend here
        return load_team()
