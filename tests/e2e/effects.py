"""What an absence did, read the way a person would see it: in the sandbox's calendars, mailboxes
and channels (never from our own code's records)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ooo.steps.calendar import MARKER
from ooo.team import Team
from sandbox import Sandbox


@dataclass
class Effects:
    ooo_events: list[dict[str, Any]]
    sent: list[dict[str, Any]]
    digests: list[dict[str, Any]]
    auto_reply_on: bool
    team_notices: list[dict[str, Any]]
    buddy_dms: list[dict[str, Any]]
    employee_dms: list[dict[str, Any]]
    support_alerts: list[dict[str, Any]]


def effects_of(sandbox: Sandbox, team: Team, employee: str, buddy: str) -> Effects:
    google, slack = sandbox.api("google"), sandbox.api("slack")
    events = google.list_events(employee)
    sent = google.sent(sender=employee)
    name = team.person(employee).name

    def bot(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [m for m in messages if m.get("bot_id")]

    def dms(email: str) -> list[dict[str, Any]]:
        user_id = slack.user_id(email)
        return bot(slack.dm_messages(user_id)) if user_id else []

    def kind(m: dict[str, Any]) -> str:
        return str((m.get("metadata") or {}).get("event_type") or "")

    employee_id = slack.user_id(employee)

    def about_them(m: dict[str, Any]) -> bool:
        """A notice whose heading names them as the one out (other absences' notices name them as a buddy)."""
        heading = (m.get("text") or "").splitlines()[0] if m.get("text") else ""
        return f"<@{employee_id}>" in heading or name in heading

    return Effects(
        # The absence's own blocks: the sandbox seeds one a person made herself (Lena Fischer's).
        ooo_events=[e for e in events if e.get("eventType") == "outOfOffice"
                    and MARKER in (e.get("extendedProperties") or {}).get("private", {})],
        sent=sent,
        digests=[m for m in sent if m["subject"].startswith("Welcome back") and m["to"] == [employee]],
        auto_reply_on=bool(google.vacation(employee).get("enableAutoReply")),
        # Their own notice (not a reply in its thread, such as a cancellation's).
        team_notices=[m for m in bot(slack.messages(team.channels["team_notice"]))
                      if kind(m) == "ooo_team_notice" and not m.get("thread_ts") and about_them(m)],
        # The buddy's handover (a CC is DMed about their CSM's absences too: not a handover).
        buddy_dms=[m for m in dms(buddy) if kind(m) == "ooo_buddy_handover"],
        employee_dms=dms(employee),
        support_alerts=[m for m in bot(slack.messages(team.channels["support"]))
                        if f"<@{employee_id}>" in m["text"] or name in m["text"]],
    )
