"""HubSpot CRM v3 objects, v4 associations and Conversations v3, under /hubspot/...

Routes (relative to ``/hubspot``, as on ``https://api.hubapi.com``); the CRM objects' behaviour
and the vendor facts behind it are :mod:`sandbox.apis.hubspot_crm`'s:

* ``POST /crm/v3/objects/{companies|contacts|notes|emails}/search``: filterGroups (OR of ANDed
  filters), sorts, properties, ``query``, ``limit`` <= 200, ``after`` paging
  (``paging.next.after``); every search shares one limit of 4 a second per token (429,
  ``policyName`` ``SECONDLY``) and is exempt from the ten-secondly one (HubSpot's specs);
* ``GET /crm/v3/objects/{kind}/{id}`` (``properties``); ``POST /crm/v3/objects/{kind}/batch/read``
  (``inputs``, ``properties`` and ``propertiesWithHistory`` required; 207 when ids are missing);
* ``POST /crm/v3/objects/emails``: logs an email engagement (properties, inline ``associations``
  to contacts 198 and companies 186); 201;
* ``GET /crm/v4/objects/{from}/{id}/associations/{to}`` (``limit`` <= 500, ``after``): companies
  <-> contacts (with the Primary types 1 and 2), notes -> companies, emails <-> contacts/companies;
* ``GET /conversations/v3/conversations/threads`` (``latestMessageTimestampAfter`` needs
  ``sort=latestMessageTimestamp``), ``…/threads/{id}``, ``…/threads/{id}/messages``.

Private-app scopes the real calls need (HubSpot's specs): ``crm.objects.companies.read``
(companies), ``crm.objects.contacts.read`` (contacts, notes, emails search/read; also
``sales-email-read`` for email bodies), ``crm.objects.contacts.write`` (create emails),
``conversations.read`` (inbox). The sandbox checks the token only.

Mentions (HubSpot does not document them; this is the sandbox's choice, which the client
reads): a mention is ``<span data-mention-id="<owner id>" data-mention-type="OWNER"
class="hs-mention">@First Last</span>`` in a note body or a comment's ``richText``; plain
``@First Last`` in text counts too (see :meth:`HubSpotApi.mention`).
"""

from __future__ import annotations

import datetime as dt
import html
import re
import time
import uuid
import zlib
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any

from ooo.team import Person, Team
from sandbox.apis.hubspot_crm import Crm, cursor, kind_of, offset
from sandbox.apis.hubspot_crm import iso as _iso
from sandbox.apis.hubspot_crm import parse_time as _parse_time
from sandbox.core import Api, ApiError, Faults, Request, Response
from sandbox.scenario import CLIENTS, OPT_OUT_PROPERTY, client_contact, customer_book, demo_absences

TOKEN = "pat-sandbox-na1-0000-ooo"
PORTAL_ID = "24500110"
SEARCH_PER_SECOND = 4
TEN_SECONDLY = 190
THREAD_QUERY = {"after", "archived", "associatedContactId", "associatedTicketId", "association", "inboxId",
                "latestMessageTimestampAfter", "limit", "property", "sort", "threadStatus"}

COMPANIES = ("Big Sky Outfitters", "Teton Family Dental", "Gallatin Coffee Roasters", "Bozeman Brewing Co.",
             "Cody Auto Repair", "Livingston Realty Group", "Jackson Hole Yoga", "Red Lodge Ski Rentals")


