"""HubSpot's CRM objects as the sandbox keeps them: companies, contacts, notes and logged emails.

:class:`Crm` is the store and HubSpot's CRM v3 behaviour over it (read, batch read, search with
filterGroups, create an email engagement) and the v4 associations between the objects; the HTTP
routes, the token and the rate limits are :mod:`sandbox.apis.hubspot`'s. Methods raise
:class:`~sandbox.core.ApiError` with HubSpot's categories; property values go out as strings.

Vendor facts (HubSpot's public OpenAPI specs, CRM v3 companies/contacts/emails and associations v4,
unless marked):

* search: ``filterGroups`` OR'd, filters AND'd, operators EQ NEQ LT LTE GT GTE BETWEEN IN NOT_IN
  HAS_PROPERTY NOT_HAS_PROPERTY CONTAINS_TOKEN NOT_CONTAINS_TOKEN; ``limit`` <= 200; ``after``;
  answer ``{total, results, paging.next.after}``. String matching is exact here; HubSpot's case
  handling of EQ/IN on strings is UNCONFIRMED (clients send HubSpot's lowercase internal values).
* batch read (``BatchReadInputSimplePublicObjectId``): ``inputs``, ``properties`` and
  ``propertiesWithHistory`` are required by the spec; the sandbox answers 400 without one. That
  the live API rejects a missing ``propertiesWithHistory`` is UNCONFIRMED. Ids not found make a
  207 with ``errors`` (message wording UNCONFIRMED).
* associations v4 ``GET /crm/v4/objects/{from}/{id}/associations/{to}``: ``results[{toObjectId,
  associationTypes[{category, typeId, label}]}]``, ``limit`` (default 500) and ``after``.
  HUBSPOT_DEFINED type ids (HubSpot's association-type table, as listed by client libraries):
  contact->company 279, contact->primary company 1, company->contact 280, company->contact whose
  primary company it is 2, email->contact 198, email->company 186, contact->email 197,
  company->email 185, note->company 190, company->note 189. The label ``"Primary"`` on 1 (and,
  by symmetry, on 2) is seen in third-party captures, not in HubSpot's own docs: UNCONFIRMED.
* emails (``POST /crm/v3/objects/emails``, 201): ``hs_timestamp`` required; ``hs_email_direction``
  EMAIL/INCOMING_EMAIL/FORWARDED_EMAIL; ``hs_email_status`` BOUNCED/FAILED/SCHEDULED/SENDING/SENT;
  ``hs_email_headers`` a JSON string ``{from:{email, firstName, lastName}, sender, to:[…], cc, bcc}``
  from which HubSpot fills the read-only ``hs_email_from_*``/``hs_email_to_*`` properties (the
  emails guide). ``hs_email_message_id`` (the RFC 822 Message-ID) is a real email property that
  integrations search with EQ; that an API create may set it is UNCONFIRMED (the sandbox accepts
  it). Property errors use HubSpot's ``Property values were not valid: [...]`` text with
  ``PROPERTY_DOESNT_EXIST``/``READ_ONLY_VALUE``/``INVALID_OPTION``/``INVALID_JSON`` (seen in
  third-party captures; exact wording UNCONFIRMED). Newly created objects reach HubSpot's search
  index after a short delay; the sandbox finds them at once.
"""

from __future__ import annotations

import base64
import datetime as dt
import itertools
import json
import re
import threading
from collections.abc import Callable, Sequence
from typing import Any

from sandbox.core import ApiError
from sandbox.scenario import OPT_OUT_PROPERTY

UTC = dt.timezone.utc
OPERATORS = {"EQ", "NEQ", "LT", "LTE", "GT", "GTE", "BETWEEN", "IN", "NOT_IN", "HAS_PROPERTY",
             "NOT_HAS_PROPERTY", "CONTAINS_TOKEN", "NOT_CONTAINS_TOKEN"}
MAX_GROUPS, MAX_FILTERS_PER_GROUP, MAX_FILTERS = 5, 10, 25
KINDS = ("companies", "contacts", "notes", "emails")
#: Every name HubSpot takes for an object type in a path, to the sandbox's kind.
ALIASES = {"company": "companies", "companies": "companies", "0-2": "companies",
           "contact": "contacts", "contacts": "contacts", "0-1": "contacts",
           "note": "notes", "notes": "notes", "0-46": "notes",
           "email": "emails", "emails": "emails", "0-49": "emails"}
