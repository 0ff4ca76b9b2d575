"""Fathom (external API v1) on the optional ``ooo_fathom`` HTTP connection.

Connection: ``host`` = ``https://api.fathom.ai`` (or the sandbox), ``password`` = the API key
(sent as ``X-Api-Key``). When the connection does not exist, :meth:`FathomClient.if_configured`
answers None and the digest says recordings are not linked. 429s are retried, honouring
``Retry-After`` / ``RateLimit-Reset``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from ooo.services._http import JsonHttp
from ooo.times import utc

__all__ = ["FathomClient", "FathomMeeting"]


@dataclass(frozen=True)
class FathomMeeting:
    recording_id: int
    title: str
    start: dt.datetime | None  # scheduled (aware, UTC)
    end: dt.datetime | None
    created_at: dt.datetime
    url: str  # the share link when there is one, else the call's page
    summary: str  # markdown; "" when Fathom has none
    invitees: tuple[str, ...] = field(default=())

    @staticmethod
    def from_api(raw: dict[str, Any]) -> FathomMeeting:
        summary = raw.get("default_summary") or {}
        return FathomMeeting(
            recording_id=int(raw["recording_id"]),
            title=raw.get("meeting_title") or raw.get("title") or "",
            start=_time(raw.get("scheduled_start_time") or raw.get("recording_start_time")),
            end=_time(raw.get("scheduled_end_time") or raw.get("recording_end_time")),
            created_at=_time(raw["created_at"]) or dt.datetime.now(dt.timezone.utc),
            url=raw.get("share_url") or raw.get("url") or "",
            summary=(summary.get("markdown_formatted") or "").strip(),
            invitees=tuple(i.get("email", "") for i in raw.get("calendar_invitees") or []),
        )


def _time(value: str | None) -> dt.datetime | None:
    if not value:
        return None
    return utc(value)


def _iso(at: dt.datetime) -> str:
    return at.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class FathomClient:
    def __init__(self, conn_id: str = "ooo_fathom", **http_options: Any):
        self.http = JsonHttp(conn_id, "Fathom", lambda conn: {"X-Api-Key": conn.password or ""}, reads_only=True,
                             **http_options)

    @classmethod
    def if_configured(cls, conn_id: str = "ooo_fathom", **http_options: Any) -> FathomClient | None:
        """The client, or None when the (optional) connection does not exist."""
        from ooo.services import is_configured

        return cls(conn_id, **http_options) if is_configured(conn_id) else None

    def raw_meetings(self, created_after: dt.datetime, created_before: dt.datetime,
                     include_summary: bool = True) -> Iterator[dict[str, Any]]:
        """``GET /external/v1/meetings`` in the window, every page (``next_cursor``)."""
        params: dict[str, Any] = {"created_after": _iso(created_after), "created_before": _iso(created_before),
                                  "include_summary": "true" if include_summary else "false"}
        while True:
            page = self.http.request("GET", "external/v1/meetings", params=params)
            yield from page.get("items") or []
            cursor = page.get("next_cursor")
            if not cursor:
                return
            params = {**params, "cursor": cursor}

    def meetings(self, created_after: dt.datetime, created_before: dt.datetime,
                 include_summary: bool = True) -> list[FathomMeeting]:
        """Recorded meetings created in the window, with their summaries and links."""
        return [FathomMeeting.from_api(m) for m in self.raw_meetings(created_after, created_before, include_summary)]
