"""HubSpot (CRM v3 objects, v4 associations, Conversations v3) on the ``ooo_hubspot`` HTTP connection.

Connection: ``host`` = ``https://api.hubapi.com`` (or the sandbox), ``password`` = the private
app's token (sent as ``Authorization: Bearer``). Optional extra: ``portal_id`` (for record links)
and ``app_url`` (default ``https://app.hubspot.com``); they are settings, not headers.
Private-app scopes (HubSpot's specs): ``crm.objects.companies.read`` (companies: search, read,
batch read), ``crm.objects.contacts.read`` (contacts, notes, and searching emails),
``crm.objects.contacts.write`` (logging an email), ``sales-email-read`` (reading email bodies
back), ``conversations.read`` (inbox threads); associations need the read scope of both ends.

Limits: every call retries 429 with backoff (``Retry-After`` honoured when sent); searches are
spaced to at most 4 a second per client (HubSpot's search limit). Logging an email is a write:
never retried blindly, it is looked up by its Message-ID before every try (:meth:`log_email`).

Logged emails are found again by the RFC 822 Message-ID of the email they record, kept in the
email engagement's ``hs_email_message_id`` property (a real HubSpot property, which HubSpot fills
for emails it logs from a connected inbox and which can be searched with EQ). That an API create
may set it is UNCONFIRMED; so is how soon a new email shows in search: HubSpot's search index
lags writes by a few seconds, so a retry made at once after a lost answer may not see it yet.

Mentions: HubSpot does not document how an @mention is stored. A note body or a comment's
``richText`` mentions a person when it carries ``data-mention-id="<owner id>"`` (the sandbox
writes ``<span data-mention-id="41000101" data-mention-type="OWNER">@Maya Patel</span>``), or
when its text says ``@First Last``.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import re
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from ooo.domains import web_domain
from ooo.services._http import HttpApiError, JsonHttp
from ooo.services.errors import ServiceError
from ooo.services.once import write_once
from ooo.templates import html_to_text
from ooo.times import utc

__all__ = ["Company", "Contact", "HttpApiError", "HubSpotClient", "HubSpotNoAnswer", "Mention", "html_to_text",
           "mentions"]

SEARCH_INTERVAL = 0.26  # seconds between searches: under 4 per second
PAGE = 100  # search page size (HubSpot allows 200) and batch read size (HubSpot's limit)
NOTE_PROPERTIES = ["hs_note_body", "hs_timestamp", "hubspot_owner_id"]
COMPANY_PROPERTIES = ["name", "domain", "lifecyclestage", "hubspot_owner_id"]
CONTACT_PROPERTIES = ["email", "firstname", "lastname", "associatedcompanyid"]
#: HUBSPOT_DEFINED association type ids (HubSpot's association-type table).
COMPANY_TO_PRIMARY_CONTACT = 2  # the company is the contact's primary company
EMAIL_TO_CONTACT, EMAIL_TO_COMPANY = 198, 186


@dataclass(frozen=True)
class Company:
    """A HubSpot company: its id, name, domain, ``lifecyclestage`` and the properties asked for."""

    id: str
    name: str
    domain: str | None
    lifecycle_stage: str | None
    properties: dict[str, str | None] = field(default_factory=dict, hash=False)

    @classmethod
    def parse(cls, raw: dict[str, Any]) -> Company:
        props = dict(raw.get("properties") or {})
        return cls(id=str(raw["id"]), name=props.get("name") or f"Company {raw['id']}",
                   domain=props.get("domain") or None, lifecycle_stage=props.get("lifecyclestage") or None,
                   properties=props)


@dataclass(frozen=True)
class Contact:
    """A HubSpot contact. ``email`` is None when HubSpot has none (it is not checked here)."""

    id: str
    email: str | None
    first_name: str
    last_name: str
    primary_company_id: str | None

    @classmethod
    def parse(cls, raw: dict[str, Any]) -> Contact:
        props = raw.get("properties") or {}
        return cls(id=str(raw["id"]), email=(props.get("email") or "").strip() or None,
                   first_name=props.get("firstname") or "", last_name=props.get("lastname") or "",
                   primary_company_id=str(props["associatedcompanyid"]) if props.get("associatedcompanyid") else None)


class HubSpotNoAnswer(ServiceError):
    """A write got no answer (timeout, dropped connection): it may have been applied."""

    @property
    def transient(self) -> bool:
        return True


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


def _message_id(value: str) -> str:
    mid = (value or "").strip()
    if not mid or any(c.isspace() for c in mid):
        raise ValueError(f"{value!r} is not an RFC 822 Message-ID (e.g. <absence.123@yellowstonelocal.com>)")
    return mid


def _person(pair: tuple[str, str]) -> dict[str, str]:
    """``hs_email_headers``' form of a (name, address) pair."""
    name, address = pair
    first, _, last = (name or "").strip().partition(" ")
    return {"email": address.strip(), "firstName": first, "lastName": last.strip()}


def _iso(at: dt.datetime) -> str:
    return at.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