TYPE_IDS = {"companies": "0-2", "contacts": "0-1", "notes": "0-46", "emails": "0-49"}
#: HUBSPOT_DEFINED association type ids (see the module docstring).
CONTACT_TO_COMPANY, CONTACT_TO_PRIMARY_COMPANY = 279, 1
COMPANY_TO_CONTACT, COMPANY_TO_PRIMARY_CONTACT = 280, 2
EMAIL_TO_CONTACT, EMAIL_TO_COMPANY, CONTACT_TO_EMAIL, COMPANY_TO_EMAIL = 198, 186, 197, 185
NOTE_TO_COMPANY, COMPANY_TO_NOTE = 190, 189
PRIMARY = "Primary"

_AUDIT = {"hs_object_id"}
PROPERTIES: dict[str, set[str]] = {
    "companies": {"name", "domain", "hubspot_owner_id", "lifecyclestage", OPT_OUT_PROPERTY, "createdate",
                  "hs_lastmodifieddate"} | _AUDIT,
    "contacts": {"firstname", "lastname", "email", "associatedcompanyid", "createdate", "lastmodifieddate"} | _AUDIT,
    "notes": {"hs_note_body", "hs_timestamp", "hubspot_owner_id", "hs_attachment_ids", "hs_createdate",
              "hs_lastmodifieddate"} | _AUDIT,
    "emails": {"hs_timestamp", "hubspot_owner_id", "hs_email_direction", "hs_email_status", "hs_email_subject",
               "hs_email_text", "hs_email_html", "hs_email_headers", "hs_attachment_ids", "hs_email_message_id",
               "hs_email_thread_id", "hs_email_from_email", "hs_email_from_firstname", "hs_email_from_lastname",
               "hs_email_to_email", "hs_email_to_firstname", "hs_email_to_lastname", "hs_email_sender_email",
               "hs_email_sender_firstname", "hs_email_sender_lastname", "hs_createdate",
               "hs_lastmodifieddate"} | _AUDIT,
}
EMAIL_READ_ONLY = {p for p in PROPERTIES["emails"] if re.match(r"hs_email_(from|to|sender)_", p)} | {
    "hs_object_id", "hs_createdate", "hs_lastmodifieddate"}
EMAIL_OPTIONS = {"hs_email_direction": ("EMAIL", "INCOMING_EMAIL", "FORWARDED_EMAIL"),
                 "hs_email_status": ("BOUNCED", "FAILED", "SCHEDULED", "SENDING", "SENT")}
DEFAULT_PROPERTIES = {"companies": ["name", "domain"], "contacts": ["firstname", "lastname", "email"],
                      "notes": ["hs_note_body", "hs_timestamp"], "emails": ["hs_email_subject", "hs_timestamp"]}
#: What the free-text ``query`` of a search looks in.
QUERY_PROPERTIES = {"companies": ("name", "domain"), "contacts": ("firstname", "lastname", "email"),
                    "notes": ("hs_note_body",), "emails": ("hs_email_subject", "hs_email_text")}
DATE_PROPERTIES = {"hs_timestamp", "hs_createdate", "hs_lastmodifieddate", "createdate", "lastmodifieddate"}
CREATED = {"companies": "createdate", "contacts": "createdate", "notes": "hs_createdate", "emails": "hs_createdate"}
MODIFIED = {"companies": "hs_lastmodifieddate", "contacts": "lastmodifieddate", "notes": "hs_lastmodifieddate",
            "emails": "hs_lastmodifieddate"}


def iso(at: dt.datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}Z"


def parse_time(value: Any) -> dt.datetime | None:
    """A filter value or property time: epoch milliseconds or ISO 8601."""
    text = str(value).strip()
    if re.fullmatch(r"-?\d+", text):
        return dt.datetime.fromtimestamp(int(text) / 1000, UTC)
    try:
        parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(str(offset).encode()).decode().rstrip("=")


def offset(given: str | None) -> int:
    if not given:
        return 0
    try:
        return int(base64.urlsafe_b64decode(given + "=" * (-len(given) % 4)).decode())
    except ValueError as exc:
        raise ApiError(400, f"Invalid paging cursor: {given}", category="VALIDATION_ERROR") from exc


