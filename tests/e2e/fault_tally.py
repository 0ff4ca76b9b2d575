"""Nothing doubled, nothing lost: each absence's effects counted in the sandbox's state, by their keys.

What each absence should have left is taken from its run's records (which meetings the cleanup
declined and mailed, which texts went unanswered) plus the fixed ones every absence makes; what
it did leave is counted in the sandbox, as people see it: calendars, sent mail, channels, DMs.
A key found twice is doubled; a key expected and not found is missing.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from ooo.keys import SlackEvent
from ooo.steps.calendar import MARKER
from ooo.team import Team
from sandbox import Sandbox

KINDS = ("out-of-office event", "declined meeting", "reschedule email", "team notice", "customer notice",
         "email logged on HubSpot", "CC DM", "buddy handover DM", "voicemail DM", "SMS alert", "return digest",
         "auto-reply off")


@dataclass
class Run:
    """One absence's run: its id and key, the people, and its steps' records (``task_id`` -> XCom)."""

    run_id: str
    key: str
    employee: str
    buddy: str
    records: dict[str, Any]
    reviews: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Tally:
    expected: Counter[str] = field(default_factory=Counter)
    found: Counter[str] = field(default_factory=Counter)
    doubled: Counter[str] = field(default_factory=Counter)
    missing: Counter[str] = field(default_factory=Counter)
    where: list[str] = field(default_factory=list)  # what was doubled or missing, for a failing assert

    def add(self, kind: str, run: Run, expected: set[Any], seen: Counter[Any]) -> None:
        self.expected[kind] += len(expected)
        self.found[kind] += sum(1 for k in expected if seen[k])
        for k, n in seen.items():
            if n > 1:
                self.doubled[kind] += n - 1
                self.where.append(f"{kind} {k!r} x{n} ({run.run_id})")
        for k in expected:
            if not seen[k]:
                self.missing[kind] += 1
                self.where.append(f"{kind} {k!r} missing ({run.run_id})")

    def rows(self) -> list[tuple[str, int, int, int, int]]:
        return [(k, self.expected[k], self.found[k], self.doubled[k], self.missing[k]) for k in KINDS]


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
                    seen[(channel_id, meta["event_type"], str(payload.get("key")),
                          str(payload.get("text_id", "")))] += 1
    return seen


def tally(sandbox: Sandbox, team: Team, runs: list[Run]) -> Tally:
    google, slack = sandbox.api("google"), sandbox.api("slack")
    result = Tally()
    slack_seen = _slack_keys(sandbox)
    support = slack.channel_by_name(team.channels["support"].lstrip("#"))["id"]
    notices = slack.channel_by_name(team.channels["team_notice"].lstrip("#"))["id"]
    mail = Counter(m["message_id"] for m in google.sent())
    logged = Counter(e["props"].get("hs_email_message_id") for e in sandbox.api("hubspot").crm.emails.values())
    for run in runs:
        k = run.key
        cleanup = run.records.get("calendar_cleanup") or {}
        ooo = Counter(e["id"] for e in google.list_events(run.employee)
                      if e.get("eventType") == "outOfOffice" and e.get("status") != "cancelled"
                      and ((e.get("extendedProperties") or {}).get("private") or {}).get(MARKER) == k)
        result.add("out-of-office event", run, {"ooo"}, Counter({"ooo": sum(ooo.values())}))
        declines = {d["id"] for d in cleanup.get("declined") or []
                    if google.response_of(run.employee, d["id"], run.employee) is not None}
        result.add("declined meeting", run, declines, Counter(
            {i: 1 for i in declines if google.response_of(run.employee, i, run.employee) == "declined"}))
        notes = {n["message_id"] for n in cleanup.get("reschedule_emails") or []}
        told = {t["message_id"] for t in (run.records.get("customer_notice") or {}).get("told") or []}
        result.add("reschedule email", run, notes,
                   Counter({m: n for m, n in mail.items() if m.startswith(f"<ooo.{k}.") and m not in told}))
        result.add("customer notice", run, told, Counter({m: mail[m] for m in told}))
        on_hubspot = told | {n["message_id"] for n in cleanup.get("reschedule_emails") or [] if n.get("logged")}
        result.add("email logged on HubSpot", run, on_hubspot,
                   Counter({m: n for m, n in logged.items() if m and m.startswith(f"<ooo.{k}.")}))
        digest = f"<ooo-digest.{k}@{team.email_domain}>"
        result.add("return digest", run, {digest}, Counter({digest: mail[digest]}))

        def of(event: str, channel: str | None = None, k: str = k) -> Counter[Any]:
            return Counter({(c, t): n for (c, e, key, t), n in slack_seen.items()
                            if e == event and key == k and channel in (None, c)})

        result.add("team notice", run, {(notices, "")}, of(SlackEvent.TEAM_NOTICE, notices))
        if team.person(run.employee).cc:  # a CSM's paired CC
            cc_dm = of(SlackEvent.CC_NOTICE)
            result.add("CC DM", run, set(cc_dm) or {("dm", "")}, cc_dm)
        buddy_dm = of(SlackEvent.BUDDY_HANDOVER)
        result.add("buddy handover DM", run, set(buddy_dm) or {("dm", "")}, buddy_dm)
        if team.person(run.employee).justcall_number:
            voicemail = of(SlackEvent.VOICEMAIL_REMINDER)
            result.add("voicemail DM", run, set(voicemail) or {("dm", "")}, voicemail)
        unanswered = {str(t["id"]) for r in run.reviews for t in r.get("unanswered") or []}
        result.add("SMS alert", run, {(support, t) for t in unanswered}, of(SlackEvent.SMS_ALERT, support))
        off = not google.vacation(run.employee).get("enableAutoReply")
        result.add("auto-reply off", run, {"off"}, Counter({"off": int(off)}))
    return result
