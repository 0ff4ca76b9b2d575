"""HubSpot (CRM v3 notes, v4 associations, Conversations v3) on the ``ooo_hubspot`` HTTP connection.

Connection: ``host`` = ``https://api.hubapi.com`` (or the sandbox), ``password`` = the private
app's token (sent as ``Authorization: Bearer``). Optional extra: ``portal_id`` (for record links)
and ``app_url`` (default ``https://app.hubspot.com``); they are settings, not headers.
Scopes: ``crm.objects.contacts.read`` (notes), ``crm.objects.companies.read``,
``conversations.read``.

Limits: every call retries 429 with backoff (``Retry-After`` honoured when sent); searches are
spaced to at most 4 a second per client (HubSpot's search limit).

Mentions: HubSpot does not document how an @mention is stored. A note body or a comment's
``richText`` mentions a person when it carries ``data-mention-id="<owner id>"`` (the sandbox
writes ``<span data-mention-id="41000101" data-mention-type="OWNER">@Maya Patel</span>``), or
when its text says ``@First Last``.
"""

from __future__ import annotations

import datetime as dt
import html
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from ooo.services._http import HttpApiError, JsonHttp
from ooo.templates import html_to_text
from ooo.times import utc

__all__ = ["HubSpotClient", "Mention", "HttpApiError", "html_to_text", "mentions"]

SEARCH_INTERVAL = 0.26  # seconds between searches: under 4 per second
NOTE_PROPERTIES = ["hs_note_body", "hs_timestamp", "hubspot_owner_id"]


@dataclass(frozen=True)
class Mention:
    """A note or an inbox comment that tags someone."""

    kind: str  # "note" | "comment"
    id: str
    at: dt.datetime  # aware, UTC
    text: str  # the body as plain text (markup and scripts removed)
    author: str  # owner id (notes) or the sender's name (comments)
    company_id: str | None
    company: str | None
    url: str | None
    thread_id: str | None = None


def mentions(body: str, owner_id: str | None, name: str) -> bool:
    """Whether ``body`` (HTML or text) tags the owner ``owner_id`` / ``@name``."""
    if owner_id and re.search(r'data-mention-id\s*=\s*["\']?' + re.escape(owner_id) + r"\b", body or ""):
        return True
    text = html.unescape(re.sub(r"<[^>]+>", " ", body or ""))
    return bool(re.search(r"(?<![\w@])@" + r"\s+".join(map(re.escape, name.split())) + r"(?!\w)", text, re.I))


def _ms(at: dt.datetime) -> str:
    return str(int(at.timestamp() * 1000))


def _utc(value: str) -> dt.datetime:
    text = value.strip()
    if text.isdigit():
        return dt.datetime.fromtimestamp(int(text) / 1000, dt.timezone.utc)
    return utc(text)


def _iso(at: dt.datetime) -> str:
    return at.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


