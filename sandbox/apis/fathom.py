"""Fathom external API v1, under /fathom/external/v1/...

``GET /external/v1/meetings`` with ``X-Api-Key``: ``created_after``/``created_before`` (ISO 8601),
``include_summary`` (adds ``default_summary``), ``cursor`` paging (``next_cursor``; pages of
:data:`PAGE_SIZE`), newest first; 60 calls a minute (429 with ``RateLimit-*`` headers).
Seeded with a recording of every internal team meeting of :func:`sandbox.scenario.team_meetings`
(plus a few client calls), so a missed meeting can be matched to its recording.
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import time
import uuid
from collections import deque
from typing import Any

from ooo.team import Team
from sandbox.core import Api, ApiError, Request, Response
from sandbox.scenario import team_meetings

API_KEY = "fathom-sandbox-key-ooo"
PAGE_SIZE = 10
PER_MINUTE = 60
QUERY = {"created_after", "created_before", "cursor", "include_action_items", "include_summary",
         "include_transcript", "include_highlights", "include_crm_matches", "calendar_invitees_domains[]",
         "calendar_invitees_domains_type", "recorded_by[]", "teams[]", "meeting_type"}


def _iso(at: dt.datetime) -> str:
    return at.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse(value: str, name: str) -> dt.datetime:
    try:
        at = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise ApiError(400, f"{name} must be an ISO 8601 timestamp, got {value!r}") from exc
    return at if at.tzinfo else at.replace(tzinfo=dt.timezone.utc)


class FathomApi(Api):
    name = "fathom"
    title = "Fathom"

    def __init__(self, sandbox: Any):
        super().__init__(sandbox)
        self.meetings: list[dict[str, Any]] = []
        self._next_id = 118_000_000
        self._calls: deque[float] = deque()

    # -- helpers for tests and the seed ---------------------------------------------------------
    def add_meeting(self, title: str, start: dt.datetime, end: dt.datetime, summary: str = "",
                    invitees: list[str] | None = None, recorded_by: str | None = None,
                    created_at: dt.datetime | None = None) -> dict[str, Any]:
        """A recorded meeting (recording created a few minutes after ``end``); the stored meeting."""
        with self.sandbox.lock:
            self._next_id += 1
            rid = self._next_id
            team = self.sandbox.team
            invitees = invitees if invitees is not None else [p.email for p in team.people]
            recorder = recorded_by or next((p.email for p in team.people if p.role == "manager"), invitees[0])
            token = uuid.uuid5(uuid.NAMESPACE_URL, f"fathom/{rid}").hex[:24]
            meeting = {"recording_id": rid, "title": title, "start": start, "end": end, "summary": summary,
                       "invitees": invitees, "recorded_by": recorder,
                       "created_at": created_at or end + dt.timedelta(minutes=4),
                       "url": f"https://fathom.video/calls/{rid}", "share_url": f"https://fathom.video/share/{token}"}
            self.meetings.append(meeting)
            return meeting

    # -- the frame's interface ------------------------------------------------------------------
    def connection(self, base_url: str) -> dict[str, Any]:
        return {"ooo_fathom": {"conn_type": "http", "host": base_url + "/fathom", "password": API_KEY}}

    def error(self, status: int, message: str, retry_after: int | None = None, **details: Any) -> Response:
        headers: dict[str, str] = {}
        if status == 429:
            reset = retry_after if retry_after is not None else 60
            headers = {"RateLimit-Limit": str(PER_MINUTE), "RateLimit-Remaining": "0", "RateLimit-Reset": str(reset),
                       "Retry-After": str(reset)}
            message = "Rate limit exceeded" if message == "rate limited" else message
        return Response(status, {"error": message, **details}, headers)

    def handle(self, req: Request) -> Response:
        if req.headers.get("x-api-key") != API_KEY:
            raise ApiError(401, "Unauthorized: invalid or missing API key")
        now = time.monotonic()
        while self._calls and now - self._calls[0] >= 60:
            self._calls.popleft()
        if len(self._calls) >= PER_MINUTE:
            raise ApiError(429, "Rate limit exceeded")
        self._calls.append(now)
        if req.path.rstrip("/") != "/external/v1/meetings":
            raise ApiError(404, f"Not found: {req.path}")
        if req.method != "GET":
            raise ApiError(405, f"Method {req.method} not allowed")
        return Response(200, self._list(req), {"RateLimit-Limit": str(PER_MINUTE),
                                               "RateLimit-Remaining": str(PER_MINUTE - len(self._calls)),
                                               "RateLimit-Reset": "60"})

    def _list(self, req: Request) -> dict[str, Any]:
        unknown = set(req.query) - QUERY
        if unknown:
            raise ApiError(400, f"Unknown query parameters: {', '.join(sorted(unknown))}")
        rows = sorted(self.meetings, key=lambda m: (m["created_at"], m["recording_id"]), reverse=True)
        if after := req.arg("created_after"):
            since = _parse(after, "created_after")
            rows = [m for m in rows if m["created_at"] > since]
        if before := req.arg("created_before"):
            until = _parse(before, "created_before")
            rows = [m for m in rows if m["created_at"] < until]
        kind = req.arg("calendar_invitees_domains_type", "all")
        if kind not in ("all", "only_internal", "one_or_more_external"):
            raise ApiError(400, "calendar_invitees_domains_type must be all, only_internal or one_or_more_external")
        if kind != "all":
            rows = [m for m in rows if self._domains_type(m) == kind]
        flags = {}
        for flag in ("include_summary", "include_action_items", "include_transcript", "include_highlights",
                     "include_crm_matches"):
            value = req.arg(flag, "false")
            if value not in ("true", "false"):
                raise ApiError(400, f"{flag} must be true or false")
            flags[flag] = value == "true"
        start = 0
        if cursor := req.arg("cursor"):
            try:
                start = int(base64.urlsafe_b64decode(cursor.encode()).decode().removeprefix("offset:"))
            except ValueError as exc:
                raise ApiError(400, "invalid cursor") from exc
        page = rows[start:start + PAGE_SIZE]
        more = start + PAGE_SIZE < len(rows)
        cursor = base64.urlsafe_b64encode(f"offset:{start + PAGE_SIZE}".encode()).decode() if more else None
        return {"items": [self._meeting(m, flags) for m in page], "limit": PAGE_SIZE, "next_cursor": cursor}

    def _domains_type(self, m: dict[str, Any]) -> str:
        internal = all(self.sandbox.team.is_internal(e) for e in m["invitees"])
        return "only_internal" if internal else "one_or_more_external"

    def _meeting(self, m: dict[str, Any], flags: dict[str, bool]) -> dict[str, Any]:
        team = self.sandbox.team

        def who(email: str) -> dict[str, Any]:
            person = team.person(email)
            name = person.name if person else email.split("@")[0].replace(".", " ").title()
            return {"name": name, "email": email, "email_domain": email.rsplit("@", 1)[-1],
                    "is_external": not team.is_internal(email), "matched_speaker_display_name": name}

        recorder = who(m["recorded_by"])
        body: dict[str, Any] = {
            "title": m["title"], "meeting_title": m["title"], "meeting_type": None, "recording_id": m["recording_id"],
            "url": m["url"], "share_url": m["share_url"], "created_at": _iso(m["created_at"]),
            "scheduled_start_time": _iso(m["start"]), "scheduled_end_time": _iso(m["end"]),
            "recording_start_time": _iso(m["start"] + dt.timedelta(minutes=1)),
            "recording_end_time": _iso(m["end"] - dt.timedelta(minutes=2)),
            "calendar_invitees_domains_type": self._domains_type(m), "shared_with": [],
            "transcript_language": "en", "calendar_invitees": [who(e) for e in m["invitees"]],
            "recorded_by": {"name": recorder["name"], "email": recorder["email"],
                            "email_domain": recorder["email_domain"], "team": team.name},
        }
        if flags.get("include_summary"):
            body["default_summary"] = (
                {"template_name": "General", "markdown_formatted": m["summary"]} if m["summary"] else None
            )
        if flags.get("include_action_items"):
            body["action_items"] = []
        return body

    # -- seed, state, page ----------------------------------------------------------------------
    def seed(self, team: Team, anchor: dt.date) -> None:
        for meeting in team_meetings(anchor, team):
            day = meeting["start"]
            if meeting["kind"] == "weekly":
                summary = (f"## Client Services Weekly, {day:%b} {day.day}\n"
                           "- **Renewals at risk:** two accounts flagged; owners to call this week.\n"
                           "- **Support queue:** SMS coverage rota confirmed for next week.\n"
                           "- **Wins:** Big Sky Outfitters renewed for 12 months.\n"
                           "### Action items\n- Update the renewal tracker by Friday")
            else:
                topic = meeting["title"].split(": ", 1)[-1]
                summary = (f"## {meeting['title']}\n- Walkthrough of **{topic}** with examples from live accounts.\n"
                           "- Slides and the recording are in the team drive.\n"
                           "### Takeaways\n- Try it with one client this week and share results in Slack")
            self.add_meeting(meeting["title"], meeting["start"], meeting["end"], summary,
                             invitees=list(meeting["attendees"]), recorded_by=meeting["organizer"])
        # client calls (external): recorded too, never a missed internal meeting
        csm = next((p for p in team.people if p.role == "csm"), team.people[0])
        for days in (-12, -5, 3, 9):
            start = dt.datetime.combine(anchor + dt.timedelta(days=days), dt.time(15, 0), csm.tz)
            self.add_meeting("Quarterly review: Big Sky Outfitters", start, start + dt.timedelta(minutes=45),
                             "## Quarterly review\n- Traffic up 18%.\n- Wants a spring campaign.",
                             invitees=[csm.email, "owner@bigskyoutfitters.com"], recorded_by=csm.email)

    def state(self) -> dict[str, Any]:
        return {"meetings": [self._meeting(m, {"include_summary": True}) for m in self.meetings]}

    def render(self) -> str:
        rows = "".join(
            f"<tr><td>{_iso(m['start'])[:16]}</td><td>{html.escape(m['title'])}</td>"
            f"<td>{self._domains_type(m)}</td><td><a href='{html.escape(m['share_url'])}'>{m['recording_id']}</a></td>"
            f"<td>{html.escape(m['summary'][:120])}</td></tr>"
            for m in sorted(self.meetings, key=lambda m: m["start"], reverse=True))
        return (f"<table><tr><th>start (UTC)</th><th>title</th><th>invitees</th><th>recording</th>"
                f"<th>summary</th></tr>{rows}</table>")
