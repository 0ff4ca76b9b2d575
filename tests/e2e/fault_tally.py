"""Nothing doubled, nothing lost: each absence's effects counted in the sandbox, against what its seeded
world says they must be.

What each absence must leave is read from the sandbox *before* it is filed (:func:`expect`): the
meetings in its window that the employee attends (each to be declined, and those with guests from
outside the company each to get one reschedule email), the texts to the employee's number left
unanswered (each one alert in the support channel), and the fixed ones (an out-of-office block, a
team notice, the buddy's DM, the voicemail DM when the employee has a JustCall number, a digest, the
auto-reply on and off again), and for a CSM their customers' contacts in HubSpot (each one notice, logged
on HubSpot like the reschedule emails to contacts HubSpot knows) and their paired CC's DM. Nothing is
taken from the product's records (its XComs).

What it did leave is counted in the sandbox as people see it: calendars, sent mail, channels and
DMs, and the Google API's history of changes (an answer that became "declined", a responder switched
off), where a decline or a switch made twice shows as two changes even though the end state is the
same. Found twice is doubled; expected and not found is missing.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from ooo.keys import SlackEvent, customer_notice_message_id, reschedule_message_id
from ooo.steps.calendar import MARKER
from ooo.team import Team
from sandbox import Sandbox

KINDS = ("out-of-office event", "declined meeting", "reschedule email", "team notice", "customer notice",
         "email logged on HubSpot", "CC DM", "buddy handover DM", "voicemail DM", "SMS alert", "return digest",
         "auto-reply off")


@dataclass
class Expected:
    """What one absence must do, read from the sandbox before it was filed."""

    meetings: dict[str, dict[str, Any]]  # event id -> {"summary", "external": sorted guest emails}
    unanswered: set[str]  # ids of the texts to raise
    voicemail: bool
    since: int  # Google's history up to here came before the absence (one absence per person at a time)
    customers: set[str] = field(default_factory=set)  # the CSM's customers' contacts to tell (addresses)
    in_hubspot: set[str] = field(default_factory=set)  # addresses HubSpot has a contact for
    cc: str | None = None  # the CSM's paired Content Creator, to be DM'd


@dataclass
class Run:
    """One absence's run: its id and key (from the run id), the people, and what it must do."""

    run_id: str
    key: str
    employee: str
    buddy: str
    expected: Expected


@dataclass
class Tally:
    expected: Counter[str] = field(default_factory=Counter)
    found: Counter[str] = field(default_factory=Counter)
    doubled: Counter[str] = field(default_factory=Counter)
    missing: Counter[str] = field(default_factory=Counter)
    where: list[str] = field(default_factory=list)  # what was doubled or missing, for a failing assert

    def add(self, kind: str, run: Run, expected: set[Any], seen: Counter[Any]) -> None:
        """``seen``: how many times each key was found (keys outside ``expected`` count as doubles)."""
        self.expected[kind] += len(expected)
        self.found[kind] += sum(1 for k in expected if seen[k])
        for k, n in seen.items():
            extra = n - 1 if k in expected else n
            if extra > 0:
                self.doubled[kind] += extra
                self.where.append(f"{kind} {k!r} x{n}{'' if k in expected else ' (not expected)'} ({run.run_id})")
        for k in expected:
            if not seen[k]:
                self.missing[kind] += 1
                self.where.append(f"{kind} {k!r} missing ({run.run_id})")

    def rows(self) -> list[tuple[str, int, int, int, int]]:
        return [(k, self.expected[k], self.found[k], self.doubled[k], self.missing[k]) for k in KINDS]


def expect(sandbox: Sandbox, team: Team, employee: str, start: dt.date, end: dt.date,
           filed: dt.datetime) -> Expected:
    """What an absence of ``employee`` from ``start`` to ``end`` (full days), filed as of ``filed``, must
    do in the sandbox's world as it is now: call it before the absence is filed.

    The procedure (seeds 000 and 003), applied to the sandbox's state: the window is the first day
    out from midnight to the first working day back, local to the employee; a meeting is one with
    other (non-room) guests that the employee attends, has not declined and that begins within the
    window, not before the absence was filed; texts are those received from the start of the window
    to the return morning's review with no reply to that contact before it.
    """
    person = team.person(employee)
    zone = ZoneInfo(person.timezone)
    out_from = dt.datetime.combine(start, dt.time(0), zone)
    return_day = team.next_working_day(end)
    back_at = dt.datetime.combine(return_day, dt.time(0), zone)
    cutoff = max(out_from, filed)
    google = sandbox.api("google")
    meetings = {}
    for event in google.list_events(employee, out_from, back_at):
        attendees = event.get("attendees") or []
        me = next((a for a in attendees if a.get("self")), None)
        others = [a for a in attendees if not a.get("self") and not a.get("resource")]
        begins = event.get("start", {}).get("dateTime")
        if (event.get("eventType", "default") != "default" or event.get("status") == "cancelled" or not others
                or me is None or me.get("responseStatus") == "declined" or begins is None
                or not cutoff <= dt.datetime.fromisoformat(begins) < back_at):
            continue
        meetings[event["id"]] = {"summary": event.get("summary") or "",
                                 "external": sorted(a["email"] for a in others if not team.is_internal(a["email"]))}
    unanswered: set[str] = set()
    if person.justcall_number:
        review_at = dt.datetime.combine(return_day, team.times["return_digest"], zone)
        texts = _texts(sandbox, person.justcall_number)
        for text in texts:
            if text["direction"] == "Incoming" and out_from <= text["at"] < review_at and not any(
                    r["direction"] == "Outgoing" and r["contact_number"] == text["contact_number"]
                    and text["at"] < r["at"] <= review_at for r in texts):
                unanswered.add(str(text["id"]))
    with sandbox.lock:
        since = len(google.history)
    customers, in_hubspot = _customers(sandbox, team, employee)
    return Expected(meetings, unanswered, voicemail=bool(person.justcall_number), since=since,
                    customers=customers, in_hubspot=in_hubspot, cc=person.cc if person.role == "csm" else None)


