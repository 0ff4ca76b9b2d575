"""What each step did, typed: its XCom, read back by later steps, the run note, the digest and undo.

A step returns one record; the operator stores ``record.to_dict()`` as the step's XCom. Records are
read back with ``from_dict``, which tolerates what earlier releases wrote (runs last weeks): a
missing field takes its default, an unknown one is ignored, a value of the wrong shape is dropped.
A missing record means the step did nothing (it did not run, or not yet).

The dict keys are the XCom's contract (cancel, the coverage board and ``ooo digest-preview`` read
records of runs filed under earlier releases), so a field whose key differs says so in its
metadata (``key("htmlLink")``).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import types
import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any, Self, cast

from ooo.procedure import Step
from ooo.times import maybe_instant


def key(name: str) -> Any:
    """A field stored under another key than its name (the Calendar API's ``htmlLink``)."""
    return field(default=None, metadata={"key": name})


class Record:
    """A dataclass that converts to and from its XCom dict, tolerantly."""

    def to_dict(self) -> dict[str, Any]:
        return {_key(f): _plain(getattr(self, f.name)) for f in dataclasses.fields(self)}  # type: ignore[arg-type]

    @classmethod
    def from_dict(cls, raw: Any) -> Self:
        """The record in ``raw``; fields missing or of the wrong shape take their defaults."""
        if isinstance(raw, cls):
            return raw
        raw = raw if isinstance(raw, Mapping) else {}
        hints = _hints(cast(type, cls))
        values = {}
        for f in dataclasses.fields(cls):  # type: ignore[arg-type]
            if _key(f) in raw:
                value = _read(hints[f.name], raw[_key(f)])
                if value is not _WRONG:
                    values[f.name] = value
        return cls(**values)


_WRONG = object()


def _key(f: dataclasses.Field[Any]) -> str:
    return f.metadata.get("key", f.name)


@cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _plain(value: Any) -> Any:
    if isinstance(value, Record):
        return value.to_dict()
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _read(hint: Any, value: Any) -> Any:
    """``value`` read as ``hint`` says; ``_WRONG`` when it does not fit."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        for arg in args:
            if arg is not type(None) and (read := _read(arg, value)) is not _WRONG:
                return read
        return _WRONG
    if origin in (list, tuple, Sequence):
        if not isinstance(value, (list, tuple)):
            return _WRONG
        items = [_read(args[0], v) for v in value] if args else list(value)
        items = [i for i in items if i is not _WRONG]
        return tuple(items) if origin is tuple else items
    if origin in (dict, Mapping):
        return dict(value) if isinstance(value, Mapping) else _WRONG
    if isinstance(hint, type) and issubclass(hint, Record):
        return hint.from_dict(value) if isinstance(value, Mapping) else _WRONG
    if hint is Any:
        return value
    if hint is bool:
        return value if isinstance(value, bool) else _WRONG
    if hint is int:
        return value if isinstance(value, int) and not isinstance(value, bool) else _WRONG
    if hint is float:
        return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else _WRONG
    if hint is str:
        return value if isinstance(value, str) else _WRONG
    return value


# -- calendar_cleanup ---------------------------------------------------------------------------
@dataclass(frozen=True)
class DeclinedMeeting(Record):
    """A meeting in the window, declined on the employee's copy (or organised by them)."""

    id: str = ""
    summary: str = ""
    start: str = ""  # ISO, the employee's zone
    when: str = ""  # as the employee reads it
    kind: str = "internal"  # "internal" | "external" (clients among the guests)
    organised: bool = False
    html_link: str | None = key("htmlLink")


@dataclass(frozen=True)
class OrganisedMeeting(Record):
    """A meeting the employee organises: never cancelled for the others; the buddy gets the list."""

    id: str = ""
    summary: str = ""
    start: str = ""
    when: str = ""
    attendees: list[str] = field(default_factory=list)
    external: list[str] = field(default_factory=list)
    html_link: str | None = key("htmlLink")


@dataclass(frozen=True)
class MissedMeeting(Record):
    """An internal meeting the employee misses: for the return digest."""

    id: str = ""
    summary: str = ""
    start: str = ""
    when: str = ""
    end: str = ""
    description: str = ""
    attachments: list[dict[str, Any]] = field(default_factory=list)
    html_link: str | None = key("htmlLink")
    organizer: str | None = None
    recurring_event_id: str | None = key("recurringEventId")


@dataclass(frozen=True)
class SkippedMeeting(Record):
    id: str = ""
    summary: str = ""
    reason: str = ""


@dataclass(frozen=True)
class RescheduleEmail(Record):
    """The reschedule note sent to a meeting's clients; ``logged``: its engagement on their HubSpot
    records (None: not logged), ``not_in_hubspot``: the clients HubSpot has no contact for."""

    event_id: str = ""
    event: str = ""  # the meeting's title
    to: list[str] = field(default_factory=list)
    subject: str = ""
    message_id: str = ""
    gmail_id: str | None = None
    logged: str | None = None
    not_in_hubspot: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class CalendarCleanup(Record):
    ooo_event_id: str | None = None  # the absence's out-of-office block
    # True: the block is the employee's own out-of-office event, adopted: the absence never changes or deletes it
    ooo_event_adopted: bool = False
    declined: list[DeclinedMeeting] = field(default_factory=list)
    reschedule_emails: list[RescheduleEmail] = field(default_factory=list)
    organised: list[OrganisedMeeting] = field(default_factory=list)
    missed_internal: list[MissedMeeting] = field(default_factory=list)
    skipped: list[SkippedMeeting] = field(default_factory=list)
    handover_event_id: str | None = None
    coverage_review_event_id: str | None = None


# -- Slack messages -----------------------------------------------------------------------------
@dataclass(frozen=True)
class SlackPost(Record):
    """A message posted once (the team notice, a DM); ``skipped`` says why none was."""

    channel: str | None = None
    ts: str | None = None
    posted: bool = False
    user: str | None = None  # the person a DM went to
    skipped: str | None = None


@dataclass(frozen=True)
class TeamNotice(SlackPost):
    """The team notice; for a client visit, the company as the notice named it."""

    client_company_id: str | None = None  # HubSpot's id, when HubSpot knows the company
    client_company: str | None = None  # the name the notice gave it (as given when HubSpot did not say)
    client_company_unknown: str | None = None  # why it was named as given


@dataclass(frozen=True)
class BuddyHandover(SlackPost):
    organised: int = 0
    client_meetings: int = 0


# -- customer_notice ------------------------------------------------------------------------------
@dataclass(frozen=True)
class CustomerEmail(Record):
    """An email to one contact of a CSM's customers (the notice, or a correction of it), logged on
    HubSpot as an email engagement on the contact and ``company_ids`` (``engagement_id``)."""

    address: str = ""
    name: str = ""
    first_name: str = ""
    contact_id: str = ""
    company: str = ""  # the company it was written for (the first, by name, to list the contact)
    company_ids: list[str] = field(default_factory=list)  # every company of the CSM's listing them
    companies: list[str] = field(default_factory=list)  # their names
    message_id: str = ""
    gmail_id: str | None = None
    engagement_id: str | None = None
    sent: bool = False  # sent by this try (False: an earlier try had sent it)


@dataclass(frozen=True)
class LeftOut(Record):
    """A company or contact that was not written to, and why (opted out, no contacts, no valid email...)."""

    company: str = ""
    company_id: str = ""
    contact: str = ""  # the contact's name; empty when the whole company is left out
    contact_id: str = ""
    address: str | None = None
    reason: str = ""


@dataclass(frozen=True)
class CustomerNotice(Record):
    """Who of the CSM's customers was told, who was left out and why, and the paired CC's DM;
    ``skipped``: why no customer was written to at all."""

    told: list[CustomerEmail] = field(default_factory=list)
    left_out: list[LeftOut] = field(default_factory=list)
    cc: SlackPost | None = None
    skipped: str | None = None

    @property
    def companies(self) -> int:
        """How many companies the contacts told were written for."""
        return len({c for told in self.told for c in told.company_ids})

    @property
    def summary(self) -> str:
        """``customers told: 5 contacts at 3 companies`` (the run note's words)."""
        people, companies = len(self.told), self.companies
        return (f"customers told: {people} contact{'s' * (people != 1)} at {companies} "
                f"compan{'ies' if companies != 1 else 'y'}")


@dataclass(frozen=True)
class VisitRequest(Record):
    """A teammate's reply in the client-visit notice's thread: what they need from the client."""

    user: str = ""  # their Slack id
    ts: str = ""
    text: str = ""  # as Slack has it (mrkdwn)


@dataclass(frozen=True)
class VisitRequests(SlackPost):
    """The replies to a client-visit notice, sent to the employee's DM the morning they leave."""

    company: str = ""
    thread_ts: str | None = None  # the team notice's
    requests: list[VisitRequest] = field(default_factory=list)


# -- auto-reply ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class AutoReplyOn(Record):
    enabled: bool = False
    changed: bool = False
    subject: str = ""
    start: str = ""
    end: str = ""
    start_time_ms: str = ""
    end_time_ms: str = ""


@dataclass(frozen=True)
class AutoReplyOff(Record):
    enabled: bool = True
    changed: bool = False
    verified: bool = False


# -- slack_status_on / slack_status_off ----------------------------------------------------------
@dataclass(frozen=True)
class RecordedStatus(Record):
    """A person's Slack status as a record keeps it (``expiration``: ISO, None when it has none)."""

    text: str = ""
    emoji: str = ""
    expiration: str | None = None


@dataclass(frozen=True)
class SlackStatusOn(Record):
    """The status set while out; ``before``: the person's own, to put back (None: not known, because
    an earlier try had set ours already); ``skipped`` says why none was set."""

    user: str | None = None
    status: RecordedStatus | None = None  # ours, as Slack shows it
    before: RecordedStatus | None = None
    changed: bool = False  # set by this try (False: ours was already there)
    skipped: str | None = None


@dataclass(frozen=True)
class SlackStatusOff(Record):
    """The status on return (or on a cancel): put back, or left alone and why; ``skipped``: not looked at."""

    user: str | None = None
    put_back: bool = False  # the status before (or none, when it had expired or is not known) is back
    status: RecordedStatus | None = None  # as Slack shows it afterwards
    left_alone: str | None = None  # why it was left as it is
    changed_meanwhile: bool = False  # left alone because the person changed it while out
    skipped: str | None = None


# -- sms_review ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class ReviewedText(Record):
    """A text to the employee's JustCall number, as a review found it."""

    id: int | str = ""
    contact_number: str = ""
    contact_name: str = ""
    at: str = ""  # ISO, the employee's zone
    excerpt: str = ""
    answered_at: str | None = None  # in ``answered``
    text_id: int | str | None = None  # in ``raised``
    slack_ts: str | None = None  # in ``raised``: the support channel's message

    @property
    def received_at(self) -> dt.datetime | None:
        return maybe_instant(self.at)


@dataclass(frozen=True)
class SmsReview(Record):
    day: str = ""
    label: str = ""
    since: str = ""
    until: str = ""
    received: list[ReviewedText] = field(default_factory=list)
    answered: list[ReviewedText] = field(default_factory=list)
    unanswered: list[ReviewedText] = field(default_factory=list)
    raised: list[ReviewedText] = field(default_factory=list)
    skipped: str | None = None


# -- return_digest ------------------------------------------------------------------------------
@dataclass(frozen=True)
class ReturnDigest(Record):
    message_id: str = ""
    gmail_id: str | None = None
    sent: bool = False
    already_sent: bool = False
    subject: str = ""
    counts: dict[str, int] = field(default_factory=dict)
    fathom_linked: bool = False


# -- approval -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class ApprovalAnswer(Record):
    """The approval task's XCom: the manager's answer (Airflow's HITL result), or one recorded when filed."""

    chosen_options: list[str] = field(default_factory=list)
    params_input: dict[str, Any] = field(default_factory=dict)
    responded_at: Any = None  # a datetime from Airflow, ISO text when recorded
    responded_by_user: dict[str, Any] | None = None
    recorded: bool = False  # approved_by: recorded when filed, not answered in Airflow
    timedout: bool = False

    @property
    def approved(self) -> bool:
        return self.chosen_options == ["Approve"]

    @property
    def reason(self) -> str:
        return str(self.params_input.get("reason") or "").strip()


# -- changes to a filed absence (ooo_cancel, ooo_shorten) -----------------------------------------
@dataclass(frozen=True)
class RestoredMeeting(Record):
    """A declined meeting put back on the calendar; ``told``: the clients told it stands (``logged``:
    that reply's HubSpot engagement; ``not_in_hubspot``: clients HubSpot has no contact for)."""

    id: str = ""
    summary: str = ""
    when: str = ""
    told: list[str] = field(default_factory=list)
    logged: str | None = None
    not_in_hubspot: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Cancellation(Record):
    deleted_events: list[str] = field(default_factory=list)
    restored: list[RestoredMeeting] = field(default_factory=list)
    auto_reply_off: bool = False
    team_corrected: SlackPost | None = None
    buddy_told: SlackPost | None = None
    summary: str = ""  # as the run note says it
    customers_told: list[CustomerEmail] = field(default_factory=list)  # the customers' correction
    cc_told: SlackPost | None = None
    status_put_back: bool = False  # the Slack status the person had before is back


@dataclass(frozen=True)
class BackEarly(Record):
    block_cut: bool = False
    restored: list[RestoredMeeting] = field(default_factory=list)
    auto_reply_updated: bool = False
    status_updated: bool = False  # the Slack status now says the new return day, and expires then
    team_corrected: SlackPost | None = None
    buddy_told: SlackPost | None = None
    summary: str = ""
    woken: list[str] = field(default_factory=list)  # the waiting steps woken to wait for their new moments
    customers_told: list[CustomerEmail] = field(default_factory=list)  # the customers' "back earlier" note
    cc_told: SlackPost | None = None


#: The record type of each step that keeps one (a missing one means "nothing was done").
RECORD_TYPES: dict[Step, type[Record]] = {
    Step.CALENDAR_CLEANUP: CalendarCleanup,
    Step.TEAM_NOTICE: TeamNotice,
    Step.CUSTOMER_NOTICE: CustomerNotice,
    Step.BUDDY_HANDOVER: BuddyHandover,
    Step.VOICEMAIL_REMINDER: SlackPost,
    Step.AUTO_REPLY_ON: AutoReplyOn,
    Step.SLACK_STATUS_ON: SlackStatusOn,
    Step.VISIT_REQUESTS: VisitRequests,
    Step.SMS_REVIEW: SmsReview,
    Step.AUTO_REPLY_OFF: AutoReplyOff,
    Step.SLACK_STATUS_OFF: SlackStatusOff,
    Step.RETURN_DIGEST: ReturnDigest,
}
#: The steps read back by task id (the daily reviews are read apart: one record per day).
SINGLE_RECORD_STEPS: tuple[Step, ...] = tuple(s for s in RECORD_TYPES if s is not Step.SMS_REVIEW)


@dataclass(frozen=True)
class Records:
    """What the earlier steps of one absence recorded; None where a step did nothing (yet)."""

    calendar_cleanup: CalendarCleanup | None = None
    team_notice: TeamNotice | None = None
    customer_notice: CustomerNotice | None = None
    buddy_handover: BuddyHandover | None = None
    voicemail_reminder: SlackPost | None = None
    auto_reply_on: AutoReplyOn | None = None
    slack_status_on: SlackStatusOn | None = None
    visit_requests: VisitRequests | None = None
    auto_reply_off: AutoReplyOff | None = None
    slack_status_off: SlackStatusOff | None = None
    return_digest: ReturnDigest | None = None
    reviews: tuple[SmsReview, ...] = ()  # day by day

    @classmethod
    def from_xcoms(cls, by_step: Mapping[str, Any], reviews: Sequence[Any] = ()) -> Records:
        """The records from their XCom values (dicts, or None where a step has none)."""
        found = {step.value: RECORD_TYPES[step].from_dict(by_step[step]) for step in SINGLE_RECORD_STEPS
                 if isinstance(by_step.get(step), Mapping)}
        days = [SmsReview.from_dict(r) for r in reviews if isinstance(r, Mapping)]
        return cls(**cast(dict[str, Any], found), reviews=tuple(sorted(days, key=lambda r: r.day)))

    def with_record(self, step: Step, record: Record) -> Records:
        """These records with ``step``'s own (a running task's, not in XCom yet)."""
        if step is Step.SMS_REVIEW:
            assert isinstance(record, SmsReview)
            others = [r for r in self.reviews if r.day != record.day]
            return dataclasses.replace(self, reviews=tuple(sorted([*others, record], key=lambda r: r.day)))
        return dataclasses.replace(self, **cast(dict[str, Any], {step.value: record}))

    def to_dicts(self) -> dict[str, Any]:
        """By step name, as ``ooo digest-preview --records`` reads them (plus ``reviews``, a list)."""
        out: dict[str, Any] = {s.value: r.to_dict() for s in SINGLE_RECORD_STEPS if (r := getattr(self, s.value))}
        out["reviews"] = [r.to_dict() for r in self.reviews]
        return out