class HubSpotClient:
    """HubSpot as the procedure uses it: notes, inbox threads and comments (the digest); a CSM's
    companies and their contacts, a contact by email, a company by id or domain, and emails logged
    on their timelines."""

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
        return self._search_all("notes", {
            "filterGroups": [{"filters": [{"propertyName": "hs_timestamp", "operator": "BETWEEN",
                                           "value": _ms(since), "highValue": _ms(until)}]}],
            "sorts": [{"propertyName": "hs_timestamp", "direction": "DESCENDING"}],
            "properties": properties or NOTE_PROPERTIES,
            "limit": page_size,
        })

    def _search_all(self, object_type: str, body: dict[str, Any]) -> Iterator[dict[str, Any]]:
        """Every result of one CRM search, page after page."""
        while True:
            page = self._search(f"crm/v3/objects/{object_type}/search", body)
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

    def _associations(self, object_type: str, object_id: str, to_type: str) -> list[dict[str, Any]]:
        """The v4 association rows (``toObjectId``, ``associationTypes``) of one record, every page."""
        rows: list[dict[str, Any]] = []
        params: dict[str, Any] = {"limit": 500}
        while True:
            page = self.http.request("GET", f"crm/v4/objects/{object_type}/{object_id}/associations/{to_type}",
                                     params=params)
            rows += page.get("results", [])
            after = ((page.get("paging") or {}).get("next") or {}).get("after")
            if not after:
                return rows
            params = {**params, "after": after}

    def associated_company_ids(self, object_type: str, object_id: str) -> list[str]:
        """Companies associated with a note or contact (v4 associations, every page)."""
        return [str(r["toObjectId"]) for r in self._associations(object_type, object_id, "companies")]

    def _batch_read(self, object_type: str, ids: Sequence[str], properties: Sequence[str]) -> dict[str, dict[str, Any]]:
        """Records by id (batches of 100; ids HubSpot does not know are left out)."""
        found: dict[str, dict[str, Any]] = {}
        unique = list(dict.fromkeys(ids))
        for i in range(0, len(unique), PAGE):
            page = self.http.request("POST", f"crm/v3/objects/{object_type}/batch/read", json={
                "inputs": [{"id": c} for c in unique[i:i + PAGE]], "properties": list(properties),
                "propertiesWithHistory": []})  # required by HubSpot's BatchReadInput, even empty
            found.update({str(row["id"]): row for row in page.get("results", [])})
        return found

    def company_names(self, company_ids: list[str]) -> dict[str, str]:
        """Company id -> name (batch read, cached)."""
        missing = sorted({c for c in company_ids if c not in self._companies})
        for cid, row in self._batch_read("companies", missing, ["name"]).items():
            self._companies[cid] = (row.get("properties") or {}).get("name") or f"Company {cid}"
        return {c: self._companies.get(c, f"Company {c}") for c in company_ids}

    def company(self, company_id: str) -> dict[str, Any]:
        """One company record (``name``, ``domain``)."""
        return self.http.request("GET", f"crm/v3/objects/companies/{company_id}", params={"properties": "name,domain"})

    def owned_companies(self, owner_id: str, lifecycle_stages: Sequence[str],
                        properties: Sequence[str] = ()) -> list[Company]:
        """The companies ``owner_id`` owns (``hubspot_owner_id``) whose ``lifecyclestage`` is one of
        ``lifecycle_stages`` (HubSpot's internal values, e.g. ``customer``), by name; each with the
        extra ``properties`` asked for (e.g. an opt-out property) in :attr:`Company.properties`."""
        stages = [s.strip().lower() for s in lifecycle_stages if s and s.strip()]
        if not str(owner_id).strip() or not stages:
            raise ValueError("owned_companies needs a HubSpot owner id and at least one lifecycle stage")
        return [Company.parse(row) for row in self._search_all("companies", {
            "filterGroups": [{"filters": [
                {"propertyName": "hubspot_owner_id", "operator": "EQ", "value": str(owner_id).strip()},
                {"propertyName": "lifecyclestage", "operator": "IN", "values": stages}]}],
            "properties": list(dict.fromkeys([*COMPANY_PROPERTIES, *properties])),
            "sorts": [{"propertyName": "name", "direction": "ASCENDING"}],
            "limit": PAGE,
        })]

    def company_contacts(self, company_id: str, primary_only: bool) -> list[Contact]:
        """The company's contacts, in HubSpot's order; ``primary_only``: only those whose primary
        company it is (association type 2)."""
        rows = self._associations("companies", company_id, "contacts")
        ids = [str(r["toObjectId"]) for r in rows if not primary_only or any(
            t.get("category") == "HUBSPOT_DEFINED" and t.get("typeId") == COMPANY_TO_PRIMARY_CONTACT
            for t in r.get("associationTypes") or [])]
        found = self._batch_read("contacts", ids, CONTACT_PROPERTIES)
        return [Contact.parse(found[i]) for i in dict.fromkeys(ids) if i in found]

    def find_contact(self, email: str) -> Contact | None:
        """The contact whose ``email`` is this address (an EQ search); None when HubSpot has none.

        HubSpot keeps a contact's primary address lowercased (its UI and imports do; that search EQ on
        ``email`` ignores case is UNCONFIRMED), so the address is searched lowercased. A contact's
        other addresses (``hs_additional_emails``) are not searched. Several contacts on one
        address (HubSpot deduplicates by email, so only by import mistakes): the oldest.
        """
        address = (email or "").strip().lower()
        if not address or "@" not in address or any(c.isspace() for c in address):
            raise ValueError(f"{email!r} is not an email address")
        found = self._search("crm/v3/objects/contacts/search", {
            "filterGroups": [{"filters": [{"propertyName": "email", "operator": "EQ", "value": address}]}],
            "properties": CONTACT_PROPERTIES, "sorts": [{"propertyName": "createdate", "direction": "ASCENDING"}],
            "limit": 1}).get("results") or []
        return Contact.parse(found[0]) if found else None

    def find_company(self, id_or_domain: str) -> Company | None:
        """The company with this HubSpot id (digits) or website domain (``example.com``, a URL or
        ``www.`` accepted); None when HubSpot has none. Several companies on one domain: the oldest."""
        given = (id_or_domain or "").strip()
        if given.isdigit():
            try:
                return Company.parse(self.http.request("GET", f"crm/v3/objects/companies/{given}",
                                                       params={"properties": ",".join(COMPANY_PROPERTIES)}))
            except HttpApiError as exc:
                if exc.status == 404:
                    return None
                raise
        domain = web_domain(given)
        if domain is None:
            raise ValueError(f"{id_or_domain!r} is neither a HubSpot company id (digits) nor a domain (example.com)")
        found = self._search("crm/v3/objects/companies/search", {
            "filterGroups": [{"filters": [{"propertyName": "domain", "operator": "EQ", "value": domain}]}],
            "properties": COMPANY_PROPERTIES, "sorts": [{"propertyName": "createdate", "direction": "ASCENDING"}],
            "limit": 1}).get("results") or []
        return Company.parse(found[0]) if found else None

    # -- logged emails ----------------------------------------------------------------------------
    def find_logged_email(self, message_id: str) -> str | None:
        """The id of the email engagement that records the email with this RFC 822 Message-ID."""
        found = self._search("crm/v3/objects/emails/search", {
            "filterGroups": [{"filters": [{"propertyName": "hs_email_message_id", "operator": "EQ",
                                           "value": _message_id(message_id)}]}],
            "properties": ["hs_email_message_id"], "limit": 1}).get("results") or []
        return str(found[0]["id"]) if found else None

    def log_email(self, message_id: str, subject: str, text: str, html: str, sender: tuple[str, str],
                  to: Sequence[tuple[str, str]], at: dt.datetime, company_ids: Sequence[str],
                  contact_ids: Sequence[str]) -> tuple[str, bool]:
        """Log a sent email on HubSpot (an email engagement on the contacts' and companies' timelines):
        (engagement id, logged now). Looked up by ``message_id`` before every try, so it is never
        logged twice; ``sender`` and ``to`` are (name, address) pairs; ``at`` is when it was sent."""
        mid = _message_id(message_id)
        if at.tzinfo is None:
            raise ValueError("log_email needs an aware datetime")
        if not to or not all(address for _, address in to):
            raise ValueError("log_email needs at least one recipient, each with an address")
        if not (company_ids or contact_ids):
            raise ValueError("log_email needs a contact or a company: an email on no record shows nowhere")
        headers = {"from": _person(sender), "sender": _person(sender), "to": [_person(p) for p in to],
                   "cc": [], "bcc": []}
        body = {
            "properties": {
                "hs_timestamp": _ms(at), "hs_email_direction": "EMAIL", "hs_email_status": "SENT",
                "hs_email_subject": subject, "hs_email_text": text, "hs_email_html": html,
                "hs_email_headers": json.dumps(headers), "hs_email_message_id": mid,
            },
            "associations": [
                *({"to": {"id": str(c)}, "types": [{"associationCategory": "HUBSPOT_DEFINED",
                                                     "associationTypeId": EMAIL_TO_CONTACT}]}
                  for c in dict.fromkeys(contact_ids)),
                *({"to": {"id": str(c)}, "types": [{"associationCategory": "HUBSPOT_DEFINED",
                                                     "associationTypeId": EMAIL_TO_COMPANY}]}
                  for c in dict.fromkeys(company_ids)),
            ],
        }

        def create() -> str:
            import requests

            try:
                return str(self.http.request("POST", "crm/v3/objects/emails", json=body, reads=False)["id"])
            except (requests.ConnectionError, requests.Timeout) as exc:
                raise HubSpotNoAnswer(f"HubSpot did not answer logging the email {mid}: {type(exc).__name__}") from exc

        return write_once(lambda: self.find_logged_email(mid), create, f"HubSpot email {mid}", sleep=self.http.sleep)

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