def _customers(sandbox: Sandbox, team: Team, employee: str) -> tuple[set[str], set[str]]:
    """The contacts a CSM's customer notice must reach, read from the sandbox's HubSpot (seed 000: "let
    all your customers know"; the roster's ``team.customer_notice``): at each company the CSM owns at
    one of the rule's lifecycle stages, without its opt-out set, each contact (its primary ones, or
    all) with a plain address, once per address. And every address HubSpot has a contact for."""
    person, rule = team.person(employee), team.customer_notice
    crm = sandbox.api("hubspot").crm
    with sandbox.lock:
        contacts = [(c["props"].get("email") or "", c) for c in crm.contacts.values()]
        in_hubspot = {email.strip().lower() for email, _ in contacts if email}
        if rule is None or person.role != "csm" or not person.hubspot_owner_id:
            return set(), in_hubspot
        customers = {cid for cid, company in crm.companies.items()
                     if company["props"].get("hubspot_owner_id") == person.hubspot_owner_id
                     and (company["props"].get("lifecyclestage") or "").lower() in rule.lifecycle_stages
                     and (not rule.opt_out_property or (company["props"].get(rule.opt_out_property) or "")
                          .strip().lower() in ("", "false", "no", "0", "off"))}
        told = {email.strip().lower() for email, c in contacts
                if re.fullmatch(r"[^@\s,<>]+@[a-z0-9-]+(\.[a-z0-9-]+)*\.[a-z]{2,}", email.strip().lower())
                and (c["primary"] in customers if rule.contacts == "primary" else set(c["companies"]) & customers)}
    return told, in_hubspot


def seed_window(sandbox: Sandbox, team: Team, params: dict[str, Any]) -> None:
    """A client meeting and an internal one on the absence's first day, and two texts from clients that
    nobody answers (when the employee has a JustCall number): what the batches count effects of."""
    person = team.person(params["employee"])
    zone = ZoneInfo(person.timezone)
    day = dt.date.fromisoformat(params["start_date"])
    google, justcall = sandbox.api("google"), sandbox.api("justcall")
    for hour, guest in ((10, f"client.{person.email.split('@')[0]}@example-client.com"), (14, person.buddy)):
        at = dt.datetime.combine(day, dt.time(hour), zone)
        google.add_event(person.email, {
            "summary": "Client check-in" if hour == 10 else "Account review",
            "start": {"dateTime": at.isoformat(), "timeZone": str(zone)},
            "end": {"dateTime": (at + dt.timedelta(minutes=30)).isoformat(), "timeZone": str(zone)},
            "attendees": [{"email": g, "responseStatus": "accepted"} for g in (person.email, guest)],
        })
    for n, minute in enumerate((5, 35) if person.justcall_number else ()):
        justcall.add_text(person.justcall_number, f"+1406555{n:04d}", "Can you call me back about the renewal?",
                          dt.datetime.combine(day, dt.time(11, minute), zone), "Incoming", f"Client {n}")


def _texts(sandbox: Sandbox, number: str) -> list[dict[str, Any]]:
    justcall = sandbox.api("justcall")
    with sandbox.lock:
        return [{**t, "at": dt.datetime.fromisoformat(f"{t['sms_date']}T{t['sms_time']}+00:00")}
                for t in justcall.texts.values() if t["justcall_number"] == number and not t["is_deleted"]]