class HubSpotClient:
    """HubSpot as the digest reads it: notes, their companies, inbox threads and comments."""

    def __init__(self, conn_id: str = "ooo_hubspot", **http_options: Any):
        self.http = JsonHttp(
            conn_id, "HubSpot", lambda conn: {"Authorization": f"Bearer {conn.password}"},
            not_headers=("portal_id", "app_url"), reads_only=True, **http_options,  # searches are POSTs that read
        )
        self.portal_id = str(self.http.extra.get("portal_id") or "") or None
        self.app_url = str(self.http.extra.get("app_url") or "https://app.hubspot.com").rstrip("/")
        self._last_search = 0.0
        self._companies: dict[str, str] = {}
        self._contact_companies: dict[str, list[str]] = {}

    # -- CRM ------------------------------------------------------------------------------------
    def search_notes(self, since: dt.datetime, until: dt.datetime, page_size: int = 100,
                     properties: list[str] | None = None) -> Iterator[dict[str, Any]]:
        """Notes with ``hs_timestamp`` in ``since``..``until``, newest first (every page)."""
        body: dict[str, Any] = {
            "filterGroups": [{"filters": [{"propertyName": "hs_timestamp", "operator": "BETWEEN",
                                           "value": _ms(since), "highValue": _ms(until)}]}],
            "sorts": [{"propertyName": "hs_timestamp", "direction": "DESCENDING"}],
            "properties": properties or NOTE_PROPERTIES,
            "limit": page_size,
        }
        while True:
            page = self._search("crm/v3/objects/notes/search", body)
            yield from page.get("results", [])
            after = ((page.get("paging") or {}).get("next") or {}).get("after")
            if not after:
                return
            body = {**body, "after": after}

    def _search(self, endpoint: str, body: dict[str, Any]) -> dict[str, Any]:
        wait = self._last_search + SEARCH_INTERVAL - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        try:
            return self.http.request("POST", endpoint, json=body)
        finally:
            self._last_search = time.monotonic()

    def associated_company_ids(self, object_type: str, object_id: str) -> list[str]:
        """Companies associated with a note or contact (v4 associations, every page)."""
        ids: list[str] = []
        params: dict[str, Any] = {"limit": 500}
        while True:
            page = self.http.request("GET", f"crm/v4/objects/{object_type}/{object_id}/associations/companies",
                                     params=params)
            ids += [str(r["toObjectId"]) for r in page.get("results", [])]
            after = ((page.get("paging") or {}).get("next") or {}).get("after")
            if not after:
                return ids
            params = {**params, "after": after}

    def company_names(self, company_ids: list[str]) -> dict[str, str]:
        """Company id -> name (batch read, cached)."""
        missing = sorted({c for c in company_ids if c not in self._companies})
        for i in range(0, len(missing), 100):
            page = self.http.request("POST", "crm/v3/objects/companies/batch/read",
                                     json={"inputs": [{"id": c} for c in missing[i:i + 100]], "properties": ["name"]})
            for row in page.get("results", []):
                self._companies[str(row["id"])] = (row.get("properties") or {}).get("name") or f"Company {row['id']}"
        return {c: self._companies.get(c, f"Company {c}") for c in company_ids}

    def company(self, company_id: str) -> dict[str, Any]:
        """One company record (``name``, ``domain``)."""
        return self.http.request("GET", f"crm/v3/objects/companies/{company_id}", params={"properties": "name,domain"})

    def company_url(self, company_id: str | None) -> str | None:
        if not (self.portal_id and company_id):
            return None
        return f"{self.app_url}/contacts/{self.portal_id}/record/0-2/{company_id}"

    def thread_url(self, thread_id: str) -> str | None:
        return f"{self.app_url}/live-messages/{self.portal_id}/inbox/{thread_id}" if self.portal_id else None

    # -- Conversations --------------------------------------------------------------------------
    def threads(self, active_after: dt.datetime, page_size: int = 100) -> Iterator[dict[str, Any]]:
        """Inbox threads with a message after ``active_after`` (every page)."""
        params: dict[str, Any] = {"latestMessageTimestampAfter": _iso(active_after), "sort": "latestMessageTimestamp",
                                  "limit": page_size}
        while True:
            page = self.http.request("GET", "conversations/v3/conversations/threads", params=params)
            yield from page.get("results", [])
            after = ((page.get("paging") or {}).get("next") or {}).get("after")
            if not after:
                return
            params = {**params, "after": after}

    def messages(self, thread_id: str, page_size: int = 100) -> Iterator[dict[str, Any]]:
        """A thread's messages and comments, oldest first (every page)."""
        params: dict[str, Any] = {"limit": page_size}
        while True:
            page = self.http.request("GET", f"conversations/v3/conversations/threads/{thread_id}/messages",
                                     params=params)
            yield from page.get("results", [])
            after = ((page.get("paging") or {}).get("next") or {}).get("after")
            if not after:
                return
            params = {**params, "after": after}

    # -- what the digest asks -------------------------------------------------------------------
    def tagged_notes(self, owner_id: str | None, name: str, since: dt.datetime, until: dt.datetime) -> list[Mention]:
        """Notes timestamped in ``since``..``until`` that mention the person, newest first."""
        found: list[tuple[dict[str, Any], str | None]] = []
        for note in self.search_notes(since, until):
            props = note.get("properties") or {}
            if mentions(props.get("hs_note_body") or "", owner_id, name):
                companies = self.associated_company_ids("notes", str(note["id"]))
                found.append((note, companies[0] if companies else None))
        names = self.company_names([c for _, c in found if c])
        result = []
        for note, company_id in found:
            props = note["properties"]
            result.append(Mention(
                kind="note", id=str(note["id"]), at=_utc(props.get("hs_timestamp") or note["createdAt"]),
                text=html_to_text(props.get("hs_note_body") or ""), author=props.get("hubspot_owner_id") or "",
                company_id=company_id, company=names.get(company_id) if company_id else None,
                url=self.company_url(company_id),
            ))
        return sorted(result, key=lambda m: m.at, reverse=True)

    def tagged_comments(self, owner_id: str | None, name: str, since: dt.datetime, until: dt.datetime) -> list[Mention]:
        """Inbox COMMENTs made in ``since``..``until`` that mention the person, newest first."""
        found: list[tuple[dict[str, Any], str | None]] = []
        for thread in self.threads(since):
            comments = [m for m in self.messages(str(thread["id"])) if m.get("type") == "COMMENT"
                        and since <= _utc(m["createdAt"]) <= until
                        and mentions(m.get("richText") or m.get("text") or "", owner_id, name)]
            if not comments:
                continue
            company_id = None
            contact = thread.get("associatedContactId")
            if contact:
                key = str(contact)
                if key not in self._contact_companies:
                    self._contact_companies[key] = self.associated_company_ids("contacts", key)
                company_id = next(iter(self._contact_companies[key]), None)
            found += [(c, company_id) for c in comments]
        names = self.company_names([c for _, c in found if c])
        result = []
        for msg, company_id in found:
            sender: dict[str, Any] = next(iter(msg.get("senders") or []), {}) or {}
            result.append(Mention(
                kind="comment", id=str(msg["id"]), at=_utc(msg["createdAt"]),
                text=html_to_text(msg["richText"]) if msg.get("richText") else (msg.get("text") or "").strip(),
                author=sender.get("name") or str(msg.get("createdBy") or ""),
                company_id=company_id, company=names.get(company_id) if company_id else None,
                url=self.thread_url(str(msg["conversationsThreadId"])), thread_id=str(msg["conversationsThreadId"]),
            ))
        return sorted(result, key=lambda m: m.at, reverse=True)