def kind_of(name: str) -> str:
    """The sandbox's kind for an object type named in a path (``companies``, ``company``, ``0-2``)."""
    kind = ALIASES.get(name.lower())
    if kind is None:
        raise ApiError(400, f"Unable to infer object type from: {name}", category="VALIDATION_ERROR")
    return kind


def _invalid(problems: list[dict[str, Any]]) -> ApiError:
    """HubSpot's answer to property values it refuses (one entry per property)."""
    return ApiError(400, "Property values were not valid: " + json.dumps(problems, separators=(",", ":")),
                    category="VALIDATION_ERROR")


def _problem(name: str, error: str, message: str) -> dict[str, Any]:
    return {"isValid": False, "message": message, "error": error, "name": name, "localizedErrorMessage": message}


def _missing(model: str, fields: list[str]) -> ApiError:
    return ApiError(400, f"Invalid input JSON: Cannot build {model}, some of required attributes are not set "
                         f"[{', '.join(fields)}]", category="VALIDATION_ERROR")


def check_filter(kind: str, f: Any) -> None:
    if not isinstance(f, dict) or not f.get("propertyName") or not f.get("operator"):
        raise _missing("Filter", ["propertyName", "operator"])
    op, name = f["operator"], f["propertyName"]
    if op not in OPERATORS:
        raise ApiError(400, f"Invalid input JSON: Cannot deserialize value of type `FilterOperatorEnum` from "
                            f"String \"{op}\"", category="VALIDATION_ERROR")
    if name not in PROPERTIES[kind]:
        raise ApiError(400, f"There was a problem with the request: property {name} does not exist on {kind}",
                       category="VALIDATION_ERROR")
    if op == "BETWEEN" and ("value" not in f or "highValue" not in f):
        raise ApiError(400, "BETWEEN needs value and highValue", category="VALIDATION_ERROR")
    if op in ("IN", "NOT_IN") and not isinstance(f.get("values"), list):
        raise ApiError(400, f"{op} needs values", category="VALIDATION_ERROR")
    if op not in ("IN", "NOT_IN", "HAS_PROPERTY", "NOT_HAS_PROPERTY") and "value" not in f:
        raise ApiError(400, f"{op} needs value", category="VALIDATION_ERROR")
    if name in DATE_PROPERTIES:
        for key in ("value", "highValue"):
            if key in f and parse_time(f[key]) is None:
                raise ApiError(400, f"{f[key]!r} is not a valid date for {name}: use epoch milliseconds",
                               category="VALIDATION_ERROR")


def matches(props: dict[str, str | None], f: dict[str, Any]) -> bool:
    op, name = f["operator"], f["propertyName"]
    have = props.get(name) or ""
    if op == "HAS_PROPERTY":
        return have != ""
    if op == "NOT_HAS_PROPERTY":
        return have == ""
    if op in ("CONTAINS_TOKEN", "NOT_CONTAINS_TOKEN"):
        found = str(f["value"]).lower().strip("*") in have.lower()
        return found if op == "CONTAINS_TOKEN" else not found

    def conv(v: Any) -> Any:
        return parse_time(v) if name in DATE_PROPERTIES else str(v)

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


def _sort_key(props: dict[str, str | None], name: str) -> Any:
    if name in DATE_PROPERTIES:
        return parse_time(props.get(name) or "") or dt.datetime.min.replace(tzinfo=UTC)
    return props.get(name) or ""


def _str_list(body: dict[str, Any], key: str) -> list[str]:
    value = body.get(key)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ApiError(400, f"Invalid input JSON: {key} must be a list of strings", category="VALIDATION_ERROR")
    return value