class HubSpotApi(Api):
    name = "hubspot"
    title = "HubSpot"

    def __init__(self, sandbox: Any):
        super().__init__(sandbox)
        self.crm = Crm(sandbox.lock)
        self.threads: dict[str, dict[str, Any]] = {}
        self.owners: dict[str, str] = {}  # owner id -> name
        self._search_times: deque[float] = deque()
        self._call_times: deque[float] = deque()
        self.clock: Callable[[], float] = time.monotonic  # the rate limits' clock (a test may stop it)

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

    def add_company(self, name: str, domain: str | None = None, *, owner_id: str | None = None,
                    lifecycle_stage: str | None = None, properties: dict[str, str] | None = None,
                    default_contact: bool = True) -> str:
        """The company called ``name`` (created if new); its id. See :meth:`Crm.add_company`."""
        return self.crm.add_company(name, domain, owner_id=owner_id, lifecycle_stage=lifecycle_stage,
                                    properties=properties, default_contact=default_contact)

    def add_contact(self, first: str, last: str, email: str | None, companies: Sequence[str] = (),
                    primary: str | None = None) -> str:
        """A contact of ``companies`` (ids; ``primary`` defaults to the first); its id."""
        return self.crm.add_contact(first, last, email, companies, primary)

    def add_note(self, body: str, at: dt.datetime, company: str | None = None,
                 owner_id: str | None = None) -> str:
        """A note with ``hs_note_body`` = ``body`` at ``at`` on ``company`` (by name); its id."""
        return self.crm.add_note(body, at, company, owner_id)

    def add_thread(self, company: str, subject: str = "", status: str = "OPEN") -> str:
        """A Conversations inbox thread with ``company``'s primary contact; its id."""
        with self.sandbox.lock:
            cid = self.add_company(company)
            contact = self.crm.primary_contact(cid) or self.add_contact("Alex", f"Morgan ({company})",
                                                                        None, [cid])
            tid = self.crm._id(8_000_000_000)
            self.threads[tid] = {"id": tid, "inboxId": "147959634", "status": status,
                                 "associatedContactId": contact, "subject": subject,
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

    def rate_limited(self, faults: Faults) -> Response:
        """An injected 429; without Retry-After when the faults say so (whether HubSpot sends it is
        UNCONFIRMED), leaving the client its own backoff."""
        response = self.error(429, "rate limited", retry_after=faults.retry_after)
        if not faults.retry_after_header:
            response.headers.pop("Retry-After", None)
        return response

    def handle(self, req: Request) -> Response:
        auth = req.headers.get("authorization", "")
        if auth != f"Bearer {TOKEN}":
            raise ApiError(401, "Authentication credentials not found. This API supports OAuth 2.0 authentication "
                                "and you can find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview",
                           category="INVALID_AUTHENTICATION")
        parts = [p for p in req.path.split("/") if p]
        now = self.clock()
        if parts[:3] == ["crm", "v3", "objects"] and len(parts) == 5 and parts[4] == "search":
            self._limit(self._search_times, now, 1.0, SEARCH_PER_SECOND, "You have reached your secondly limit.",
                        "SECONDLY")
            self._method(req, "POST")
            return self._ok(self.crm.search(kind_of(parts[3]), req.json()))
        self._limit(self._call_times, now, 10.0, TEN_SECONDLY, "You have reached your ten_secondly_rolling limit.",
                    "TEN_SECONDLY_ROLLING")
        if parts[:3] == ["crm", "v3", "objects"] and len(parts) == 4:
            self._method(req, "POST")
            if kind_of(parts[3]) != "emails":
                raise ApiError(404, f"The sandbox creates emails only, not {parts[3]}", category="OBJECT_NOT_FOUND")
            return self._ok(self.crm.create_email(req.json()), 201)
        if parts[:3] == ["crm", "v3", "objects"] and len(parts) == 5:
            self._method(req, "GET")
            wanted = [p for v in req.query.get("properties", []) for p in v.split(",") if p]
            return self._ok(self.crm.read(kind_of(parts[3]), parts[4], wanted))
        if parts[:3] == ["crm", "v3", "objects"] and parts[4:] == ["batch", "read"]:
            self._method(req, "POST")
            status, body = self.crm.batch_read(kind_of(parts[3]), req.json())
            return self._ok(body, status)
        if parts[:3] == ["crm", "v4", "objects"] and len(parts) == 7 and parts[5] == "associations":
            self._method(req, "GET")
            rows = self.crm.associations(kind_of(parts[3]), parts[4], kind_of(parts[6]))
            return self._ok(self._page(rows, req, 500, default=500))
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

    def _ok(self, body: dict[str, Any], status: int = 200) -> Response:
        remaining = max(0, TEN_SECONDLY - len(self._call_times))
        return Response(status, body, {"X-HubSpot-RateLimit-Interval-Milliseconds": "10000",
                                       "X-HubSpot-RateLimit-Max": str(TEN_SECONDLY),
                                       "X-HubSpot-RateLimit-Remaining": str(remaining)})

    def _page(self, rows: list[Any], req: Request, max_limit: int, default: int = 100) -> dict[str, Any]:
        try:
            limit = int(req.arg("limit", str(default)) or default)
        except ValueError as exc:
            raise ApiError(400, "limit must be an integer", category="VALIDATION_ERROR") from exc
        if not 1 <= limit <= max_limit:
            raise ApiError(400, f"limit must be between 1 and {max_limit}", category="VALIDATION_ERROR")
        start = offset(req.arg("after"))
        body: dict[str, Any] = {"results": rows[start:start + limit]}
        if start + limit < len(rows):
            after = cursor(start + limit)
            body["paging"] = {"next": {"after": after, "link": f"?after={after}"}}
        return body

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
        self.seed_book(team)
        for name, domain, contact in CLIENTS:  # the calendars' clients: the notes to them are logged on them
            first, last = contact.split()
            self.add_contact(first, last, client_contact((name, domain, contact)),
                             [self.add_company(name, domain, lifecycle_stage="customer", default_contact=False)])
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

            def at(days: int, h: int, m: int = 0, _first: dt.datetime = first) -> dt.datetime:
                return _first + dt.timedelta(days=days, hours=h, minutes=m)

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
            other = next((p for p in team.people
                          if p.role == "csm" and p.email not in (person.email, person.buddy)), None)
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

    def seed_book(self, team: Team) -> None:
        """The CSMs' customer book (:func:`sandbox.scenario.customer_book`): companies with owner,
        lifecycle stage and opt-out, their contacts (primary first) and shared contacts."""
        book = customer_book()
        ids: dict[str, str] = {}
        for company in book:
            owner = team.person(company.owner)
            props = {} if company.opt_out is None else {OPT_OUT_PROPERTY: "true" if company.opt_out else "false"}
            ids[company.name] = self.add_company(
                company.name, company.domain, owner_id=owner.hubspot_owner_id if owner else "",
                lifecycle_stage=company.stage, properties=props, default_contact=False)
        for company in book:
            for person in company.contacts:
                self.add_contact(person.first, person.last, person.email,
                                 [ids[company.name], *(ids[name] for name in person.also)])

    def state(self) -> dict[str, Any]:
        crm = self.crm
        return {
            "companies": {cid: {**{k: v for k, v in crm.props("companies", cid).items() if v is not None},
                                "contacts": [r["toObjectId"] for r in crm.associations("companies", cid, "contacts")]}
                          for cid in crm.companies},
            "contacts": {pid: {**{k: v for k, v in crm.props("contacts", pid).items() if v is not None},
                               "companies": list(c["companies"])} for pid, c in crm.contacts.items()},
            "notes": [{"id": nid, **crm.props("notes", nid), "companies": n["company_ids"]}
                      for nid, n in crm.notes.items()],
            "emails": [{"id": eid, **{k: v for k, v in crm.props("emails", eid).items() if v is not None},
                        "contacts": list(e["contacts"]), "companies": list(e["companies"])}
                       for eid, e in crm.emails.items()],
            "threads": [{**self._thread(t), "subject": t["subject"],
                         "messages": [self._message(m) for m in t["messages"]]} for t in self.threads.values()],
        }

    def render(self) -> str:
        esc = html.escape
        crm = self.crm
        name = lambda cid: crm.companies[cid]["props"]["name"] if cid in crm.companies else cid  # noqa: E731

        def person(pid: str) -> str:
            p = crm.contacts[pid]["props"]
            return f"{p.get('firstname', '')} {p.get('lastname', '')}".strip()

        company_rows = []
        for cid, _ in sorted(crm.companies.items(), key=lambda kv: kv[1]["props"]["name"]):
            props = crm.props("companies", cid)
            contacts = [(pid, c) for pid, c in crm.contacts.items() if cid in c["companies"]]
            people = "<br>".join(
                f"{esc(person(pid))} &lt;{esc(c['props'].get('email') or 'no email')}&gt;"
                f"{' · primary' if c['primary'] == cid else ''}" for pid, c in contacts) or "<i>no contacts</i>"
            owner = props.get("hubspot_owner_id") or ""
            company_rows.append(
                f"<tr><td>{esc(props['name'] or '')}<br><span class='muted'>{esc(props.get('domain') or '')} · "
                f"{cid}</span></td><td>{esc(self.owners.get(owner, owner))}</td>"
                f"<td>{esc(props.get('lifecyclestage') or '')}</td><td>{esc(props.get(OPT_OUT_PROPERTY) or '')}</td>"
                f"<td>{people}</td></tr>")
        email_rows = []
        for _, email in sorted(crm.emails.items(), key=lambda kv: kv[1]["props"]["hs_timestamp"], reverse=True):
            p = email["props"]
            email_rows.append(
                f"<tr><td>{esc(p['hs_timestamp'][:16])}</td><td>{esc(p.get('hs_email_subject', ''))}</td>"
                f"<td>{esc(p.get('hs_email_from_email', ''))}</td>"
                f"<td>{esc(', '.join(person(c) for c in email['contacts'] if c in crm.contacts))}</td>"
                f"<td>{esc(', '.join(name(c) for c in email['companies']))}</td>"
                f"<td>{esc(p.get('hs_email_message_id', ''))}</td></tr>")
        notes = sorted(crm.notes.items(), key=lambda kv: kv[1]["hs_timestamp"], reverse=True)
        note_rows = "".join(
            f"<tr><td>{_iso(n['hs_timestamp'])[:16]}</td>"
            f"<td>{esc(', '.join(name(c) for c in n['company_ids']))}</td>"
            f"<td>{esc(self.owners.get(n['hubspot_owner_id'], n['hubspot_owner_id']))}</td>"
            f"<td>{esc(re.sub(r'<[^>]+>', '', n['hs_note_body']))}</td></tr>" for _, n in notes)
        msg_rows = "".join(
            f"<tr><td>{_iso(m['createdAt'])[:16]}</td><td>{esc(t['subject'])}</td><td>{m['type']}"
            f"{' ' + m.get('direction', '') if m['type'] == 'MESSAGE' else ''}</td><td>{esc(m['sender'])}</td>"
            f"<td>{esc(m['text'])}</td></tr>"
            for t in self.threads.values() for m in t["messages"])
        return (f"<h3>Companies ({len(crm.companies)})</h3><table><tr><th>company</th><th>owner</th>"
                f"<th>lifecycle stage</th><th>{OPT_OUT_PROPERTY}</th><th>contacts</th></tr>{''.join(company_rows)}"
                f"</table><h3>Logged emails ({len(crm.emails)})</h3><table><tr><th>hs_timestamp (UTC)</th>"
                f"<th>subject</th><th>from</th><th>contacts</th><th>companies</th><th>Message-ID</th></tr>"
                f"{''.join(email_rows)}</table>"
                f"<h3>Notes ({len(crm.notes)})</h3><table><tr><th>hs_timestamp (UTC)</th><th>company</th>"
                f"<th>owner</th><th>body (text)</th></tr>{note_rows}</table>"
                f"<h3>Conversations ({len(self.threads)} threads)</h3><table><tr><th>at (UTC)</th><th>thread</th>"
                f"<th>type</th><th>from</th><th>text</th></tr>{msg_rows}</table>")
