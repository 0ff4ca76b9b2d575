"""HubSpot CRM v3 notes search and Conversations v3, under /hubspot/...

Routes (relative to ``/hubspot``, as on ``https://api.hubapi.com``):

* ``POST /crm/v3/objects/notes/search``: filterGroups (OR of ANDed filters), sorts, properties,
  ``limit`` <= 200, ``after`` paging (``paging.next.after``); property values are strings;
  limited to 4 requests per second per token (429, ``policyName`` ``SECONDLY``);
* ``GET /crm/v3/objects/{notes|companies|contacts}/{id}`` (``properties``), ``POST
  /crm/v3/objects/companies/batch/read``;
* ``GET /crm/v4/objects/{from}/{id}/associations/{to}`` (``limit``, ``after``);
* ``GET /conversations/v3/conversations/threads`` (``latestMessageTimestampAfter`` needs
  ``sort=latestMessageTimestamp``), ``…/threads/{id}``, ``…/threads/{id}/messages``.

Mentions (HubSpot does not document them; this is the sandbox's choice, which the client
reads): a mention is ``<span data-mention-id="<owner id>" data-mention-type="OWNER"
class="hs-mention">@First Last</span>`` in a note body or a comment's ``richText``; plain
``@First Last`` in text counts too (see :meth:`HubSpotApi.mention`).
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import itertools
import re
import time
import uuid
import zlib
from collections import deque
from typing import Any

from ooo.team import Person, Team
from sandbox.core import Api, ApiError, Request, Response
from sandbox.scenario import demo_absences

TOKEN = "pat-sandbox-na1-0000-ooo"
PORTAL_ID = "24500110"
SEARCH_PER_SECOND = 4
TEN_SECONDLY = 190
MAX_GROUPS, MAX_FILTERS_PER_GROUP, MAX_FILTERS = 5, 10, 25
OPERATORS = {"EQ", "NEQ", "LT", "LTE", "GT", "GTE", "BETWEEN", "IN", "NOT_IN", "HAS_PROPERTY",
             "NOT_HAS_PROPERTY", "CONTAINS_TOKEN", "NOT_CONTAINS_TOKEN"}
NOTE_PROPERTIES = {"hs_note_body", "hs_timestamp", "hubspot_owner_id", "hs_attachment_ids",
                   "hs_object_id", "hs_createdate", "hs_lastmodifieddate"}
DATE_PROPERTIES = {"hs_timestamp", "hs_createdate", "hs_lastmodifieddate"}
THREAD_QUERY = {"after", "archived", "associatedContactId", "associatedTicketId", "association", "inboxId",
                "latestMessageTimestampAfter", "limit", "property", "sort", "threadStatus"}
NOTE_TO_COMPANY, CONTACT_TO_COMPANY = 190, 1

COMPANIES = ("Big Sky Outfitters", "Teton Family Dental", "Gallatin Coffee Roasters", "Bozeman Brewing Co.",
             "Cody Auto Repair", "Livingston Realty Group", "Jackson Hole Yoga", "Red Lodge Ski Rentals")


def _iso(at: dt.datetime) -> str:
    return at.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}Z"


def _ms(at: dt.datetime) -> int:
    return int(at.timestamp() * 1000)


def _parse_time(value: Any) -> dt.datetime | None:
    """A filter value or query time: epoch milliseconds or ISO 8601."""
    text = str(value).strip()
    if re.fullmatch(r"-?\d+", text):
        return dt.datetime.fromtimestamp(int(text) / 1000, dt.timezone.utc)
    try:
        parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.timezone.utc)


def _cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(str(offset).encode()).decode().rstrip("=")


def _offset(cursor: str | None) -> int:
    if not cursor:
        return 0
    try:
        return int(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode())
    except ValueError as exc:
        raise ApiError(400, f"Invalid paging cursor: {cursor}", category="VALIDATION_ERROR") from exc


class HubSpotApi(Api):
    name = "hubspot"
    title = "HubSpot"

    def __init__(self, sandbox: Any):
        super().__init__(sandbox)
        self.companies: dict[str, dict[str, Any]] = {}
        self.contacts: dict[str, dict[str, Any]] = {}
        self.notes: dict[str, dict[str, Any]] = {}
        self.threads: dict[str, dict[str, Any]] = {}
        self.owners: dict[str, str] = {}  # owner id -> name
        self._ids = itertools.count(1)
        self._search_times: deque[float] = deque()
        self._call_times: deque[float] = deque()

    # -- helpers for tests and the seed -----------------------------------------------------
    @staticmethod
    def mention(person: Person | str, name: str | None = None) -> str:
        """The sandbox's mention markup for a HubSpot owner (a Person, or an owner id and name)."""
        if isinstance(person, Person):
            owner_id, name = person.hubspot_owner_id, person.name
        else:
            owner_id = person
        return (f'<span data-mention-id="{owner_id}" data-mention-type="OWNER" '
                f'class="hs-mention">@{html.escape(name or "")}</span>')

    def _id(self, base: int) -> str:
        return str(base + next(self._ids))

    def add_company(self, name: str, domain: str | None = None) -> str:
        """The company called ``name`` (created if new); its id."""
        with self.sandbox.lock:
            for cid, company in self.companies.items():
                if company["name"] == name:
                    return cid
            cid = self._id(5_000_000_000)
            slug = re.sub(r"[^a-z0-9]+", "", name.lower())
            self.companies[cid] = {"name": name, "domain": domain or f"{slug}.com",
                                   "createdAt": dt.datetime(2024, 3, 1, tzinfo=dt.timezone.utc)}
            first, last = ("Alex", "Morgan")
            contact_id = self._id(7_000_000_000)
            self.contacts[contact_id] = {"firstname": first, "lastname": f"{last} ({name})",
                                         "email": f"alex@{self.companies[cid]['domain']}", "company_id": cid,
                                         "createdAt": self.companies[cid]["createdAt"]}
            self.companies[cid]["contact_id"] = contact_id
            return cid

    def add_note(self, body: str, at: dt.datetime, company: str | None = None,
                 owner_id: str | None = None) -> str:
        """A note with ``hs_note_body`` = ``body`` at ``at`` on ``company`` (by name); its id."""
        with self.sandbox.lock:
            company_ids = [self.add_company(company)] if company else []
            nid = self._id(9_000_000_000)
            self.notes[nid] = {"hs_note_body": body, "hs_timestamp": at.astimezone(dt.timezone.utc),
                               "hubspot_owner_id": owner_id or "", "company_ids": company_ids,
                               "createdAt": at.astimezone(dt.timezone.utc)}
            return nid

    def add_thread(self, company: str, subject: str = "", status: str = "OPEN") -> str:
        """A Conversations inbox thread with ``company``'s contact; its id."""
        with self.sandbox.lock:
            cid = self.add_company(company)
            tid = self._id(8_000_000_000)
            self.threads[tid] = {"id": tid, "inboxId": "147959634", "status": status,
                                 "associatedContactId": self.companies[cid]["contact_id"], "subject": subject,
                                 "messages": [], "createdAt": None}
            return tid

    def add_message(self, thread_id: str, text: str, at: dt.datetime, direction: str = "INCOMING",
                    sender: str = "Alex Morgan") -> dict[str, Any]:
        """A customer email (INCOMING) or an agent's reply (OUTGOING) on a thread."""
        return self._add(thread_id, {"type": "MESSAGE", "text": text, "richText": f"<p>{html.escape(text)}</p>",
                                     "direction": direction, "subject": self.threads[thread_id]["subject"]},
                         at, sender, "V-" if direction == "INCOMING" else "A-")

    def add_comment(self, text: str, at: dt.datetime, company: str | None = None, thread_id: str | None = None,
                    rich_text: str | None = None, author: str = "Rosa Alvarez") -> dict[str, Any]:
        """An internal COMMENT (on ``thread_id``, or on a new thread with ``company``); the message."""
        with self.sandbox.lock:
            if thread_id is None:
                thread_id = self.add_thread(company or "Walk-in customer", subject="Question from the website")
            rich = rich_text if rich_text is not None else f"<p>{html.escape(text)}</p>"
            return self._add(thread_id, {"type": "COMMENT", "text": text, "richText": rich}, at, author, "A-")

    def _add(self, thread_id: str, fields: dict[str, Any], at: dt.datetime, sender: str, prefix: str) -> dict[str, Any]:
        with self.sandbox.lock:
            thread = self.threads[thread_id]
            at = at.astimezone(dt.timezone.utc)
            msg = {"id": uuid.uuid5(uuid.NAMESPACE_URL, f"{thread_id}/{len(thread['messages'])}").hex,
                   "conversationsThreadId": thread_id, "createdAt": at, "sender": sender,
                   "actorId": f"{prefix}{zlib.crc32(sender.encode()) % 10_000_000}", **fields}
            thread["messages"].append(msg)
            thread["messages"].sort(key=lambda m: m["createdAt"])
            thread["createdAt"] = thread["messages"][0]["createdAt"]
            return self._message(msg)

    # -- the frame's interface ------------------------------------------------------------------
    def connection(self, base_url: str) -> dict[str, Any]:
        return {"ooo_hubspot": {"conn_type": "http", "host": base_url + "/hubspot", "password": TOKEN,
                                "extra": {"portal_id": PORTAL_ID}}}

    def error(self, status: int, message: str, retry_after: int | None = None, **details: Any) -> Response:
        body: dict[str, Any] = {"status": "error", "message": message, "correlationId": str(uuid.uuid4())}
        headers: dict[str, str] = {}
        if status == 429:
            policy = details.pop("policyName", "TEN_SECONDLY_ROLLING")
            if message == "rate limited":  # the frame's injected 429
                message = "You have reached your ten_secondly_rolling limit."
            body.update(message=message, errorType="RATE_LIMIT", policyName=policy, requestId=str(uuid.uuid4()))
            if retry_after is None and policy in ("SECONDLY", "TEN_SECONDLY_ROLLING"):
                retry_after = 1
            if retry_after is not None:
                headers["Retry-After"] = str(retry_after)
        else:
            body["category"] = details.pop("category", {400: "VALIDATION_ERROR", 401: "INVALID_AUTHENTICATION",
                                                        404: "OBJECT_NOT_FOUND"}.get(status, "ERROR"))
            body.update(details)
        return Response(status, body, headers)

    def handle(self, req: Request) -> Response:
        auth = req.headers.get("authorization", "")
        if auth != f"Bearer {TOKEN}":
            raise ApiError(401, "Authentication credentials not found. This API supports OAuth 2.0 authentication "
                                "and you can find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview",
                           category="INVALID_AUTHENTICATION")
        parts = [p for p in req.path.split("/") if p]
        now = time.monotonic()
        if parts[:5] == ["crm", "v3", "objects", "notes", "search"] and len(parts) == 5:
            self._limit(self._search_times, now, 1.0, SEARCH_PER_SECOND, "You have reached your secondly limit.",
                        "SECONDLY")
            self._method(req, "POST")
            return self._ok(self._search(req.json() or {}))
        self._limit(self._call_times, now, 10.0, TEN_SECONDLY, "You have reached your ten_secondly_rolling limit.",
                    "TEN_SECONDLY_ROLLING")
        if parts[:3] == ["crm", "v3", "objects"] and len(parts) == 5 and parts[4] != "search":
            self._method(req, "GET")
            return self._ok(self._read(parts[3], parts[4], req))
        if parts[:3] == ["crm", "v3", "objects"] and parts[3:] == ["companies", "batch", "read"]:
            self._method(req, "POST")
            return self._ok(self._batch_read(req.json() or {}))
        if parts[:3] == ["crm", "v4", "objects"] and len(parts) == 7 and parts[5] == "associations":
            self._method(req, "GET")
            return self._ok(self._associations(parts[3], parts[4], parts[6], req))
        if parts[:4] == ["conversations", "v3", "conversations", "threads"]:
            if len(parts) == 4:
                self._method(req, "GET")
                return self._ok(self._threads(req))
            thread = self.threads.get(parts[4])
            if thread is None:
                raise ApiError(404, f"Thread {parts[4]} not found.", category="OBJECT_NOT_FOUND")
            if len(parts) == 5:
                self._method(req, "GET")
                return self._ok(self._thread(thread))
            if len(parts) == 6 and parts[5] == "messages":
                self._method(req, "GET")
                return self._ok(self._messages(thread, req))
        raise ApiError(404, f"Unable to find a route for {req.method} /{'/'.join(parts)}", category="OBJECT_NOT_FOUND")

    @staticmethod
    def _method(req: Request, allowed: str) -> None:
        if req.method != allowed:
            raise ApiError(405, f"HTTP method {req.method} is not supported by this resource.",
                           category="METHOD_NOT_ALLOWED")

    def _limit(self, times: deque[float], now: float, window: float, limit: int, message: str, policy: str) -> None:
        while times and now - times[0] >= window:
            times.popleft()
        if len(times) >= limit:
            raise ApiError(429, message, policyName=policy)
        times.append(now)

    def _ok(self, body: dict[str, Any]) -> Response:
        remaining = max(0, TEN_SECONDLY - len(self._call_times))
        return Response(200, body, {"X-HubSpot-RateLimit-Interval-Milliseconds": "10000",
                                    "X-HubSpot-RateLimit-Max": str(TEN_SECONDLY),
                                    "X-HubSpot-RateLimit-Remaining": str(remaining)})

    # -- CRM ------------------------------------------------------------------------------------
    def _note_props(self, nid: str) -> dict[str, str]:
        note = self.notes[nid]
        return {"hs_note_body": note["hs_note_body"], "hs_timestamp": _iso(note["hs_timestamp"]),
                "hubspot_owner_id": note["hubspot_owner_id"], "hs_attachment_ids": "", "hs_object_id": nid,
                "hs_createdate": _iso(note["createdAt"]), "hs_lastmodifieddate": _iso(note["createdAt"])}

    def _object(self, kind: str, oid: str, props: dict[str, str], wanted: list[str] | None, created: dt.datetime) -> dict[str, Any]:
        base = {"hs_object_id", "hs_createdate" if kind == "notes" else "createdate", "hs_lastmodifieddate"}
        keep = set(wanted) | base if wanted else set(props)
        return {"id": oid, "properties": {k: v for k, v in props.items() if k in keep},
                "createdAt": _iso(created), "updatedAt": _iso(created), "archived": False}

    def _company_props(self, cid: str) -> dict[str, str]:
        c = self.companies[cid]
        return {"name": c["name"], "domain": c["domain"], "hs_object_id": cid, "createdate": _iso(c["createdAt"]),
                "hs_lastmodifieddate": _iso(c["createdAt"])}

    def _contact_props(self, cid: str) -> dict[str, str]:
        c = self.contacts[cid]
        return {"firstname": c["firstname"], "lastname": c["lastname"], "email": c["email"], "hs_object_id": cid,
                "createdate": _iso(c["createdAt"]), "hs_lastmodifieddate": _iso(c["createdAt"])}

    def _get_object(self, kind: str, oid: str, wanted: list[str] | None) -> dict[str, Any] | None:
        if kind == "notes" and oid in self.notes:
            return self._object(kind, oid, self._note_props(oid), wanted or ["hs_note_body", "hs_timestamp"],
                                self.notes[oid]["createdAt"])
        if kind == "companies" and oid in self.companies:
            return self._object(kind, oid, self._company_props(oid), wanted or ["name", "domain"],
                                self.companies[oid]["createdAt"])
        if kind == "contacts" and oid in self.contacts:
            return self._object(kind, oid, self._contact_props(oid), wanted or ["firstname", "lastname", "email"],
                                self.contacts[oid]["createdAt"])
        return None

    def _read(self, kind: str, oid: str, req: Request) -> dict[str, Any]:
        if kind not in ("notes", "companies", "contacts"):
            raise ApiError(400, f"Unable to infer object type from: {kind}", category="VALIDATION_ERROR")
        wanted = [p for v in req.query.get("properties", []) for p in v.split(",") if p]
        obj = self._get_object(kind, oid, wanted or None)
        if obj is None:
            raise ApiError(404, "Object not found.  objectId are usually numeric.", category="OBJECT_NOT_FOUND")
        return obj

    def _batch_read(self, body: dict[str, Any]) -> dict[str, Any]:
        inputs = body.get("inputs")
        if not isinstance(inputs, list) or any(not isinstance(i, dict) or "id" not in i for i in inputs):
            raise ApiError(400, "Invalid input JSON: inputs must be a list of {\"id\": ...}", category="VALIDATION_ERROR")
        if len(inputs) > 100:
            raise ApiError(400, "Batch input too large: at most 100 inputs", category="VALIDATION_ERROR")
        wanted = body.get("properties") or None
        results = [obj for i in inputs if (obj := self._get_object("companies", str(i["id"]), wanted))]
        now = _iso(dt.datetime.now(dt.timezone.utc))
        return {"status": "COMPLETE", "results": results, "startedAt": now, "completedAt": now}

    def _associations(self, kind: str, oid: str, to: str, req: Request) -> dict[str, Any]:
        if to != "companies" or kind not in ("notes", "contacts"):
            raise ApiError(400, f"Unsupported association {kind} -> {to} in the sandbox", category="VALIDATION_ERROR")
        if kind == "notes":
            if oid not in self.notes:
                raise ApiError(404, f"Object {oid} of type notes not found.", category="OBJECT_NOT_FOUND")
            ids, type_id = self.notes[oid]["company_ids"], NOTE_TO_COMPANY
        else:
            if oid not in self.contacts:
                raise ApiError(404, f"Object {oid} of type contacts not found.", category="OBJECT_NOT_FOUND")
            ids, type_id = [self.contacts[oid]["company_id"]], CONTACT_TO_COMPANY
        rows = [{"toObjectId": int(cid), "associationTypes": [{"category": "HUBSPOT_DEFINED", "typeId": type_id,
                                                                "label": None}]} for cid in ids]
        return self._page(rows, req, 500)

    def _page(self, rows: list[Any], req: Request, max_limit: int, default: int = 100) -> dict[str, Any]:
        try:
            limit = int(req.arg("limit", str(default)) or default)
        except ValueError as exc:
            raise ApiError(400, "limit must be an integer", category="VALIDATION_ERROR") from exc
        if not 1 <= limit <= max_limit:
            raise ApiError(400, f"limit must be between 1 and {max_limit}", category="VALIDATION_ERROR")
        start = _offset(req.arg("after"))
        body: dict[str, Any] = {"results": rows[start:start + limit]}
        if start + limit < len(rows):
            after = _cursor(start + limit)
            body["paging"] = {"next": {"after": after, "link": f"?after={after}"}}
        return body

    def _search(self, body: dict[str, Any]) -> dict[str, Any]:
        groups = body.get("filterGroups") or []
        if not isinstance(groups, list) or len(groups) > MAX_GROUPS:
            raise ApiError(400, f"Too many filter groups: at most {MAX_GROUPS}", category="VALIDATION_ERROR")
        if sum(len(g.get("filters") or []) for g in groups) > MAX_FILTERS:
            raise ApiError(400, f"Too many filters: at most {MAX_FILTERS} in total", category="VALIDATION_ERROR")
        for g in groups:
            filters = g.get("filters") if isinstance(g, dict) else None
            if not isinstance(filters, list) or len(filters) > MAX_FILTERS_PER_GROUP:
                raise ApiError(400, "Each filter group needs a list of at most "
                                    f"{MAX_FILTERS_PER_GROUP} filters", category="VALIDATION_ERROR")
            for f in filters:
                self._check_filter(f)
        limit = body.get("limit", 10)
        if not isinstance(limit, int) or not 1 <= limit <= 200:
            raise ApiError(400, "limit must be between 1 and 200", category="VALIDATION_ERROR")
        after = body.get("after") or "0"
        if not str(after).isdigit():
            raise ApiError(400, f"Invalid after value: {after}", category="VALIDATION_ERROR")
        props = body.get("properties") or ["hs_note_body", "hs_timestamp"]
        rows = [nid for nid in self.notes if not groups or any(
            all(self._match(self._note_props(nid), f) for f in g["filters"]) for g in groups)]
        if query := body.get("query"):
            rows = [n for n in rows if str(query).lower() in self.notes[n]["hs_note_body"].lower()]
        rows.sort(key=int)
        for s in reversed(body.get("sorts") or []):
            name, desc = (s.get("propertyName"), s.get("direction") == "DESCENDING") if isinstance(s, dict) else (
                str(s).lstrip("-"), str(s).startswith("-"))
            if name not in NOTE_PROPERTIES:
                raise ApiError(400, f"Cannot sort on unknown property {name}", category="VALIDATION_ERROR")
            rows.sort(key=lambda n: self._sort_key(self._note_props(n), name), reverse=desc)
        start = int(after)
        page = rows[start:start + limit]
        result: dict[str, Any] = {
            "total": len(rows),
            "results": [self._object("notes", n, self._note_props(n), props, self.notes[n]["createdAt"]) for n in page],
        }
        if start + limit < len(rows):
            result["paging"] = {"next": {"after": str(start + limit), "link": f"?after={start + limit}"}}
        return result

    @staticmethod
    def _sort_key(props: dict[str, str], name: str) -> Any:
        if name in DATE_PROPERTIES:
            return _parse_time(props[name]) or dt.datetime.min.replace(tzinfo=dt.timezone.utc)
        return props.get(name, "")

    @staticmethod
    def _check_filter(f: Any) -> None:
        if not isinstance(f, dict) or not f.get("propertyName") or not f.get("operator"):
            raise ApiError(400, "Invalid input JSON: Cannot build Filter, some of required attributes are not set "
                                "[propertyName, operator]", category="VALIDATION_ERROR")
        op, name = f["operator"], f["propertyName"]
        if op not in OPERATORS:
            raise ApiError(400, f"Invalid input JSON: Cannot deserialize value of type `FilterOperatorEnum` from "
                                f"String \"{op}\"", category="VALIDATION_ERROR")
        if name not in NOTE_PROPERTIES:
            raise ApiError(400, f"There was a problem with the request: property {name} does not exist on notes",
                           category="VALIDATION_ERROR")
        if op == "BETWEEN" and ("value" not in f or "highValue" not in f):
            raise ApiError(400, "BETWEEN needs value and highValue", category="VALIDATION_ERROR")
        if op in ("IN", "NOT_IN") and not isinstance(f.get("values"), list):
            raise ApiError(400, f"{op} needs values", category="VALIDATION_ERROR")
        if op not in ("IN", "NOT_IN", "HAS_PROPERTY", "NOT_HAS_PROPERTY") and "value" not in f:
            raise ApiError(400, f"{op} needs value", category="VALIDATION_ERROR")
        if name in DATE_PROPERTIES:
            for key in ("value", "highValue"):
                if key in f and _parse_time(f[key]) is None:
                    raise ApiError(400, f"{f[key]!r} is not a valid date for {name}: use epoch milliseconds",
                                   category="VALIDATION_ERROR")

    @staticmethod
    def _match(props: dict[str, str], f: dict[str, Any]) -> bool:
        op, name = f["operator"], f["propertyName"]
        have = props.get(name, "")
        if op == "HAS_PROPERTY":
            return have != ""
        if op == "NOT_HAS_PROPERTY":
            return have == ""
        if op in ("CONTAINS_TOKEN", "NOT_CONTAINS_TOKEN"):
            found = str(f["value"]).lower().strip("*") in have.lower()
            return found if op == "CONTAINS_TOKEN" else not found

        def conv(v: Any) -> Any:
            return _parse_time(v) if name in DATE_PROPERTIES else str(v)

        value = conv(have)
        if op in ("IN", "NOT_IN"):
            inside = value in {conv(v) for v in f["values"]}
            return inside if op == "IN" else not inside
        low = conv(f["value"])
        if op == "EQ":
            return value == low
        if op == "NEQ":
            return value != low
        if value is None or value == "":
            return False
        if op == "BETWEEN":
            return low <= value <= conv(f["highValue"])
        return {"LT": value < low, "LTE": value <= low, "GT": value > low, "GTE": value >= low}[op]

    # -- Conversations ----------------------------------------------------------------------
    def _latest(self, thread: dict[str, Any]) -> dt.datetime | None:
        return thread["messages"][-1]["createdAt"] if thread["messages"] else None

    def _thread(self, t: dict[str, Any]) -> dict[str, Any]:
        msgs = t["messages"]
        received = [m["createdAt"] for m in msgs if m.get("direction") == "INCOMING"]
        sent = [m["createdAt"] for m in msgs if m.get("direction") == "OUTGOING"]
        created = t["createdAt"] or dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)
        body = {"id": t["id"], "inboxId": t["inboxId"], "status": t["status"],
                "associatedContactId": t["associatedContactId"], "createdAt": _iso(created),
                "spam": False, "archived": False, "originalChannelId": "1002", "originalChannelAccountId": "52401",
                "threadAssociations": {"associatedTicketId": None}}
        if latest := self._latest(t):
            body["latestMessageTimestamp"] = _iso(latest)
        if received:
            body["latestMessageReceivedTimestamp"] = _iso(received[-1])
        if sent:
            body["latestMessageSentTimestamp"] = _iso(sent[-1])
        return body

    def _threads(self, req: Request) -> dict[str, Any]:
        unknown = set(req.query) - THREAD_QUERY
        if unknown:
            raise ApiError(400, f"Unknown query parameters: {sorted(unknown)}", category="VALIDATION_ERROR")
        sort = req.arg("sort", "id")
        if sort not in ("id", "-id", "latestMessageTimestamp", "-latestMessageTimestamp"):
            raise ApiError(400, f"Invalid sort {sort}", category="VALIDATION_ERROR")
        after_ts = req.arg("latestMessageTimestampAfter")
        threads = list(self.threads.values())
        if after_ts is not None:
            if sort.lstrip("-") != "latestMessageTimestamp":
                raise ApiError(400, "latestMessageTimestampAfter requires sort=latestMessageTimestamp",
                               category="VALIDATION_ERROR")
            since = _parse_time(after_ts)
            if since is None or re.fullmatch(r"\d+", after_ts):
                raise ApiError(400, f"latestMessageTimestampAfter {after_ts!r} is not a date-time",
                               category="VALIDATION_ERROR")
            threads = [t for t in threads if (self._latest(t) or since) > since]
        if status := req.arg("threadStatus"):
            threads = [t for t in threads if t["status"] == status]
        if contact := req.arg("associatedContactId"):
            threads = [t for t in threads if t["associatedContactId"] == contact]
        if sort.lstrip("-") == "id":
            threads.sort(key=lambda t: int(t["id"]), reverse=sort.startswith("-"))
        else:
            epoch = dt.datetime.min.replace(tzinfo=dt.timezone.utc)
            threads.sort(key=lambda t: self._latest(t) or epoch, reverse=sort.startswith("-"))
        return self._page([self._thread(t) for t in threads], req, 500)

    def _message(self, m: dict[str, Any]) -> dict[str, Any]:
        body = {"id": m["id"], "type": m["type"], "text": m["text"], "richText": m["richText"],
                "createdAt": _iso(m["createdAt"]), "updatedAt": _iso(m["createdAt"]),
                "createdBy": m["actorId"], "client": {"clientType": "HUBSPOT"},
                "senders": [{"actorId": m["actorId"], "name": m["sender"], "senderField": "FROM",
                             "deliveryIdentifier": None}],
                "recipients": [], "attachments": [], "conversationsThreadId": m["conversationsThreadId"],
                "archived": False}
        if m["type"] == "MESSAGE":
            body.update(direction=m["direction"], channelId="1002", channelAccountId="52401",
                        subject=m.get("subject") or "", status={"statusType": "SENT"}, truncationStatus="NOT_TRUNCATED")
        return body

    def _messages(self, thread: dict[str, Any], req: Request) -> dict[str, Any]:
        unknown = set(req.query) - {"after", "archived", "limit", "sort"}
        if unknown:
            raise ApiError(400, f"Unknown query parameters: {sorted(unknown)}", category="VALIDATION_ERROR")
        rows = [self._message(m) for m in thread["messages"]]
        if req.arg("sort") == "-createdAt":
            rows.reverse()
        return self._page(rows, req, 500, default=100)

    # -- seed, state, page ----------------------------------------------------------------------
    def seed(self, team: Team, anchor: dt.date) -> None:
        self.owners = {p.hubspot_owner_id: p.name for p in team.people if p.hubspot_owner_id}
        for name in COMPANIES:
            self.add_company(name)
        support = [p for p in team.people if p.role == "support"]
        for i, absence in enumerate(demo_absences(anchor, team)):
            person = team.person(absence["employee"])
            if person is None:
                continue
            buddy = team.person(person.buddy) if person.buddy else None
            tz = person.tz
            first = dt.datetime.combine(absence["start"], dt.time(0, 0), tz)
            back = dt.datetime.combine(team.next_working_day(absence["end"]), dt.time(0, 0), tz)
            c = COMPANIES[i * 3: i * 3 + 4]
            rosa = support[0] if support else person
            at = lambda days, h, m=0: first + dt.timedelta(days=days, hours=h, minutes=m)  # noqa: E731
            tag = self.mention(person)
            who = buddy.name if buddy else "the team"
            self.add_note(f"<p>{tag} {c[0]} asked to move the spring campaign launch to April. I said yes "
                          "provisionally; please confirm budget with them when you are back.</p>",
                          at(0, 10, 20), c[0], buddy.hubspot_owner_id if buddy else None)
            self.add_note(f"<p>Website down for ~20 min this morning (hosting). Fixed by support. {tag} FYI, "
                          "they may ask for a credit.</p>", at(1, 14, 5), c[1], rosa.hubspot_owner_id)
            self.add_note(f"<p>Call with the owner: wants to add <b>two new locations</b> to the listings plan. "
                          f"@{person.name} owns the upsell; quote drafted in the shared drive.</p>",
                          at(2, 11, 40), c[0], buddy.hubspot_owner_id if buddy else None)
            self.add_note(f"<p>Monthly report sent on schedule by {who}.</p>", at(2, 16, 0), c[2],
                          buddy.hubspot_owner_id if buddy else None)
            self.add_note(f"<p>{tag} special for the holiday weekend added to the site and Facebook. "
                          "<script>alert('x')</script>Client approved the copy.</p>", at(3, 9, 15), c[3],
                          rosa.hubspot_owner_id)
            self.add_note(f"<p>{tag} pre-absence: renewal call booked for later this month.</p>",
                          at(-3, 10, 0), c[1], person.hubspot_owner_id)
            self.add_note(f"<p>{tag} follow-up after the absence: send the Q1 plan.</p>",
                          back + dt.timedelta(days=4, hours=10), c[2], buddy.hubspot_owner_id if buddy else None)
            other = next((p for p in team.people if p.role == "csm" and p.email not in (person.email, person.buddy)), None)
            if other:
                self.add_note(f"<p>{self.mention(other)} please review the new review-response template.</p>",
                              at(1, 12, 0), c[2], rosa.hubspot_owner_id)
            # Conversations inbox: support answers and tags the CSM (procedure) or the buddy (escalation).
            t1 = self.add_thread(c[1], subject="Hours on our listing are wrong")
            self.add_message(t1, "Hi, our Sunday hours show as closed on Google. Can you fix it?", at(1, 8, 30))
            self.add_message(t1, "Thanks, fixed now; it may take a day to show.", at(1, 9, 10), "OUTGOING", rosa.name)
            self.add_comment(f"@{person.name} fixed the Sunday hours; they also asked about holiday hours for next "
                             "month.", at(1, 9, 12), thread_id=t1,
                             rich_text=f"<p>{tag} fixed the Sunday hours; they also asked about holiday hours for "
                                       "next month.</p>", author=rosa.name)
            t2 = self.add_thread(c[3], subject="Invoice question")
            self.add_message(t2, "We were charged twice this month?", at(2, 13, 0))
            if buddy:
                self.add_comment(f"@{buddy.name} escalating: possible double charge.", at(2, 13, 20), thread_id=t2,
                                 rich_text=f"<p>{self.mention(buddy)} escalating: possible double charge.</p>",
                                 author=rosa.name)
            self.add_comment(f"@{person.name} refund issued by billing; nothing for you to do, context only.",
                             at(3, 10, 45), thread_id=t2,
                             rich_text=f"<p>{tag} refund issued by billing; nothing for you to do, context "
                                       "only.</p>", author=buddy.name if buddy else rosa.name)
            t3 = self.add_thread(c[2], subject="Photo request")
            self.add_message(t3, "Can you use the new storefront photos?", at(-6, 9, 0))
            self.add_comment(f"@{person.name} new photos in the drive.", at(-6, 9, 30), thread_id=t3,
                             rich_text=f"<p>{tag} new photos in the drive.</p>", author=rosa.name)

    def state(self) -> dict[str, Any]:
        return {
            "companies": {cid: {"name": c["name"], "domain": c["domain"]} for cid, c in self.companies.items()},
            "notes": [{"id": nid, **self._note_props(nid), "companies": n["company_ids"]}
                      for nid, n in self.notes.items()],
            "threads": [{**self._thread(t), "subject": t["subject"],
                         "messages": [self._message(m) for m in t["messages"]]} for t in self.threads.values()],
        }

    def render(self) -> str:
        esc = html.escape
        notes = sorted(self.notes.items(), key=lambda kv: kv[1]["hs_timestamp"], reverse=True)
        note_rows = "".join(
            f"<tr><td>{_iso(n['hs_timestamp'])[:16]}</td>"
            f"<td>{esc(', '.join(self.companies[c]['name'] for c in n['company_ids']))}</td>"
            f"<td>{esc(self.owners.get(n['hubspot_owner_id'], n['hubspot_owner_id']))}</td>"
            f"<td>{esc(re.sub(r'<[^>]+>', '', n['hs_note_body']))}</td></tr>" for _, n in notes)
        msg_rows = "".join(
            f"<tr><td>{_iso(m['createdAt'])[:16]}</td><td>{esc(t['subject'])}</td><td>{m['type']}"
            f"{' ' + m.get('direction', '') if m['type'] == 'MESSAGE' else ''}</td><td>{esc(m['sender'])}</td>"
            f"<td>{esc(m['text'])}</td></tr>"
            for t in self.threads.values() for m in t["messages"])
        return (f"<h3>Notes ({len(self.notes)})</h3><table><tr><th>hs_timestamp (UTC)</th><th>company</th>"
                f"<th>owner</th><th>body (text)</th></tr>{note_rows}</table>"
                f"<h3>Conversations ({len(self.threads)} threads)</h3><table><tr><th>at (UTC)</th><th>thread</th>"
                f"<th>type</th><th>from</th><th>text</th></tr>{msg_rows}</table>")