class Crm:
    """HubSpot's CRM objects and their associations (companies, contacts, notes, emails)."""

    def __init__(self, lock: threading.RLock | None = None, now: Callable[[], dt.datetime] | None = None):
        self.lock = lock or threading.RLock()
        self.now = now or (lambda: dt.datetime.now(UTC))
        self.companies: dict[str, dict[str, Any]] = {}  # id -> {props, createdAt}
        self.contacts: dict[str, dict[str, Any]] = {}  # id -> {props, createdAt, companies: [ids], primary}
        self.notes: dict[str, dict[str, Any]] = {}
        self.emails: dict[str, dict[str, Any]] = {}  # id -> {props, createdAt, contacts, companies}
        self._ids = itertools.count(1)

    def _id(self, base: int) -> str:
        return str(base + next(self._ids))

    # -- helpers for tests and the seed -------------------------------------------------------
    def add_company(self, name: str, domain: str | None = None, *, owner_id: str | None = None,
                    lifecycle_stage: str | None = None, properties: dict[str, str] | None = None,
                    default_contact: bool = True) -> str:
        """The company called ``name`` (created if new, with an "Alex Morgan" contact unless
        ``default_contact`` is false), with the given fields set; its id."""
        with self.lock:
            cid = next((i for i, c in self.companies.items() if c["props"]["name"] == name), None)
            if cid is None:
                cid = self._id(5_000_000_000)
                slug = re.sub(r"[^a-z0-9]+", "", name.lower())
                self.companies[cid] = {"props": {"name": name, "domain": domain or f"{slug}.com"},
                                       "createdAt": dt.datetime(2024, 3, 1, tzinfo=UTC)}
                if default_contact:
                    self.add_contact("Alex", f"Morgan ({name})", f"alex@{self.companies[cid]['props']['domain']}",
                                     [cid])
            props = self.companies[cid]["props"]
            if domain:
                props["domain"] = domain
            if owner_id is not None:
                props["hubspot_owner_id"] = owner_id
            if lifecycle_stage is not None:
                props["lifecyclestage"] = lifecycle_stage
            props.update(properties or {})
            return cid

    def add_contact(self, first: str, last: str, email: str | None, companies: Sequence[str] = (),
                    primary: str | None = None) -> str:
        """A contact associated with ``companies`` (ids); ``primary`` (default: the first) is their
        primary company. Its id."""
        with self.lock:
            unknown = [c for c in companies if c not in self.companies]
            if unknown or (primary and primary not in companies):
                raise ValueError(f"unknown companies {unknown} or primary {primary} not among them")
            contact_id = self._id(7_000_000_000)
            props = {"firstname": first, "lastname": last, **({"email": email} if email else {})}
            self.contacts[contact_id] = {"props": props, "createdAt": dt.datetime(2024, 3, 2, tzinfo=UTC),
                                         "companies": list(companies),
                                         "primary": primary or (companies[0] if companies else None)}
            return contact_id

    def primary_contact(self, company_id: str) -> str | None:
        """The first contact whose primary company is ``company_id``."""
        return next((i for i, c in self.contacts.items() if c["primary"] == company_id), None)

    def add_note(self, body: str, at: dt.datetime, company: str | None = None, owner_id: str | None = None) -> str:
        """A note with ``hs_note_body`` = ``body`` at ``at`` on ``company`` (by name); its id."""
        with self.lock:
            company_ids = [self.add_company(company)] if company else []
            nid = self._id(9_000_000_000)
            self.notes[nid] = {"hs_note_body": body, "hs_timestamp": at.astimezone(UTC),
                               "hubspot_owner_id": owner_id or "", "company_ids": company_ids,
                               "createdAt": at.astimezone(UTC)}
            return nid

    # -- properties -------------------------------------------------------------------------
    def store(self, kind: str) -> dict[str, dict[str, Any]]:
        return {"companies": self.companies, "contacts": self.contacts, "notes": self.notes,
                "emails": self.emails}[kind]

    def props(self, kind: str, oid: str) -> dict[str, str | None]:
        """Every property of an object, as HubSpot sends them (strings; None: no value)."""
        record = self.store(kind)[oid]
        created = iso(record["createdAt"])
        if kind == "notes":
            props: dict[str, str | None] = {
                "hs_note_body": record["hs_note_body"], "hs_timestamp": iso(record["hs_timestamp"]),
                "hubspot_owner_id": record["hubspot_owner_id"], "hs_attachment_ids": ""}
        else:
            props = dict(record["props"])
        if kind == "contacts":
            props["associatedcompanyid"] = record["primary"]
        props.update({"hs_object_id": oid, CREATED[kind]: created, MODIFIED[kind]: created})
        return {name: props.get(name) for name in PROPERTIES[kind]}

    def created(self, kind: str, oid: str) -> dt.datetime:
        return self.store(kind)[oid]["createdAt"]

    def object(self, kind: str, oid: str, wanted: Sequence[str] | None, with_history: Sequence[str] = ()
               ) -> dict[str, Any]:
        """A ``SimplePublicObject``: the ``wanted`` properties (else the kind's defaults) and the audit ones."""
        props = self.props(kind, oid)
        keep = set(wanted or DEFAULT_PROPERTIES[kind]) | {"hs_object_id", CREATED[kind], MODIFIED[kind]}
        created = iso(self.created(kind, oid))
        body: dict[str, Any] = {"id": oid, "properties": {k: v for k, v in props.items() if k in keep},
                                "createdAt": created, "updatedAt": created, "archived": False}
        if with_history:
            body["propertiesWithHistory"] = {
                k: [{"value": props[k], "timestamp": created, "sourceType": "API", "sourceId": "sandbox"}]
                for k in with_history if k in props and props[k] is not None}
        return body

    # -- read ---------------------------------------------------------------------------------
    def read(self, kind: str, oid: str, wanted: Sequence[str]) -> dict[str, Any]:
        if oid not in self.store(kind):
            raise ApiError(404, "Object not found.  objectId are usually numeric.", category="OBJECT_NOT_FOUND")
        return self.object(kind, oid, wanted or None)

    def batch_read(self, kind: str, body: Any) -> tuple[int, dict[str, Any]]:
        """``POST /crm/v3/objects/{kind}/batch/read``: (status, answer); 207 when some ids are not found."""
        if not isinstance(body, dict):
            raise ApiError(400, "Invalid input JSON: expected an object", category="VALIDATION_ERROR")
        missing = [k for k in ("inputs", "properties", "propertiesWithHistory") if k not in body]
        if missing:
            raise _missing("BatchReadInputSimplePublicObjectId", missing)
        inputs = body["inputs"]
        if not isinstance(inputs, list) or any(not isinstance(i, dict) or "id" not in i for i in inputs):
            raise ApiError(400, "Invalid input JSON: inputs must be a list of {\"id\": ...}",
                           category="VALIDATION_ERROR")
        if len(inputs) > 100:
            raise ApiError(400, "Batch input too large: at most 100 inputs", category="VALIDATION_ERROR")
        if body.get("idProperty") not in (None, "", "hs_object_id"):
            raise ApiError(400, f"The sandbox reads {kind} by id only, not by {body['idProperty']}",
                           category="VALIDATION_ERROR")
        wanted, history = _str_list(body, "properties"), _str_list(body, "propertiesWithHistory")
        found, absent = [], []
        for i in inputs:
            oid = str(i["id"])
            if oid in self.store(kind):
                found.append(self.object(kind, oid, wanted or None, history))
            else:
                absent.append(oid)
        now = iso(self.now())
        answer: dict[str, Any] = {"status": "COMPLETE", "results": found, "startedAt": now, "completedAt": now}
        if not absent:
            return 200, answer
        singular = kind.rstrip("s").upper().replace("COMPANIE", "COMPANY")
        answer.update(numErrors=1, errors=[{
            "status": "error", "category": "OBJECT_NOT_FOUND", "context": {"ids": absent},
            "message": f"Could not get some {singular} objects, they may be deleted or not exist. "
                       "Check that ids are valid."}])
        return 207, answer

    # -- search -------------------------------------------------------------------------------
    def search(self, kind: str, body: Any) -> dict[str, Any]:
        """``POST /crm/v3/objects/{kind}/search`` (``PublicObjectSearchRequest``)."""
        if not isinstance(body, dict):
            raise ApiError(400, "Invalid input JSON: expected an object", category="VALIDATION_ERROR")
        groups = body.get("filterGroups") or []
        if not isinstance(groups, list) or len(groups) > MAX_GROUPS:
            raise ApiError(400, f"Too many filter groups: at most {MAX_GROUPS}", category="VALIDATION_ERROR")
        for g in groups:
            filters = g.get("filters") if isinstance(g, dict) else None
            if not isinstance(filters, list) or len(filters) > MAX_FILTERS_PER_GROUP:
                raise ApiError(400, "Each filter group needs a list of at most "
                                    f"{MAX_FILTERS_PER_GROUP} filters", category="VALIDATION_ERROR")
            for f in filters:
                check_filter(kind, f)
        if sum(len(g["filters"]) for g in groups) > MAX_FILTERS:
            raise ApiError(400, f"Too many filters: at most {MAX_FILTERS} in total", category="VALIDATION_ERROR")
        limit = body.get("limit", 10)
        if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= 200:
            raise ApiError(400, "limit must be between 1 and 200", category="VALIDATION_ERROR")
        after = body.get("after") or "0"
        if not str(after).isdigit():
            raise ApiError(400, f"Invalid after value: {after}", category="VALIDATION_ERROR")
        wanted = body.get("properties") or None
        rows = [oid for oid in self.store(kind) if not groups or any(
            all(matches(self.props(kind, oid), f) for f in g["filters"]) for g in groups)]
        if query := body.get("query"):
            rows = [o for o in rows if any(str(query).lower() in (self.props(kind, o).get(p) or "").lower()
                                           for p in QUERY_PROPERTIES[kind])]
        rows.sort(key=int)
        for s in reversed(body.get("sorts") or []):
            name, desc = (s.get("propertyName"), s.get("direction") == "DESCENDING") if isinstance(s, dict) else (
                str(s).lstrip("-"), str(s).startswith("-"))
            if name not in PROPERTIES[kind]:
                raise ApiError(400, f"Cannot sort on unknown property {name}", category="VALIDATION_ERROR")
            rows.sort(key=lambda o: _sort_key(self.props(kind, o), name), reverse=desc)
        start = int(after)
        result: dict[str, Any] = {"total": len(rows),
                                  "results": [self.object(kind, o, wanted) for o in rows[start:start + limit]]}
        if start + limit < len(rows):
            result["paging"] = {"next": {"after": str(start + limit), "link": f"?after={start + limit}"}}
        return result

    # -- associations (v4) ----------------------------------------------------------------------
    def associations(self, kind: str, oid: str, to: str) -> list[dict[str, Any]]:
        """``MultiAssociatedObjectWithLabel`` rows from one object to the objects of kind ``to``."""
        if oid not in self.store(kind):
            raise ApiError(404, f"Object {oid} of type {kind} not found.", category="OBJECT_NOT_FOUND")
        links: list[tuple[str, list[tuple[int, str | None]]]] = []
        if (kind, to) == ("notes", "companies"):
            links = [(c, [(NOTE_TO_COMPANY, None)]) for c in self.notes[oid]["company_ids"]]
        elif (kind, to) == ("companies", "notes"):
            links = [(n, [(COMPANY_TO_NOTE, None)]) for n, note in self.notes.items() if oid in note["company_ids"]]
        elif (kind, to) == ("contacts", "companies"):
            contact = self.contacts[oid]
            links = [(c, [(CONTACT_TO_PRIMARY_COMPANY, PRIMARY)] * (c == contact["primary"])
                      + [(CONTACT_TO_COMPANY, None)]) for c in contact["companies"]]
        elif (kind, to) == ("companies", "contacts"):
            links = [(p, [(COMPANY_TO_PRIMARY_CONTACT, PRIMARY)] * (c["primary"] == oid) + [(COMPANY_TO_CONTACT, None)])
                     for p, c in self.contacts.items() if oid in c["companies"]]
        elif kind == "emails" and to in ("contacts", "companies"):
            type_id = EMAIL_TO_CONTACT if to == "contacts" else EMAIL_TO_COMPANY
            links = [(o, [(type_id, None)]) for o in self.emails[oid][to]]
        elif to == "emails" and kind in ("contacts", "companies"):
            type_id = CONTACT_TO_EMAIL if kind == "contacts" else COMPANY_TO_EMAIL
            links = [(e, [(type_id, None)]) for e, email in self.emails.items() if oid in email[kind]]
        elif kind != to:
            raise ApiError(400, f"The sandbox does not model associations {kind} -> {to}",
                           category="VALIDATION_ERROR")
        return [{"toObjectId": int(o), "associationTypes": [{"category": "HUBSPOT_DEFINED", "typeId": t, "label": label}
                                                            for t, label in types]} for o, types in links]

    # -- create (emails) ----------------------------------------------------------------------
    def create_email(self, body: Any) -> dict[str, Any]:
        """``POST /crm/v3/objects/emails`` (``SimplePublicObjectInputForCreate``): the new email."""
        if not isinstance(body, dict) or not isinstance(body.get("properties"), dict):
            raise _missing("SimplePublicObjectInputForCreate", ["properties"])
        given = {str(k): ("" if v is None else str(v).lower() if isinstance(v, bool) else str(v))
                 for k, v in body["properties"].items()}
        problems = []
        for name, value in given.items():
            if name not in PROPERTIES["emails"]:
                problems.append(_problem(name, "PROPERTY_DOESNT_EXIST", f'Property "{name}" does not exist'))
            elif name in EMAIL_READ_ONLY:
                problems.append(_problem(name, "READ_ONLY_VALUE",
                                         f"{name} is a read only property; its value cannot be set."))
            elif name in EMAIL_OPTIONS and value and value not in EMAIL_OPTIONS[name]:
                problems.append(_problem(name, "INVALID_OPTION", f"{value} was not one of the allowed options: "
                                                                 f"{list(EMAIL_OPTIONS[name])}"))
        if "hs_timestamp" not in given:
            problems.append(_problem("hs_timestamp", "REQUIRED", "hs_timestamp is required"))
        elif parse_time(given["hs_timestamp"]) is None:
            problems.append(_problem("hs_timestamp", "INVALID_DATE",
                                     f"{given['hs_timestamp']} is not a valid timestamp: epoch milliseconds or ISO"))
        headers: dict[str, Any] = {}
        if given.get("hs_email_headers"):
            try:
                headers = json.loads(given["hs_email_headers"])
            except ValueError:
                headers = None  # type: ignore[assignment]
            if not isinstance(headers, dict):
                headers = {}
                problems.append(_problem("hs_email_headers", "INVALID_JSON",
                                         f"{given['hs_email_headers'][:80]} is not valid JSON"))
        if problems:
            raise _invalid(problems)
        links: dict[str, list[str]] = {"contacts": [], "companies": []}
        for a in body.get("associations") or []:
            to = str(((a or {}).get("to") or {}).get("id") or "")
            types = (a or {}).get("types") or []
            if not to or not types:
                raise _missing("PublicAssociationsForObject", ["to", "types"])
            for t in types:
                type_id, category = (t or {}).get("associationTypeId"), (t or {}).get("associationCategory")
                number = int(str(type_id)) if str(type_id).isdigit() else None  # JSON's 198 or "198"
                target = {EMAIL_TO_CONTACT: "contacts", EMAIL_TO_COMPANY: "companies"}.get(number or 0)
                if category != "HUBSPOT_DEFINED" or target is None:
                    raise ApiError(400, f"{category} association type {type_id} is not valid from emails "
                                        "(the sandbox knows 198 to contacts and 186 to companies)",
                                   category="VALIDATION_ERROR")
                if to not in self.store(target):
                    raise ApiError(400, f"One or more associations are invalid: {target} {to} does not exist",
                                   category="VALIDATION_ERROR")
                if to not in links[target]:
                    links[target].append(to)
        with self.lock:
            eid = self._id(6_000_000_000)
            given["hs_timestamp"] = iso(parse_time(given["hs_timestamp"]))  # type: ignore[arg-type]
            given.update(_header_properties(headers))
            self.emails[eid] = {"props": given, "createdAt": self.now(), **links}
            return self.object("emails", eid, list(given))


def _header_properties(headers: dict[str, Any]) -> dict[str, str]:
    """The read-only properties HubSpot fills from ``hs_email_headers`` (recipients joined by ``;``,
    an UNCONFIRMED detail)."""
    props: dict[str, str] = {}
    for role in ("from", "sender"):
        person = headers.get(role)
        if isinstance(person, dict):
            for key, suffix in (("email", "email"), ("firstName", "firstname"), ("lastName", "lastname")):
                if person.get(key):
                    props[f"hs_email_{role}_{suffix}"] = str(person[key])
    to = [p for p in headers.get("to") or [] if isinstance(p, dict)]
    for key, suffix in (("email", "email"), ("firstName", "firstname"), ("lastName", "lastname")):
        values = [str(p.get(key) or "") for p in to]
        if any(values):
            props[f"hs_email_to_{suffix}"] = ";".join(values)
    return props