def _slack_keys(sandbox: Sandbox) -> Counter[tuple[str, str, str, str]]:
    """(channel, event type, run key, text id) of every bot message carrying metadata."""
    slack = sandbox.api("slack")
    seen: Counter[tuple[str, str, str, str]] = Counter()
    with sandbox.lock:
        for channel_id, channel in slack.channels.items():
            for m in channel["messages"]:
                meta = m.get("metadata") or {}
                payload = meta.get("event_payload") or {}
                if m.get("bot_id") and meta.get("event_type"):
                    key = (channel_id, meta["event_type"], str(payload.get("key")), str(payload.get("text_id", "")))
                    seen[key] += 1
    return seen


def _dm_channel(sandbox: Sandbox, email: str) -> str | None:
    slack = sandbox.api("slack")
    user_id = slack.user_id(email)
    with sandbox.lock:
        return next((c_id for c_id, c in slack.channels.items() if c["is_im"] and c["user"] == user_id), None)


def tally(sandbox: Sandbox, team: Team, runs: list[Run]) -> Tally:
    google, slack = sandbox.api("google"), sandbox.api("slack")
    result = Tally()
    slack_seen = _slack_keys(sandbox)
    support = slack.channel_by_name(team.channels["support"].lstrip("#"))["id"]
    notices = slack.channel_by_name(team.channels["team_notice"].lstrip("#"))["id"]
    sent = google.sent()
    mail = Counter(m["message_id"] for m in sent)
    with sandbox.lock:
        history = list(google.history)
    logged = Counter(e["props"].get("hs_email_message_id") for e in sandbox.api("hubspot").crm.emails.values())
    for run in runs:
        k, want = run.key, run.expected
        since = history[want.since:]
        declines = Counter(h["event"] for h in since if h["what"] == "response" and h["status"] == "declined"
                           and h["attendee"] == run.employee)
        switched_off = sum(1 for h in since if h["what"] == "vacation" and h["user"] == run.employee
                           and not h["enabled"])
        ooo = Counter(e["id"] for e in google.list_events(run.employee)
                      if e.get("eventType") == "outOfOffice" and e.get("status") != "cancelled"
                      and ((e.get("extendedProperties") or {}).get("private") or {}).get(MARKER) == k)
        result.add("out-of-office event", run, {"ooo"}, Counter({"ooo": sum(ooo.values())}))
        result.add("declined meeting", run, set(want.meetings), declines)
        # A reschedule email is the employee's mail to a meeting's outside guests that names it: however
        # many Message-IDs, two such mails for one meeting are a double.
        notes: Counter[str] = Counter()
        for m in sent:
            if m["user"] != run.employee:
                continue
            for event_id, meeting in want.meetings.items():
                if meeting["external"] and sorted(m["to"]) == meeting["external"] \
                        and f'"{meeting["summary"]}"' in m["subject"]:
                    notes[event_id] += 1
        result.add("reschedule email", run, {i for i, m in want.meetings.items() if m["external"]}, notes)
        # A customer notice is the one mail to one customer's contact under its Message-ID (one per address).
        told: Counter[str] = Counter()
        for m in sent:
            if m["user"] == run.employee and len(m["to"]) == 1:
                address = m["to"][0].lower()
                if m["message_id"] == customer_notice_message_id(k, address, team.email_domain):
                    told[address] += 1
        result.add("customer notice", run, want.customers, told)
        on_hubspot = {customer_notice_message_id(k, a, team.email_domain) for a in want.customers} | {
            reschedule_message_id(k, i, team.email_domain) for i, m in want.meetings.items()
            if set(m["external"]) & want.in_hubspot}
        result.add("email logged on HubSpot", run, on_hubspot,
                   Counter({m: n for m, n in logged.items() if m and m.startswith(f"<ooo.{k}.")}))
        digest = f"<ooo-digest.{k}@{team.email_domain}>"
        result.add("return digest", run, {digest}, Counter({digest: mail[digest]}))

        def of(event: str, channel: str | None = None, k: str = k) -> Counter[Any]:
            return Counter({(c, t): n for (c, e, key, t), n in slack_seen.items()
                            if e == event and key == k and channel in (None, c)})

        result.add("team notice", run, {(notices, "")}, of(SlackEvent.TEAM_NOTICE, notices))
        if want.cc:  # a CSM's paired Content Creator
            result.add("CC DM", run, {(_dm_channel(sandbox, want.cc), "")}, of(SlackEvent.CC_NOTICE))
        result.add("buddy handover DM", run, {(_dm_channel(sandbox, run.buddy), "")}, of(SlackEvent.BUDDY_HANDOVER))
        if want.voicemail:
            voicemail = of(SlackEvent.VOICEMAIL_REMINDER)
            result.add("voicemail DM", run, {(_dm_channel(sandbox, run.employee), "")}, voicemail)
        result.add("SMS alert", run, {(support, t) for t in want.unanswered}, of(SlackEvent.SMS_ALERT, support))
        off = not google.vacation(run.employee).get("enableAutoReply")
        result.add("auto-reply off", run, {"off"}, Counter({"off": switched_off if off else 0}))
    return result
