"""Google Calendar v3 and Gmail v1 (and the OAuth token endpoint), under /google.

Served paths (below ``/google``), as Google serves them below its hosts:

* ``POST /token``: the OAuth 2.0 JWT-bearer grant a service account with domain-wide delegation
  makes (``google-auth``); the JWT must be signed by the key this sandbox generated, its ``sub``
  is the user the access token acts as, its ``scope`` must be within the delegation granted;
* ``/calendar/v3/calendars/{calendarId}/events[/{eventId}[/instances]]``: list, get, insert,
  patch, update, delete, instances;
* ``/gmail/v1/users/{userId}/settings/vacation`` (GET, PUT), ``/gmail/v1/users/{userId}/messages``
  (list with ``q``, get), ``/gmail/v1/users/{userId}/messages/send``.

Calendar model: an event lives on its organizer's calendar and appears, with the same id, on the
calendar of every attendee (``attendees[].self`` marks the viewer's entry); an attendee's RSVP
changes the status everyone sees; ``extendedProperties.private`` is per copy. Recurring events
(``RRULE`` DAILY/WEEKLY) are expanded into instances (``<id>_<UTC stamp>``) with
``singleEvents=true``; changing an instance stores an exception, which a list without
``singleEvents`` shows beside its series. An out-of-office event (recurring too) with an
auto-decline mode declines the owner's conflicting invitations (existing ones for
``declineAllConflictingInvitations``, and new ones), with its ``declineMessage`` as the comment.

Incremental sync, as Google documents it ("Synchronize resources efficiently", and the discovery
document's ``syncToken``): the last page of an ``events.list`` carries ``nextSyncToken`` (the other
pages ``nextPageToken``; a paged list is served from a snapshot taken at its first page, so an
event changed meanwhile comes in the next sync instead of shifting the pages); ``syncToken`` then
lists only what changed on that calendar since: created, updated and deleted events, the deleted
ones (and invitations removed from it) as ``status: cancelled`` with only ``id`` (and an
instance's ``recurringEventId``/``originalStartTime``) unless ``showDeleted=true``. ``iCalUID``,
``orderBy``, ``privateExtendedProperty``, ``q``, ``sharedExtendedProperty``, ``timeMin``,
``timeMax``, ``updatedMin`` and ``showDeleted=false`` with a ``syncToken`` are a 400; an expired or
unknown token is a 410 ``fullSyncRequired``. ``POST /_sandbox/google/expire-sync-tokens``
(``{"user": "<email>"}`` or ``{"all": true}``) expires tokens, as Google may at any time.

Vendor faults (``sandbox.core.Faults``): ``403_rateLimitExceeded`` and
``403_userRateLimitExceeded`` answer as Google throttles (domain ``usageLimits``);
``search_lag`` keeps a sent message out of Gmail's ``q`` searches for that many seconds.
"""

from __future__ import annotations

import base64
import copy
import datetime as dt
import hashlib
import html
import itertools
import json
import re
import secrets
import threading
import time
from email import policy
from email.parser import BytesParser
from email.utils import getaddresses, parseaddr
from typing import Any
from zoneinfo import ZoneInfo

from sandbox.core import Api, ApiError, Faults, Request, Response
from sandbox.scenario import CLIENTS, client_contact

AUTH = "https://www.googleapis.com/auth/"
CLIENT_EMAIL = "ooo-pipelines@ooo-sandbox.iam.gserviceaccount.com"
CLIENT_ID = "104242424242424242424"
#: What the sandbox's "admin console" grants the service account (domain-wide delegation).
DELEGATED_SCOPES = frozenset(
    AUTH + s for s in ("calendar.events", "gmail.settings.basic", "gmail.send", "gmail.readonly")
)
#: The scopes each method accepts (Google's discovery documents).
SCOPES = {
    "calendar.read": {AUTH + s for s in ("calendar", "calendar.readonly", "calendar.events",
                                          "calendar.events.readonly", "calendar.events.owned")},
    "calendar.write": {AUTH + s for s in ("calendar", "calendar.events", "calendar.events.owned")},
    "vacation.get": {"https://mail.google.com/"} | {AUTH + s for s in ("gmail.modify", "gmail.readonly",
                                                                       "gmail.settings.basic")},
    "vacation.put": {AUTH + "gmail.settings.basic"},
    "send": {"https://mail.google.com/"} | {AUTH + s for s in ("gmail.send", "gmail.compose", "gmail.modify")},
    "messages.read": {"https://mail.google.com/"} | {AUTH + s for s in ("gmail.modify", "gmail.readonly",
                                                                        "gmail.metadata")},
}
GLOBAL_PARAMS = {"alt", "fields", "prettyPrint", "quotaUser", "key", "oauth_token", "userIp", "$.xgafv",
                 "access_token", "callback", "upload_protocol", "uploadType"}
EVENT_TYPES = ("default", "outOfOffice", "focusTime", "workingLocation", "birthday", "fromGmail")
DECLINE_MODES = ("declineNone", "declineAllConflictingInvitations", "declineOnlyNewConflictingInvitations")
RESPONSES = ("needsAction", "declined", "tentative", "accepted")
_ID = re.compile(r"^[a-v0-9]{5,1024}$")
_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$", re.I)
_LOCAL = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_WEEKDAYS = {"MO": 0, "TU": 1, "WE": 2, "TH": 3, "FR": 4, "SA": 5, "SU": 6}
_STATUS_NAMES = {400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED", 404: "NOT_FOUND",
                 405: "METHOD_NOT_ALLOWED", 409: "ALREADY_EXISTS", 410: "NOT_FOUND", 412: "FAILED_PRECONDITION",
                 429: "RESOURCE_EXHAUSTED", 500: "INTERNAL", 503: "UNAVAILABLE"}
_REASONS = {400: "badRequest", 401: "authError", 403: "forbidden", 404: "notFound", 405: "httpMethodNotAllowed",
            409: "duplicate", 410: "deleted", 412: "conditionNotMet", 429: "rateLimitExceeded",
            500: "backendError", 503: "backendError"}
#: Writable by an attendee on their own copy; everything else is the organizer's.
_ATTENDEE_FIELDS = {"attendees", "attendeesOmitted", "reminders", "colorId", "transparency",
                    "extendedProperties", "id", "kind", "etag"}
_READ_ONLY = {"kind", "etag", "htmlLink", "created", "updated", "creator", "iCalUID", "recurringEventId",
              "originalStartTime", "organizer", "sequence"}
#: events.list parameters Google refuses beside a syncToken (its discovery document).
_NOT_WITH_SYNC = ("iCalUID", "orderBy", "privateExtendedProperty", "q", "sharedExtendedProperty", "timeMin",
                  "timeMax", "updatedMin")
#: Google's throttling answers (its Calendar and Gmail error guides): fault kind -> reason, message.
THROTTLE_403 = {"403_rateLimitExceeded": ("rateLimitExceeded", "Rate Limit Exceeded"),
                "403_userRateLimitExceeded": ("userRateLimitExceeded", "User Rate Limit Exceeded")}
_SNAPSHOTS_KEPT = 64  # paged lists whose later pages can still be read

_KEY_LOCK = threading.Lock()
_KEY: Any = None


def service_account_key() -> Any:
    """The sandbox's service-account RSA key: generated once per process (it takes ~50 ms)."""
    global _KEY
    with _KEY_LOCK:
        if _KEY is None:
            from cryptography.hazmat.primitives.asymmetric import rsa

            _KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        return _KEY


def _b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def _stamp(moment: dt.datetime) -> str:
    return moment.astimezone(dt.timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def event_id(*parts: str) -> str:
    """A valid, deterministic Calendar event id (hex is a subset of base32hex)."""
    return hashlib.sha256("/".join(parts).encode()).hexdigest()[:26]


class GoogleApi(Api):
    name = "google"
    title = "Google Workspace"
    fault_kinds = tuple(THROTTLE_403)

    def __init__(self, sandbox: Any):
        super().__init__(sandbox)
        self.key = service_account_key()
        self.key_id = hashlib.sha1(self._public_pem()).hexdigest()
        self.granted_scopes: set[str] = set(DELEGATED_SCOPES)
        self.revoked: set[str] = set()  # users whose delegation was withdrawn (suspended, say)
        self.tokens: dict[str, dict[str, Any]] = {}
        self.calendars: dict[str, dict[str, dict[str, Any]]] = {}  # owner -> id -> stored event
        self.reserved: dict[str, set[str]] = {}  # owner -> every id ever used (deleted ones too)
        self.vacations: dict[str, dict[str, Any]] = {}
        self.messages: list[dict[str, Any]] = []
        # Every change people would be told of, in order: an attendee's answer changing (the organiser
        # gets a notice each time) and a vacation responder switched on or off. A repeated write that
        # changes nothing is not in it, as Google sends no second notice for it.
        self.history: list[dict[str, Any]] = []
        self.timezones: dict[str, str] = {p.email: p.timezone for p in sandbox.team.people}
        self._counter = 0
        self._seq = 0  # bumped by every change to an event: what a sync token remembers
        self.sync_tokens: dict[str, tuple[str, int, int]] = {}  # token -> calendar, seq, generation
        self.sync_generation: dict[str, int] = {}  # calendar -> generation (expiring bumps it)
        self._snapshots: dict[str, tuple[list[dict[str, Any]], int]] = {}  # paged list -> items, seq
        self._snapshot_ids = itertools.count(1)

    # == the frame's interface ==================================================================
    def error(self, status: int, message: str, retry_after: int | None = None, **details: Any) -> Response:
        reason = details.pop("reason", None) or _REASONS.get(status, "backendError")
        domain = details.pop("domain", None) or ("usageLimits" if status == 429 else "global")
        item: dict[str, Any] = {"message": message, "domain": domain, "reason": reason}
        for name in ("location", "locationType"):
            if name in details:
                item[name] = details.pop(name)
        if status == 401 and "location" not in item:
            item.update(location="Authorization", locationType="header")
        body = {"error": {"code": status, "message": message, "errors": [item],
                          "status": _STATUS_NAMES.get(status, "UNKNOWN")}}
        headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
        return Response(status, body, headers)

    def fault_response(self, kind: str, faults: Faults) -> Response | None:
        if kind not in THROTTLE_403:
            return None
        reason, message = THROTTLE_403[kind]
        return self.error(403, message, reason=reason, domain="usageLimits")

    def admin(self, method: str, parts: list[str], body: Any) -> Response | None:
        if method == "POST" and parts == ["expire-sync-tokens"]:
            if not isinstance(body, dict) or not (set(body) == {"user"} and isinstance(body["user"], str)
                                                  or body == {"all": True}):
                return Response(400, {"error": 'send {"user": "<email>"} or {"all": true}'})
            user = body.get("user")
            if user is not None and user.lower() not in self.timezones:
                return Response(400, {"error": f"{user} has no calendar in this sandbox"})
            return Response(200, {"expired": self.expire_sync_tokens(user)})
        return None

    def connection(self, base_url: str) -> dict[str, Any]:
        from cryptography.hazmat.primitives import serialization

        pem = self.key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                     serialization.NoEncryption()).decode()
        keyfile = {
            "type": "service_account",
            "project_id": "ooo-sandbox",
            "private_key_id": self.key_id,
            "private_key": pem,
            "client_email": CLIENT_EMAIL,
            "client_id": CLIENT_ID,
            "auth_uri": "https://accounts.google.com/o/oauth2/auth",
            "token_uri": base_url + "/google/token",
        }
        return {"ooo_google": {
            "conn_type": "google_cloud_platform",
            "extra": {
                "keyfile_dict": json.dumps(keyfile),
                "scope": ",".join(sorted(DELEGATED_SCOPES)),
                "api_endpoint_base": base_url + "/google/",
                "num_retries": 3,
            },
        }}

    def handle(self, req: Request) -> Response:
        path = req.path.rstrip("/") if req.path != "/" else req.path
        if path == "/token":
            if req.method != "POST":
                raise ApiError(405, "Method Not Allowed")
            return self._token(req)
        parts = [p for p in path.split("/") if p]
        if parts[:2] == ["calendar", "v3"]:
            return self._calendar(req, parts[2:])
        if parts[:2] == ["gmail", "v1"]:
            return self._gmail(req, parts[2:])
        raise ApiError(404, f"Not Found: {req.path}", reason="notFound")

    # == test and scenario helpers ==============================================================
    def add_event(self, calendar: str, event: dict[str, Any]) -> dict[str, Any]:
        """Insert ``event`` on ``calendar`` as its owner would (same checks as events.insert)."""
        with self.sandbox.lock:
            stored = self._insert(calendar.lower(), copy.deepcopy(event))
            return self._view(stored, calendar.lower())

    def list_events(self, calendar: str, time_min: dt.datetime | None = None,
                    time_max: dt.datetime | None = None, single_events: bool = True) -> list[dict[str, Any]]:
        """What ``calendar`` shows (as events.list would), for assertions."""
        with self.sandbox.lock:
            return [self._view(e, calendar.lower())
                    for e in self._visible(calendar.lower(), single_events, time_min, time_max)]

    def get_event(self, calendar: str, event_id: str) -> dict[str, Any] | None:
        with self.sandbox.lock:
            found = self._lookup(calendar.lower(), event_id)
            return self._view(found, calendar.lower()) if found else None

    def response_of(self, calendar: str, event_id: str, attendee: str) -> str | None:
        event = self.get_event(calendar, event_id)
        for a in (event or {}).get("attendees", []):
            if a["email"] == attendee.lower():
                return a.get("responseStatus")
        return None

    def set_response(self, calendar: str, event_id: str, attendee: str, status: str, comment: str = "") -> None:
        with self.sandbox.lock:
            target = self._lookup(calendar.lower(), event_id, materialize=True)
            if target is None:
                raise KeyError(event_id)
            for a in target.get("attendees", []):
                if a["email"] == attendee.lower():
                    self._answered(target, a, status)
                    if comment:
                        a["comment"] = comment
            self._touch(target)

    def expire_sync_tokens(self, user: str | None = None) -> int:
        """Expire the sync tokens of ``user``'s calendar (every calendar's when None): the next sync
        with one is a 410 ``fullSyncRequired``. How many tokens were expired."""
        with self.sandbox.lock:
            calendars = {user.lower()} if user else set(self.timezones) | {c for c, _, _ in self.sync_tokens.values()}
            for calendar in calendars:
                self.sync_generation[calendar] = self.sync_generation.get(calendar, 0) + 1
            expired = [t for t, (c, _, _) in self.sync_tokens.items() if c in calendars]
            for token in expired:
                del self.sync_tokens[token]
            return len(expired)

    def out_of_office(self, calendar: str | None = None) -> list[dict[str, Any]]:
        """Out-of-office events (not cancelled; a recurring one as its series), on ``calendar`` or on
        every calendar, each with ``calendar``: for assertions and the page."""
        wanted = calendar.lower() if calendar else None
        with self.sandbox.lock:
            return [{**self._view(e, owner), "calendar": owner}
                    for owner, events in sorted(self.calendars.items()) if wanted in (None, owner)
                    for e in events.values()
                    if e.get("eventType") == "outOfOffice" and e.get("status") != "cancelled"]

    def sent(self, sender: str | None = None) -> list[dict[str, Any]]:
        """Mail sent through messages.send (parsed), optionally only ``sender``'s."""
        with self.sandbox.lock:
            return [copy.deepcopy(m) for m in self.messages if sender is None or m["user"] == sender.lower()]

    def mailbox(self, user: str) -> list[dict[str, Any]]:
        """What ``user``'s mailbox holds (sent by or to them), oldest first (parsed copies)."""
        with self.sandbox.lock:
            return [copy.deepcopy(m) for m in self.messages if self._in_mailbox(m, user.lower())]

    def vacation(self, user: str) -> dict[str, Any]:
        with self.sandbox.lock:
            return self._vacation_view(user.lower())

    def set_vacation(self, user: str, settings: dict[str, Any]) -> None:
        with self.sandbox.lock:
            before = bool(self.vacations.get(user.lower(), {}).get("enableAutoReply"))
            self.vacations[user.lower()] = {**self._vacation_view(user.lower()), **settings}
            self._vacation_changed(user.lower(), before)

    def changes(self, what: str) -> list[dict[str, Any]]:
        """The :attr:`history` entries of one kind: ``response`` or ``vacation`` (copies)."""
        with self.sandbox.lock:
            return [dict(h) for h in self.history if h["what"] == what]

    def _answered(self, event: dict[str, Any], attendee: dict[str, Any], status: str) -> None:
        """Set an attendee's answer, noting it in the history when it changes."""
        if attendee.get("responseStatus", "needsAction") != status:
            self.history.append({"what": "response", "event": event["id"], "attendee": attendee["email"],
                                 "status": status, "at": _stamp(_now())})
        attendee["responseStatus"] = status

    def _vacation_changed(self, user: str, before: bool) -> None:
        after = bool(self.vacations.get(user, {}).get("enableAutoReply"))
        if after != before:
            self.history.append({"what": "vacation", "user": user, "enabled": after, "at": _stamp(_now())})

    def revoke_delegation(self, user: str) -> None:
        """Withdraw the service account's right to act as ``user`` (tokens die, new ones refused)."""
        with self.sandbox.lock:
            self.revoked.add(user.lower())

    def token_requests(self) -> int:
        return self._counter

    # == OAuth token endpoint ===================================================================
    def _token(self, req: Request) -> Response:
        def refuse(status: int, error: str, description: str) -> Response:
            return Response(status, {"error": error, "error_description": description})

        form_encoded = req.content_type == "application/x-www-form-urlencoded"
        form = {k: v[0] for k, v in req.form().items()} if form_encoded else {}
        if form.get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer":
            return refuse(400, "unsupported_grant_type", "Invalid grant_type: " + str(form.get("grant_type")))
        assertion = form.get("assertion", "")
        try:
            head_b64, body_b64, sig_b64 = assertion.split(".")
            header = json.loads(_b64url_decode(head_b64))
            claims = json.loads(_b64url_decode(body_b64))
            signature = _b64url_decode(sig_b64)
        except ValueError:
            return refuse(400, "invalid_grant",
                          "Invalid JWT: Token must be a short-lived token and in a reasonable timeframe.")
        if header.get("alg") != "RS256" or not self._signed_by_us(f"{head_b64}.{body_b64}".encode(), signature):
            return refuse(400, "invalid_grant", "Invalid JWT Signature.")
        if claims.get("iss") != CLIENT_EMAIL:
            return refuse(400, "invalid_grant", "Invalid issuer: not a service account of this project.")
        now = time.time()
        if not (isinstance(claims.get("exp"), int) and claims["exp"] > now and claims.get("iat", 0) <= now + 300
                and claims["exp"] - claims.get("iat", 0) <= 3600):
            return refuse(400, "invalid_grant", "Invalid JWT: Token must be a short-lived token (60 minutes) "
                                                "and in a reasonable timeframe.")
        scopes = set((claims.get("scope") or "").split())
        if not scopes:
            return refuse(400, "invalid_scope", "Invalid OAuth scope or ID token audience provided.")
        subject = (claims.get("sub") or "").lower()
        if subject:
            if subject not in self.timezones:
                return refuse(400, "invalid_grant", "Invalid email or User ID")
            if subject in self.revoked or not scopes <= self.granted_scopes:
                return refuse(401, "unauthorized_client", "Client is unauthorized to retrieve access tokens "
                                                          "using this method, or client not authorized for any "
                                                          "of the scopes requested.")
        self._counter += 1
        token = "ya29.sandbox-" + secrets.token_urlsafe(24)
        self.tokens[token] = {"user": subject or None, "scopes": scopes, "expires": now + 3600}
        return Response(200, {"access_token": token, "expires_in": 3599, "token_type": "Bearer"})

    def _signed_by_us(self, data: bytes, signature: bytes) -> bool:
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding

        try:
            self.key.public_key().verify(signature, data, padding.PKCS1v15(), hashes.SHA256())
            return True
        except InvalidSignature:
            return False

    def _public_pem(self) -> bytes:
        from cryptography.hazmat.primitives import serialization

        return self.key.public_key().public_bytes(serialization.Encoding.PEM,
                                                  serialization.PublicFormat.SubjectPublicKeyInfo)

    def _auth(self, req: Request, need: str) -> str | None:
        """The user the bearer token acts as (None: the service account itself)."""
        header = req.headers.get("authorization", "")
        if not header:
            raise ApiError(401, "Request is missing required authentication credential. Expected OAuth 2 "
                                "access token, login cookie or other valid authentication credential.",
                           reason="required")
        token = self.tokens.get(header[7:] if header.lower().startswith("bearer ") else "")
        if token is None or token["expires"] < time.time() or token["user"] in self.revoked:
            raise ApiError(401, "Invalid Credentials")
        if not token["scopes"] & SCOPES[need]:
            raise ApiError(403, "Request had insufficient authentication scopes.", reason="insufficientPermissions")
        return token["user"]

    def _check_params(self, req: Request, allowed: set[str]) -> None:
        for name in req.query:
            if name not in allowed and name not in GLOBAL_PARAMS:
                raise ApiError(400, f"Invalid JSON payload received. Unknown name \"{name}\": Cannot bind "
                                    "query parameter.", reason="invalidParameter", location=name,
                               locationType="parameter")

    # == Calendar v3 ============================================================================
    def _calendar(self, req: Request, parts: list[str]) -> Response:
        if len(parts) < 3 or parts[0] != "calendars" or parts[2] != "events" or len(parts) > 5:
            raise ApiError(404, "Not Found", reason="notFound")
        if len(parts) == 5 and parts[4] != "instances":
            raise ApiError(404, "Not Found", reason="notFound")
        write = req.method in ("POST", "PATCH", "PUT", "DELETE")
        user = self._auth(req, "calendar.write" if write else "calendar.read")
        owner = user or CLIENT_EMAIL
        calendar = parts[1].lower()
        if calendar == "primary":
            calendar = owner
        if calendar != owner:
            raise ApiError(404, "Not Found", reason="notFound")
        if len(parts) == 3:
            if req.method == "GET":
                return self._events_list(req, calendar)
            if req.method == "POST":
                return self._events_insert(req, calendar)
            raise ApiError(405, "Method Not Allowed")
        event_id_ = parts[3]
        if len(parts) == 5:
            if req.method != "GET":
                raise ApiError(405, "Method Not Allowed")
            return self._instances(req, calendar, event_id_)
        if req.method == "GET":
            self._check_params(req, {"maxAttendees", "timeZone", "alwaysIncludeEmail"})
            found = self._lookup(calendar, event_id_)
            if found is None:
                raise ApiError(404, "Not Found", reason="notFound")
            return Response(200, self._view(found, calendar))
        if req.method in ("PATCH", "PUT"):
            return self._events_patch(req, calendar, event_id_, replace=req.method == "PUT")
        if req.method == "DELETE":
            return self._events_delete(req, calendar, event_id_)
        raise ApiError(405, "Method Not Allowed")

    def _send_updates(self, req: Request) -> None:
        value = req.arg("sendUpdates")
        if value is not None and value not in ("all", "externalOnly", "none"):
            raise ApiError(400, f"Invalid value for sendUpdates: {value}", reason="invalidParameter",
                           location="sendUpdates", locationType="parameter")

    def _events_list(self, req: Request, calendar: str) -> Response:
        self._check_params(req, {"timeMin", "timeMax", "singleEvents", "orderBy", "maxResults", "pageToken",
                                 "eventTypes", "q", "showDeleted", "iCalUID", "showHiddenInvitations",
                                 "maxAttendees", "timeZone", "updatedMin", "syncToken", "alwaysIncludeEmail",
                                 "privateExtendedProperty", "sharedExtendedProperty"})
        single = _bool(req, "singleEvents")
        show_deleted = _bool(req, "showDeleted")
        order = req.arg("orderBy")
        if order not in (None, "startTime", "updated"):
            raise ApiError(400, f"Invalid value for orderBy: {order}", reason="invalidParameter",
                           location="orderBy", locationType="parameter")
        if order == "startTime" and not single:
            raise ApiError(400, "The requested ordering is not available for the particular query.",
                           reason="badRequest")
        time_min = _rfc3339(req.arg("timeMin"), "timeMin")
        time_max = _rfc3339(req.arg("timeMax"), "timeMax")
        updated_min = _rfc3339(req.arg("updatedMin"), "updatedMin")
        if time_min and time_max and time_max <= time_min:
            raise ApiError(400, "The specified time range is empty.", reason="timeRangeEmpty",
                           domain="calendar", location="timeMax", locationType="parameter")
        size = _int(req, "maxResults", 250, 1, 2500)
        types = req.query.get("eventTypes")
        for t in types or ():
            if t not in EVENT_TYPES:
                raise ApiError(400, f"Invalid value for eventTypes: {t}", reason="invalidParameter")
        sync_token = req.arg("syncToken")
        since = None
        if sync_token is not None:
            # Message and reason as Google answers them (reported by users; not in Google's docs).
            if any(req.arg(name) is not None for name in _NOT_WITH_SYNC) or req.arg("showDeleted") == "false":
                raise ApiError(400, "Sync token cannot be used with other request restrictions.",
                               reason="syncTokenWithRequestRestrictions", domain="calendar")
            since = self._sync_point(calendar, sync_token)

        def every_item() -> list[dict[str, Any]]:
            if since is not None:
                return self._changes(calendar, since, single, show_deleted, types)
            events = self._visible(calendar, single, time_min, time_max, show_deleted or updated_min is not None)
            if types:
                events = [e for e in events if e.get("eventType", "default") in types]
            if updated_min is not None:  # deleted ones come too, whatever showDeleted says (Google's docs)
                events = [e for e in events if _rfc3339(e["updated"], "updated") >= updated_min]
            if req.arg("q"):
                words = req.arg("q", "").lower().split()
                events = [e for e in events if all(w in json.dumps([e.get("summary"), e.get("description"),
                                                                     e.get("location")]).lower() for w in words)]
            if req.arg("iCalUID"):
                events = [e for e in events if e.get("iCalUID") == req.arg("iCalUID")]
            for param in ("privateExtendedProperty", "sharedExtendedProperty"):
                for wanted in req.query.get(param) or ():  # propertyName=value, all must match
                    name, sep, value = wanted.partition("=")
                    if not sep or not name:
                        raise ApiError(400, "Invalid extended property constraint.", reason="invalid")
                    events = [e for e in events if self._properties(e, calendar, param).get(name) == value]
            if order == "updated":
                events.sort(key=lambda e: (e["updated"], e["id"]))
            return [self._change_view(e, calendar, show_deleted) for e in events]

        items, page_token, seq = self._events_page(req, every_item, size)
        body = {"kind": "calendar#events", "etag": f'"{secrets.token_hex(8)}"', "summary": calendar,
                "description": "", "updated": _stamp(_now()), "timeZone": self._tz(calendar),
                "accessRole": "owner", "defaultReminders": [{"method": "popup", "minutes": 10}], "items": items}
        if page_token:
            body["nextPageToken"] = page_token
        elif sync_token is not None and not items and req.arg("pageToken") is None:
            body["nextSyncToken"] = sync_token  # nothing changed: the same token (as users report Google does)
        elif order is None:
            # A full sync bounded by timeMin (Google's own sample does that) gets its token too; a list
            # ordered by orderBy gets none (reported by users of Google's clients; UNCONFIRMED by Google).
            body["nextSyncToken"] = self._sync_token(calendar, seq)
        return Response(200, body)

    # -- paging and incremental sync -----------------------------------------------------------
    def _events_page(self, req: Request, every_item: Any, size: int) -> tuple[list[Any], str | None, int]:
        """One page of an events.list, its next page token and the change point the list shows; the
        first page of a list that needs more keeps its items (and point) for the pages after it."""
        query = json.dumps(sorted((k, v) for k, v in req.query.items() if k not in ("pageToken", "maxResults")))
        digest = hashlib.sha1(query.encode()).hexdigest()[:10]
        token = req.arg("pageToken")
        snapshot_id = ""
        if token:
            try:
                mark, snapshot_id, start = _b64url_decode(token).decode().split(":")
                offset = int(start)
                if mark != digest or snapshot_id not in self._snapshots:
                    raise ValueError(token)
            except ValueError:
                raise ApiError(400, "Invalid page token value.", reason="invalid", location="pageToken",
                               locationType="parameter") from None
            items, seq = self._snapshots[snapshot_id]
        else:
            offset, items, seq = 0, every_item(), self._seq
        following = offset + size
        if following >= len(items):
            return items[offset:following], None, seq
        if not snapshot_id:
            snapshot_id = str(next(self._snapshot_ids))
            self._snapshots[snapshot_id] = (items, seq)
            for old in list(self._snapshots)[:-_SNAPSHOTS_KEPT]:
                del self._snapshots[old]
        next_token = base64.urlsafe_b64encode(f"{digest}:{snapshot_id}:{following}".encode()).decode().rstrip("=")
        return items[offset:following], next_token, seq

    def _sync_token(self, calendar: str, seq: int) -> str:
        generation = self.sync_generation.get(calendar, 0)
        digest = hashlib.sha256(f"{calendar}|{generation}|{seq}".encode()).digest()[:18]
        token = "C" + base64.urlsafe_b64encode(digest).decode()
        self.sync_tokens[token] = (calendar, seq, generation)
        return token

    def _sync_point(self, calendar: str, token: str) -> int:
        """The change point ``token`` stands for; 410 when Google would no longer know it."""
        known = self.sync_tokens.get(token)
        if known is None or known[0] != calendar or known[2] != self.sync_generation.get(calendar, 0):
            raise ApiError(410, "Sync token is no longer valid, a full sync is required.", reason="fullSyncRequired",
                           domain="calendar", location="syncToken", locationType="parameter")
        return known[1]

    def _changes(self, calendar: str, since: int, single: bool, show_deleted: bool,
                 types: list[str] | None) -> list[dict[str, Any]]:
        """What changed on ``calendar`` after change point ``since``, oldest change first: every event
        that is or was on it (a deleted one, or an invitation removed, as cancelled)."""
        changed: list[dict[str, Any]] = []
        for master in self._ever_on(calendar):
            if types and master.get("eventType", "default") not in types:
                continue
            if master.get("recurrence"):
                # Expanded: each instance (a deleted series: each instance, cancelled; UNCONFIRMED which
                # Google sends then). Not expanded: the series and its exceptions.
                candidates = self._expand(master, calendar) if single else [master, *self._exceptions(master)]
            else:
                candidates = [master]
            changed.extend(e for e in candidates if e.get("_seq", 0) > since)
        changed.sort(key=lambda e: (e.get("_seq", 0), e["id"]))
        return [self._change_view(e, calendar, show_deleted) for e in changed]

    def _ever_on(self, calendar: str) -> list[dict[str, Any]]:
        """Every event on ``calendar`` now or before: its own, its invitations, removed ones too."""
        ids = self.reserved.get(calendar, set())
        return [e for owner, events in self.calendars.items() for e in events.values()
                if owner == calendar or e["id"] in ids or any(a["email"] == calendar for a in e.get("attendees", []))]

    def _change_view(self, e: dict[str, Any], calendar: str, show_deleted: bool) -> dict[str, Any]:
        """``e`` as ``calendar`` sees it in a list: a deleted event (or one it left) as cancelled, with
        its details only when ``showDeleted`` (and only for its organizer or an attendee who removed it)."""
        organizer = e["organizer"]["email"] == calendar
        invited = any(a["email"] == calendar for a in e.get("attendees", []))
        removed = not organizer and calendar in e.get("_hidden", [])
        if (organizer or invited) and not removed and e.get("status") != "cancelled":
            return self._view(e, calendar)
        if show_deleted and (organizer or invited):
            return {**self._view(e, calendar), "status": "cancelled"}
        view = self._view(e, calendar)
        gone = {"kind": "calendar#event", "etag": view["etag"], "id": e["id"], "status": "cancelled"}
        if e.get("recurringEventId"):
            gone.update(recurringEventId=e["recurringEventId"], originalStartTime=e["originalStartTime"])
        return gone

    def _properties(self, e: dict[str, Any], calendar: str, param: str) -> dict[str, str]:
        """``e``'s private (``calendar``'s copy) or shared extended properties."""
        if param == "privateExtendedProperty":
            return (e.get("_private") or {}).get(calendar) or {}
        return e.get("_shared") or {}

    def _exceptions(self, master: dict[str, Any]) -> list[dict[str, Any]]:
        """The instances of a series changed on their own (a list without singleEvents shows them)."""
        return [i for i in master.get("_instances", {}).values() if i.get("_modified")]

    def _touch(self, e: dict[str, Any]) -> None:
        """``e`` changed (any copy of it, any field): a new ``updated`` and change point."""
        self._seq += 1
        e["_seq"] = self._seq
        e["updated"] = _stamp(_now())
        if e.get("recurringEventId"):
            e["_modified"] = True

    def _page(self, req: Request, items: list[Any], size: int) -> tuple[list[Any], str | None]:
        query = json.dumps(sorted((k, v) for k, v in req.query.items() if k not in ("pageToken", "maxResults")))
        digest = hashlib.sha1(query.encode()).hexdigest()[:10]
        offset = 0
        token = req.arg("pageToken")
        if token:
            try:
                mark, start = _b64url_decode(token).decode().split(":")
                offset = int(start)
                if mark != digest:
                    raise ValueError
            except ValueError:
                raise ApiError(400, "Invalid page token value.", reason="invalid", location="pageToken",
                               locationType="parameter") from None
        page = items[offset:offset + size]
        following = offset + size
        next_token = (base64.urlsafe_b64encode(f"{digest}:{following}".encode()).decode().rstrip("=")
                      if following < len(items) else None)
        return page, next_token

    def _instances(self, req: Request, calendar: str, master_id: str) -> Response:
        self._check_params(req, {"timeMin", "timeMax", "maxResults", "pageToken", "showDeleted",
                                 "originalStart", "maxAttendees", "timeZone", "alwaysIncludeEmail"})
        master = self._lookup(calendar, master_id)
        if master is None:
            raise ApiError(404, "Not Found", reason="notFound")
        if not master.get("recurrence"):
            raise ApiError(400, "The requested event is not a recurring event.", reason="badRequest")
        time_min = _rfc3339(req.arg("timeMin"), "timeMin")
        time_max = _rfc3339(req.arg("timeMax"), "timeMax")
        show_deleted = _bool(req, "showDeleted")
        found = [i for i in self._expand(master, calendar)
                 if (show_deleted or i.get("status") != "cancelled")
                 and self._overlaps(i, calendar, time_min, time_max)]
        items, token = self._page(req, [self._view(e, calendar) for e in found], _int(req, "maxResults", 250, 1, 2500))
        body = {"kind": "calendar#events", "summary": calendar, "timeZone": self._tz(calendar),
                "accessRole": "owner", "items": items, "updated": _stamp(_now())}
        if token:
            body["nextPageToken"] = token
        return Response(200, body)

    def _events_insert(self, req: Request, calendar: str) -> Response:
        self._check_params(req, {"sendUpdates", "sendNotifications", "conferenceDataVersion", "maxAttendees",
                                 "supportsAttachments"})
        self._send_updates(req)
        body = _json_object(req)
        stored = self._insert(calendar, body)
        return Response(200, self._view(stored, calendar))

    def _insert(self, calendar: str, body: dict[str, Any]) -> dict[str, Any]:
        for field in _READ_ONLY:
            body.pop(field, None)
        new_id = body.get("id")
        if new_id is not None:
            if not isinstance(new_id, str) or not _ID.match(new_id):
                raise ApiError(400, "Invalid resource id value.", reason="invalid")
            if new_id in self.reserved.get(calendar, set()) or self._lookup(calendar, new_id) is not None:
                raise ApiError(409, "The requested identifier already exists.", reason="duplicate")
        else:
            new_id = secrets.token_hex(13)
        if body.get("iCalUID") and body.get("id"):
            raise ApiError(400, "Invalid resource id value.", reason="invalid")
        body["id"] = new_id
        for side in ("start", "end"):
            if side not in body:
                raise ApiError(400, f"Missing {side} time.", reason="required")
        start, end = _when(body["start"], "start"), _when(body["end"], "end")
        if ("date" in body["start"]) != ("date" in body["end"]):
            raise ApiError(400, "Start and end times must either both be date or both be dateTime.",
                           reason="invalid")
        if _instant(body["end"], self._tz(calendar)) <= _instant(body["start"], self._tz(calendar)):
            raise ApiError(400, "The specified time range is empty.", reason="timeRangeEmpty", domain="calendar")
        del start, end
        kind = body.setdefault("eventType", "default")
        if kind not in EVENT_TYPES:
            raise ApiError(400, f"Invalid event type: {kind}", reason="invalid")
        if kind == "outOfOffice":
            if "date" in body["start"]:
                raise ApiError(400, "An out of office event cannot be an all-day event.", reason="invalid")
            if body.get("attendees"):
                raise ApiError(400, "An out of office event cannot have attendees.", reason="invalid")
            props = body.setdefault("outOfOfficeProperties", {})
            if props.get("autoDeclineMode", "declineNone") not in DECLINE_MODES:
                raise ApiError(400, "Invalid value for autoDeclineMode.", reason="invalid")
            body.setdefault("transparency", "opaque")
        _check_recurrence(body.get("recurrence"))
        attendees = body.get("attendees") or []
        if not isinstance(attendees, list):
            raise ApiError(400, "Invalid attendees.", reason="invalid")
        seen: list[dict[str, Any]] = []
        for a in attendees:
            if not isinstance(a, dict) or not a.get("email"):
                raise ApiError(400, "Missing attendee email.", reason="required")
            a = {k: v for k, v in a.items() if k not in ("self", "organizer", "id")}
            a["email"] = a["email"].lower()
            if a.get("responseStatus", "needsAction") not in RESPONSES:
                raise ApiError(400, "Invalid attendee response status.", reason="invalid")
            a.setdefault("responseStatus", "needsAction")
            seen.append(a)
        organizer = calendar  # the calendar an event is created on is its organizer's
        if seen and organizer not in [a["email"] for a in seen]:
            seen.insert(0, {"email": organizer, "responseStatus": "accepted"})
        for a in seen:
            if a["email"] == organizer:
                a["organizer"] = True
                a.setdefault("responseStatus", "accepted")
            if a["email"] in self.timezones and "displayName" not in a:
                a["displayName"] = self._name(a["email"])
        if seen:
            body["attendees"] = seen
        else:
            body.pop("attendees", None)
        body.pop("attendeesOmitted", None)
        now = _stamp(_now())
        ext = body.pop("extendedProperties", None) or {}
        body.update(
            kind="calendar#event", status=body.get("status", "confirmed"), created=now, updated=now,
            organizer={"email": organizer,
                       **({"displayName": self._name(organizer)} if organizer in self.timezones else {})},
            creator={"email": calendar}, iCalUID=body.get("iCalUID") or f"{new_id}@google.com",
            sequence=int(body.get("sequence", 0)),
            _owner=calendar, _private={calendar: dict(ext.get("private") or {})}, _shared=dict(ext.get("shared") or {}),
            _instances={}, _hidden=[],
        )
        body.setdefault("reminders", {"useDefault": True})
        self._touch(body)
        self.calendars.setdefault(organizer, {})[new_id] = body
        self.reserved.setdefault(organizer, set()).add(new_id)
        for a in seen:
            self.reserved.setdefault(a["email"], set()).add(new_id)
        for a in seen:
            if a["email"] != organizer and a["email"] in self.timezones:
                self._decline_if_out(a["email"], body)
        if kind == "outOfOffice" and body["outOfOfficeProperties"].get("autoDeclineMode") == DECLINE_MODES[1]:
            for block in self._expand(body, calendar) if body.get("recurrence") else [body]:
                self._auto_decline_existing(calendar, block)
        return body

    def _events_patch(self, req: Request, calendar: str, target_id: str, replace: bool) -> Response:
        self._check_params(req, {"sendUpdates", "sendNotifications", "conferenceDataVersion", "maxAttendees",
                                 "supportsAttachments", "alwaysIncludeEmail"})
        self._send_updates(req)
        body = _json_object(req)
        target = self._lookup(calendar, target_id, materialize=True)
        if target is None:
            raise ApiError(404, "Not Found", reason="notFound")
        if body.get("id", target["id"]) != target["id"]:
            raise ApiError(400, "Invalid resource id value.", reason="invalid")
        if "eventType" in body and body["eventType"] != target.get("eventType", "default"):
            raise ApiError(400, "Event type cannot be changed.", reason="eventTypeRestriction")
        is_organizer = target["organizer"]["email"] == calendar
        if not is_organizer:
            shared = set(body) - _ATTENDEE_FIELDS
            if shared or "shared" in (body.get("extendedProperties") or {}):
                raise ApiError(403, "Shared properties can only be changed by the organizer of the event.",
                               reason="forbiddenForNonOrganizer")
        elif target.get("status") == "cancelled" and body.get("status") not in ("confirmed", "tentative"):
            raise ApiError(410, "Resource has been deleted", reason="deleted")
        if replace and is_organizer:
            for side in ("start", "end"):
                if side not in body:
                    raise ApiError(400, f"Missing {side} time.", reason="required")
        for side in ("start", "end"):
            if side in body:
                if not is_organizer:
                    raise ApiError(403, "Shared properties can only be changed by the organizer of the event.",
                                   reason="forbiddenForNonOrganizer")
                _when(body[side], side)
        if "recurrence" in body:
            _check_recurrence(body["recurrence"])
        times_changed = False
        for key, value in body.items():
            if key in _READ_ONLY or key in ("attendees", "attendeesOmitted", "extendedProperties", "id", "eventType"):
                continue
            if key in ("start", "end"):
                times_changed = True
            target[key] = copy.deepcopy(value)
        start_end = (_instant(target["start"], self._tz(calendar)), _instant(target["end"], self._tz(calendar)))
        if start_end[1] <= start_end[0]:
            raise ApiError(400, "The specified time range is empty.", reason="timeRangeEmpty", domain="calendar")
        if "attendees" in body:
            self._patch_attendees(target, calendar, body["attendees"] or [],
                                  omitted=bool(body.get("attendeesOmitted")) or not is_organizer)
        ext = body.get("extendedProperties") or {}
        if "private" in ext:
            private = target.setdefault("_private", {}).setdefault(calendar, {})
            if replace:
                private.clear()
            private.update(ext["private"] or {})
        if "shared" in ext:
            target["_shared"] = {**target.get("_shared", {}), **(ext["shared"] or {})}
        if times_changed:
            target["sequence"] = target.get("sequence", 0) + 1
        self._touch(target)
        return Response(200, self._view(target, calendar))

    def _patch_attendees(self, target: dict[str, Any], calendar: str, given: list[Any], omitted: bool) -> None:
        current = {a["email"]: a for a in target.get("attendees", [])}
        if calendar != target["organizer"]["email"] and calendar not in current:
            return
        updated: dict[str, dict[str, Any]] = {} if not omitted else dict(current)
        for a in given:
            if not isinstance(a, dict) or not a.get("email"):
                raise ApiError(400, "Missing attendee email.", reason="required")
            email = a["email"].lower()
            if a.get("responseStatus", "needsAction") not in RESPONSES:
                raise ApiError(400, "Invalid attendee response status.", reason="invalid")
            if calendar != target["organizer"]["email"] and email != calendar:
                continue  # an attendee changes only their own entry
            entry = {**current.get(email, {"email": email, "responseStatus": "needsAction"}),
                     **{k: v for k, v in a.items() if k not in ("self", "organizer", "id", "email", "responseStatus")}}
            self._answered(target, entry, a.get("responseStatus", entry["responseStatus"]))
            updated[email] = entry
        organizer = target["organizer"]["email"]
        if updated and organizer in current and organizer not in updated:
            updated = {organizer: current[organizer], **updated}
        target["attendees"] = list(updated.values())
        for email in updated:  # once invited, a removal from the list reaches their sync as a deletion
            self.reserved.setdefault(email, set()).add(target.get("recurringEventId") or target["id"])

    def _events_delete(self, req: Request, calendar: str, target_id: str) -> Response:
        self._check_params(req, {"sendUpdates", "sendNotifications"})
        self._send_updates(req)
        target = self._lookup(calendar, target_id, materialize=True, include_hidden=True)
        if target is None:
            raise ApiError(404, "Not Found", reason="notFound")
        if target.get("status") == "cancelled" or calendar in target.get("_hidden", []):
            raise ApiError(410, "Resource has been deleted", reason="deleted")
        if target["organizer"]["email"] == calendar:
            target["status"] = "cancelled"
        else:  # an attendee removes the event from their own calendar: it declines it
            for a in target.get("attendees", []):
                if a["email"] == calendar:
                    a["responseStatus"] = "declined"
            target.setdefault("_hidden", []).append(calendar)
        self._touch(target)
        return Response(204, None)

    # -- the calendar model ---------------------------------------------------------------------
    def _masters(self, calendar: str, include_hidden: bool = False) -> list[dict[str, Any]]:
        found = list(self.calendars.get(calendar, {}).values())
        for owner, events in self.calendars.items():
            if owner == calendar:
                continue
            for e in events.values():
                invited = any(a["email"] == calendar for a in e.get("attendees", []))
                if invited and (include_hidden or calendar not in e.get("_hidden", [])):
                    found.append(e)
        return found

    def _lookup(self, calendar: str, target_id: str, materialize: bool = False,
                include_hidden: bool = False) -> dict[str, Any] | None:
        masters = {e["id"]: e for e in self._masters(calendar, include_hidden)}
        if target_id in masters:
            return masters[target_id]
        master_id, _, stamp = target_id.rpartition("_")
        master = masters.get(master_id)
        if not master or not master.get("recurrence"):
            return None
        if target_id in master["_instances"]:
            return master["_instances"][target_id]
        for instance in self._expand(master, calendar):
            if instance["id"] == target_id:
                if materialize:
                    master["_instances"][target_id] = instance
                return instance
        return None

    def _expand(self, master: dict[str, Any], calendar: str) -> list[dict[str, Any]]:
        """The instances of a recurring event (exceptions applied), oldest first."""
        tzname = master["start"].get("timeZone") or self._tz(master["organizer"]["email"])
        zone = ZoneInfo(tzname)
        all_day = "date" in master["start"]
        if all_day:
            first_local = dt.datetime.combine(dt.date.fromisoformat(master["start"]["date"]), dt.time())
            length = dt.date.fromisoformat(master["end"]["date"]) - dt.date.fromisoformat(master["start"]["date"])
        else:
            first = _parse_dt(master["start"]["dateTime"], zone)
            first_local = first.astimezone(zone).replace(tzinfo=None)
            length = _parse_dt(master["end"]["dateTime"], zone) - first
        out: list[dict[str, Any]] = []
        for local_start in _occurrences(master["recurrence"], first_local, zone):
            if all_day:
                day = local_start.date()
                iid = f"{master['id']}_{day:%Y%m%d}"
                start = {"date": day.isoformat()}
                end = {"date": (day + length).isoformat()}
            else:
                aware = local_start.replace(tzinfo=zone)
                iid = f"{master['id']}_{aware.astimezone(dt.timezone.utc):%Y%m%dT%H%M%SZ}"
                start = {"dateTime": aware.isoformat(), "timeZone": tzname}
                end = {"dateTime": (aware + length).astimezone(zone).isoformat(), "timeZone": tzname}
            if iid in master["_instances"]:
                out.append(master["_instances"][iid])
                continue
            instance = {k: copy.deepcopy(v) for k, v in master.items() if k not in ("recurrence", "_instances")}
            instance.update(id=iid, start=start, end=end, recurringEventId=master["id"],
                            originalStartTime=dict(start), _private=copy.deepcopy(master.get("_private", {})))
            out.append(instance)
        return out

    def _visible(self, calendar: str, single: bool, time_min: dt.datetime | None, time_max: dt.datetime | None,
                 show_deleted: bool = False) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        for master in self._masters(calendar):
            if master.get("recurrence"):
                candidates = self._expand(master, calendar) if single else [master, *self._exceptions(master)]
            else:
                candidates = [master]
            for e in candidates:
                if e.get("status") == "cancelled" and not show_deleted:
                    continue
                if calendar in e.get("_hidden", []):
                    continue
                if e is master and master.get("recurrence"):
                    instances = self._expand(master, calendar)
                    if not any(self._overlaps(i, calendar, time_min, time_max) for i in instances):
                        continue
                elif not self._overlaps(e, calendar, time_min, time_max):
                    continue
                found.append(e)
        found.sort(key=lambda e: (_instant(e["start"], self._tz(calendar)), e["id"]))
        return found

    def _overlaps(self, e: dict[str, Any], calendar: str, time_min: dt.datetime | None,
                  time_max: dt.datetime | None) -> bool:
        tz = self._tz(calendar)
        if time_min and _instant(e["end"], tz) <= time_min:
            return False
        return not (time_max and _instant(e["start"], tz) >= time_max)

    def _view(self, e: dict[str, Any], calendar: str) -> dict[str, Any]:
        out = {k: copy.deepcopy(v) for k, v in e.items() if not k.startswith("_")}
        out["etag"] = '"' + hashlib.sha1(f"{e['id']}{e['updated']}".encode()).hexdigest()[:16] + '"'
        # Google's own form: https, the event id and calendar base64url-encoded (the sandbox page has no event pages).
        eid = base64.urlsafe_b64encode(f"{e['id']} {calendar}".encode()).decode().rstrip("=")
        out["htmlLink"] = f"https://www.google.com/calendar/event?eid={eid}"
        out["organizer"]["self"] = out["organizer"]["email"] == calendar
        out["creator"]["self"] = out["creator"]["email"] == calendar
        for a in out.get("attendees", []):
            if a["email"] == calendar:
                a["self"] = True
        private = (e.get("_private") or {}).get(calendar) or {}
        if private or e.get("_shared"):
            out["extendedProperties"] = {k: v for k, v in (("private", private), ("shared", e.get("_shared")))
                                         if v}
        return out

    def _tz(self, calendar: str) -> str:
        return self.timezones.get(calendar, "UTC")

    def _name(self, email: str) -> str:
        person = self.sandbox.team.person(email)
        return person.name if person else email

    def _ooo_blocks(self, user: str, new_only: bool) -> list[dict[str, Any]]:
        """``user``'s out-of-office events that decline (each occurrence of a recurring one)."""
        modes = DECLINE_MODES[1:] if new_only else DECLINE_MODES[1:2]
        blocks: list[dict[str, Any]] = []
        for e in self.calendars.get(user, {}).values():
            if (e.get("eventType") == "outOfOffice" and e.get("status") != "cancelled"
                    and e.get("outOfOfficeProperties", {}).get("autoDeclineMode") in modes):
                occurrences = self._expand(e, user) if e.get("recurrence") else [e]
                blocks.extend(o for o in occurrences if o.get("status") != "cancelled")
        return blocks

    def _conflicts(self, block: dict[str, Any], e: dict[str, Any], user: str) -> bool:
        tz = self._tz(user)
        return (_instant(e["start"], tz) < _instant(block["end"], tz)
                and _instant(e["end"], tz) > _instant(block["start"], tz))

    def _decline(self, e: dict[str, Any], user: str, block: dict[str, Any]) -> None:
        for a in e.get("attendees", []):
            if a["email"] == user and a.get("responseStatus") != "declined":
                self._answered(e, a, "declined")
                message = block.get("outOfOfficeProperties", {}).get("declineMessage")
                if message:
                    a["comment"] = message
                self._touch(e)

    def _decline_if_out(self, user: str, event: dict[str, Any]) -> None:
        """A new invitation for someone out of office with auto-decline on is declined at once."""
        for block in self._ooo_blocks(user, new_only=True):
            occurrences = self._expand(event, user) if event.get("recurrence") else [event]
            for occurrence in occurrences:
                if self._conflicts(block, occurrence, user):
                    if occurrence is event:
                        self._decline(event, user, block)
                    else:
                        event["_instances"][occurrence["id"]] = occurrence
                        self._decline(occurrence, user, block)

    def _auto_decline_existing(self, user: str, block: dict[str, Any]) -> None:
        for master in self._masters(user):
            if master["organizer"]["email"] == user or master.get("status") == "cancelled":
                continue
            occurrences = self._expand(master, user) if master.get("recurrence") else [master]
            for occurrence in occurrences:
                if occurrence.get("status") != "cancelled" and self._conflicts(block, occurrence, user):
                    if occurrence is not master:
                        master["_instances"][occurrence["id"]] = occurrence
                    self._decline(occurrence, user, block)

    # == Gmail v1 ===============================================================================
    def _gmail(self, req: Request, parts: list[str]) -> Response:
        if len(parts) < 3 or parts[0] != "users":
            raise ApiError(404, "Not Found", reason="notFound")
        rest = parts[2:]
        need = {("settings", "vacation"): "vacation.get" if req.method == "GET" else "vacation.put",
                ("messages", "send"): "send"}.get(tuple(rest), "messages.read")
        user = self._auth(req, need)
        if user is None:
            raise ApiError(400, "Precondition check failed.", reason="failedPrecondition")
        wanted = parts[1].lower()
        if wanted not in ("me", user):
            raise ApiError(403, f"Delegation denied for {user}", reason="forbidden")
        if rest == ["settings", "vacation"]:
            self._check_params(req, set())
            if req.method == "GET":
                return Response(200, self._vacation_view(user))
            if req.method == "PUT":
                return self._vacation_put(req, user)
            raise ApiError(405, "Method Not Allowed")
        if rest == ["messages", "send"]:
            if req.method != "POST":
                raise ApiError(405, "Method Not Allowed")
            self._check_params(req, set())
            return self._send(req, user)
        if rest == ["messages"]:
            if req.method != "GET":
                raise ApiError(405, "Method Not Allowed")
            self._check_params(req, {"q", "labelIds", "maxResults", "pageToken", "includeSpamTrash"})
            if req.arg("q") and not (self._token_scopes(req) & (SCOPES["messages.read"] - {AUTH + "gmail.metadata"})):
                raise ApiError(403, "Metadata scope does not support 'q' parameter", reason="forbidden")
            found = [m for m in self.messages if self._in_mailbox(m, user)]
            found = [m for m in found if _matches(m, req.arg("q") or "", req.query.get("labelIds") or [])]
            lag = self.sandbox.faults[self.name].search_lag
            if lag and req.arg("q"):  # Gmail's search index lags behind its mailboxes (seen, not documented)
                indexed_by = (time.time() - lag) * 1000
                found = [m for m in found if int(m["internalDate"]) <= indexed_by]
            found.sort(key=lambda m: -int(m["internalDate"]))
            items, token = self._page(req, [{"id": m["id"], "threadId": m["threadId"]} for m in found],
                                      _int(req, "maxResults", 100, 1, 500))
            body: dict[str, Any] = {"resultSizeEstimate": len(found)}
            if items:
                body["messages"] = items
            if token:
                body["nextPageToken"] = token
            return Response(200, body)
        if len(rest) == 2 and rest[0] == "messages" and rest[1] != "send":
            if req.method != "GET":
                raise ApiError(405, "Method Not Allowed")
            self._check_params(req, {"format", "metadataHeaders"})
            message = next((m for m in self.messages if m["id"] == rest[1] and self._in_mailbox(m, user)), None)
            if message is None:
                raise ApiError(404, "Requested entity was not found.", reason="notFound")
            return Response(200, _message_resource(message, req.arg("format", "full"),
                                                   req.query.get("metadataHeaders") or []))
        raise ApiError(404, "Not Found", reason="notFound")

    def _token_scopes(self, req: Request) -> set[str]:
        header = req.headers.get("authorization", "")
        return self.tokens.get(header[7:], {}).get("scopes", set())

    def _in_mailbox(self, m: dict[str, Any], user: str) -> bool:
        return m["user"] == user or user in m["to"] + m["cc"]

    def _vacation_view(self, user: str) -> dict[str, Any]:
        stored = self.vacations.get(user, {})
        out = {"enableAutoReply": bool(stored.get("enableAutoReply", False)),
               "responseSubject": stored.get("responseSubject", ""),
               "responseBodyPlainText": stored.get("responseBodyPlainText", ""),
               "responseBodyHtml": stored.get("responseBodyHtml", ""),
               "restrictToContacts": bool(stored.get("restrictToContacts", False)),
               "restrictToDomain": bool(stored.get("restrictToDomain", False))}
        for name in ("startTime", "endTime"):
            if stored.get(name) is not None:
                out[name] = str(stored[name])
        return {k: v for k, v in out.items() if v not in ("",)}

    def _vacation_put(self, req: Request, user: str) -> Response:
        body = _json_object(req)
        known = {"enableAutoReply", "responseSubject", "responseBodyPlainText", "responseBodyHtml",
                 "restrictToContacts", "restrictToDomain", "startTime", "endTime"}
        unknown = set(body) - known
        if unknown:
            raise ApiError(400, f"Invalid JSON payload received. Unknown name \"{sorted(unknown)[0]}\": "
                                "Cannot find field.", reason="invalid")
        times: dict[str, int] = {}
        for name in ("startTime", "endTime"):
            if body.get(name) is not None:
                try:
                    times[name] = int(body[name])
                except (TypeError, ValueError):
                    raise ApiError(400, f"Invalid value at '{name}'", reason="invalid") from None
        if "startTime" in times and "endTime" in times and times["startTime"] >= times["endTime"]:
            raise ApiError(400, "Start time must be before end time.", reason="invalidArgument")
        if body.get("enableAutoReply") and not (body.get("responseSubject") or body.get("responseBodyPlainText")
                                                or body.get("responseBodyHtml")):
            raise ApiError(400, "Either subject or body must be non-empty to enable auto-reply.",
                           reason="invalidArgument")
        # PUT replaces the settings: omitted fields go back to their defaults.
        before = bool(self.vacations.get(user, {}).get("enableAutoReply"))
        self.vacations[user] = {**{k: body.get(k) for k in known if k not in times}, **times}
        self._vacation_changed(user, before)
        return Response(200, self._vacation_view(user))

    def _send(self, req: Request, user: str) -> Response:
        body = _json_object(req)
        raw = body.get("raw")
        if not isinstance(raw, str) or not raw:
            raise ApiError(400, "'raw' RFC822 payload message string or uploading message via /upload/* URL "
                                "required", reason="invalidArgument")
        try:
            data = _b64url_decode(raw)
            parsed = BytesParser(policy=policy.default).parsebytes(data)
        except (ValueError, TypeError):
            raise ApiError(400, "Invalid value for ByteString: raw", reason="invalidArgument") from None
        addresses = {h: [a.lower() for _, a in getaddresses(parsed.get_all(h, [])) if a]
                     for h in ("To", "Cc", "Bcc")}
        if not any(addresses.values()):
            raise ApiError(400, "Recipient address required", reason="invalidArgument")
        text = html_part = ""
        for part in (parsed.walk() if parsed.is_multipart() else [parsed]):
            if part.get_content_maintype() == "multipart":
                continue
            if part.get_content_type() == "text/plain" and not text:
                text = part.get_content()
            elif part.get_content_type() == "text/html" and not html_part:
                html_part = part.get_content()
        message_id = parsed.get("Message-ID") or f"<{secrets.token_hex(12)}@mail.gmail.com>"
        gmail_id = secrets.token_hex(8)
        sent_from = parseaddr(parsed.get("From", ""))
        message = {
            "id": gmail_id, "threadId": gmail_id, "labelIds": ["SENT"], "user": user,
            "from": user, "from_name": sent_from[0] or self._name(user),
            "to": addresses["To"], "cc": addresses["Cc"], "bcc": addresses["Bcc"],
            # unfolded, as Gmail shows it (Python folds a long one onto the next line, "Subject:\n Out of...")
            "subject": str(parsed.get("Subject", "")).strip(), "message_id": message_id.strip(),
            "headers": {k: str(v) for k, v in parsed.items()},
            "auto_submitted": str(parsed.get("Auto-Submitted", "")), "text": text, "html": html_part,
            "internalDate": str(int(time.time() * 1000)), "sizeEstimate": len(data),
        }
        message["headers"]["Message-ID"] = message["message_id"]
        self.messages.append(message)
        return Response(200, {"id": gmail_id, "threadId": gmail_id, "labelIds": ["SENT"]})

    # == seed, state, page ======================================================================
    def seed(self, team: Any, anchor: dt.date) -> None:
        from sandbox.scenario import own_out_of_office, team_meetings

        for m in team_meetings(anchor, team):
            self._insert(m["organizer"], {
                "id": m["id"], "summary": m["title"], "description": m["description"],
                "start": {"dateTime": m["start"].isoformat(), "timeZone": m["timezone"]},
                "end": {"dateTime": m["end"].isoformat(), "timeZone": m["timezone"]},
                "attendees": [{"email": a, "responseStatus": "accepted"} for a in m["attendees"]],
                "attachments": m["attachments"], "location": "Zoom: Client Services room",
            })
        for event in scenario_events(team, anchor):
            self._insert(event.pop("_calendar"), event)
        for own in own_out_of_office(anchor, team):  # last: it declines the meetings it overlaps, as Calendar does
            self._insert(own["employee"], {
                "id": own["id"], "eventType": "outOfOffice", "summary": own["summary"],
                "start": {"dateTime": own["start"].isoformat(), "timeZone": own["timezone"]},
                "end": {"dateTime": own["end"].isoformat(), "timeZone": own["timezone"]},
                "transparency": "opaque",
                "outOfOfficeProperties": {"autoDeclineMode": "declineAllConflictingInvitations",
                                          "declineMessage": own["decline_message"]},
            })

    def state(self) -> dict[str, Any]:
        return {
            "calendars": {
                owner: [{k: v for k, v in self._view(e, owner).items()} | (
                    {"instances": {i: self._view(x, owner) for i, x in e["_instances"].items()}}
                    if e.get("_instances") else {}) for e in events.values()]
                for owner, events in self.calendars.items()
            },
            "vacation": {user: self._vacation_view(user) for user in sorted(self.vacations)},
            "messages": copy.deepcopy(self.messages),
            "service_account": CLIENT_EMAIL,
            "delegated_scopes": sorted(self.granted_scopes),
            "tokens_issued": len(self.tokens),
        }

    def render(self) -> str:
        esc = html.escape
        anchor = self.sandbox.anchor
        lo = dt.datetime.combine(anchor - dt.timedelta(days=21), dt.time(), dt.timezone.utc)
        hi = dt.datetime.combine(anchor + dt.timedelta(days=21), dt.time(), dt.timezone.utc)
        blocks = []
        for person in self.sandbox.team.people:
            rows = []
            for e in self._visible(person.email, True, lo, hi):
                view = self._view(e, person.email)
                mine = next((a for a in view.get("attendees", []) if a.get("self")), None)
                when = wall_time(view["start"])
                guests = ", ".join(a["email"] for a in view.get("attendees", []) if a["email"] != person.email
                                   and len(view.get("attendees", [])) <= 6)
                if len(view.get("attendees", [])) > 6:
                    guests = f"{len(view['attendees'])} guests"
                status = ("organizer" if view["organizer"].get("self") and view.get("attendees") else
                          (mine or {}).get("responseStatus", ""))
                note = ((mine or {}).get("comment", "")
                        or view.get("outOfOfficeProperties", {}).get("declineMessage", ""))
                style = " style='color:#999;text-decoration:line-through'" if status == "declined" else ""
                rows.append(f"<tr id='google-event-{esc(view['id'])}'{style}><td>{esc(when)}</td>"
                            f"<td>{esc(view.get('summary', ''))}</td><td>{esc(view.get('eventType', ''))}</td>"
                            f"<td>{esc(status)}</td><td>{esc(guests)}</td><td>{esc(note)}</td></tr>")
            blocks.append(f"<details><summary><b>{esc(person.name)}</b> ({esc(person.email)}): {len(rows)} "
                          f"events, {lo.date()} to {hi.date()}</summary><table><tr><th>start</th><th>summary</th>"
                          f"<th>type</th><th>response</th><th>guests</th><th>note</th></tr>{''.join(rows)}"
                          f"</table></details>")
        vac = "".join(
            f"<tr><td>{esc(u)}</td><td>{v['enableAutoReply']}</td><td>{esc(_ms(v.get('startTime')))}</td>"
            f"<td>{esc(_ms(v.get('endTime')))}</td><td>{esc(v.get('responseSubject', ''))}</td>"
            f"<td><pre>{esc(v.get('responseBodyPlainText', ''))}</pre></td></tr>"
            for u, v in ((u, self._vacation_view(u)) for u in sorted(self.vacations)))
        mail = "".join(
            f"<tr><td>{esc(m['from'])}</td><td>{esc(', '.join(m['to'] + m['cc']))}</td><td>{esc(m['subject'])}</td>"
            f"<td>{esc(m['message_id'])}</td><td>{esc(m['auto_submitted'])}</td><td><pre>{esc(m['text'])}</pre></td></tr>"
            for m in reversed(self.messages))
        return (f"<h3>Out of office</h3>{self._render_ooo()}<h3>Calendars</h3>{''.join(blocks)}"
                f"<h3>Vacation responders</h3><table><tr><th>user</th><th>on</th><th>from</th><th>until</th>"
                f"<th>subject</th><th>message</th></tr>{vac}</table>"
                f"<h3>Sent mail</h3><table><tr><th>from</th><th>to</th><th>subject</th><th>Message-ID</th>"
                f"<th>Auto-Submitted</th><th>text</th></tr>{mail}</table>")

    def _render_ooo(self) -> str:
        """Every out-of-office event, whoever made it (a recurring one: its rule)."""
        from ooo.steps.calendar import MARKER  # what the product marks its own events with

        esc = html.escape
        rows = []
        for e in sorted(self.out_of_office(), key=lambda e: _instant(e["start"], self._tz(e["calendar"]))):
            props = e.get("outOfOfficeProperties", {})
            ours = (e.get("extendedProperties") or {}).get("private", {}).get(MARKER)
            made_by = "ooo-pipelines" if ours else "the person (Calendar)"
            rows.append(
                f"<tr id='google-ooo-{esc(e['id'])}'><td>{esc(self._name(e['calendar']))}</td>"
                f"<td>{esc(wall_time(e['start']))}</td><td>{esc(wall_time(e['end']))}</td>"
                f"<td>{esc(' '.join(e.get('recurrence', [])))}</td><td>{esc(e.get('summary', ''))}</td>"
                f"<td>{esc(props.get('autoDeclineMode', ''))}</td><td>{esc(props.get('declineMessage', ''))}</td>"
                f"<td>{esc(made_by)}</td></tr>")
        if not rows:
            return "<p class='muted'>No out-of-office events.</p>"
        return ("<table><tr><th>who</th><th>from</th><th>until</th><th>repeats</th><th>summary</th>"
                f"<th>auto-decline</th><th>decline message</th><th>made by</th></tr>{''.join(rows)}</table>")


# == helpers ====================================================================================
def wall_time(when: dict[str, Any]) -> str:
    """A Calendar EventDateTime as people read it: its own zone's wall time (``2026-12-15 00:00``)."""
    return (when.get("dateTime") or when.get("date") or "")[:16].replace("T", " ")


def _ms(value: Any) -> str:
    if value in (None, ""):
        return ""
    return dt.datetime.fromtimestamp(int(value) / 1000, dt.timezone.utc).isoformat(timespec="minutes")


def _json_object(req: Request) -> dict[str, Any]:
    try:
        body = req.json()
    except (ValueError, UnicodeDecodeError):
        raise ApiError(400, "Parse Error", reason="parseError") from None
    if not isinstance(body, dict):
        raise ApiError(400, "Invalid JSON payload received. Expected an object.", reason="parseError")
    return body


def _bool(req: Request, name: str) -> bool:
    value = req.arg(name)
    if value in (None, "false"):
        return False
    if value == "true":
        return True
    raise ApiError(400, f"Invalid value for {name}: {value}", reason="invalidParameter", location=name,
                   locationType="parameter")


def _int(req: Request, name: str, default: int, low: int, high: int) -> int:
    value = req.arg(name)
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        number = low - 1
    if not low <= number <= high:
        raise ApiError(400, f"Invalid value '{value}'. Values must be within the range: [{low}, {high}]",
                       reason="invalid", location=name, locationType="parameter")
    return number


def _rfc3339(value: str | None, name: str) -> dt.datetime | None:
    if value is None:
        return None
    if not _RFC3339.match(value):
        raise ApiError(400, "Bad Request", reason="badRequest", location=name, locationType="parameter")
    return dt.datetime.fromisoformat(value.upper().replace("Z", "+00:00"))


def _parse_dt(value: str, zone: ZoneInfo) -> dt.datetime:
    moment = dt.datetime.fromisoformat(value.upper().replace("Z", "+00:00") if value.upper().endswith("Z") else value)
    return moment if moment.tzinfo else moment.replace(tzinfo=zone)


def _when(value: Any, side: str) -> None:
    """Validate an EventDateTime (``date`` or ``dateTime`` with an offset or a ``timeZone``)."""
    if not isinstance(value, dict) or not (value.get("date") or value.get("dateTime")):
        raise ApiError(400, f"Missing {side} time.", reason="required")
    if value.get("timeZone"):
        try:
            ZoneInfo(value["timeZone"])
        except (KeyError, ValueError):
            raise ApiError(400, f"Invalid time zone definition for {side} time.", reason="invalid") from None
    if value.get("date"):
        if not _DATE.match(value["date"]) or value.get("dateTime"):
            raise ApiError(400, f"Invalid {side} time.", reason="invalid")
        return
    stamp = value["dateTime"]
    if _RFC3339.match(stamp):
        return
    if _LOCAL.match(stamp):
        if not value.get("timeZone"):
            raise ApiError(400, f"Missing time zone definition for {side} time.", reason="required")
        return
    raise ApiError(400, f"Invalid {side} time.", reason="invalid")


def _instant(value: dict[str, Any], calendar_tz: str) -> dt.datetime:
    """An EventDateTime as an aware instant (all-day: midnight in the calendar's zone)."""
    if value.get("date"):
        return dt.datetime.combine(dt.date.fromisoformat(value["date"]), dt.time(), ZoneInfo(calendar_tz))
    return _parse_dt(value["dateTime"], ZoneInfo(value.get("timeZone") or calendar_tz))


def _check_recurrence(rules: Any) -> None:
    if rules is None:
        return
    if not isinstance(rules, list) or not all(isinstance(r, str) for r in rules):
        raise ApiError(400, "Invalid recurrence rule.", reason="invalid")
    for rule in rules:
        if rule.startswith("RRULE:"):
            _parse_rrule(rule)
        elif not rule.startswith(("EXDATE", "RDATE", "EXRULE")):
            raise ApiError(400, "Invalid recurrence rule.", reason="invalid")


def _parse_rrule(rule: str) -> dict[str, str]:
    try:
        fields = dict(part.split("=", 1) for part in rule[len("RRULE:"):].split(";"))
    except ValueError:
        raise ApiError(400, "Invalid recurrence rule.", reason="invalid") from None
    if fields.get("FREQ") not in ("DAILY", "WEEKLY") or ("COUNT" in fields and "UNTIL" in fields):
        raise ApiError(400, "Invalid recurrence rule.", reason="invalid")
    for day in filter(None, fields.get("BYDAY", "").split(",")):
        if day not in _WEEKDAYS:
            raise ApiError(400, "Invalid recurrence rule.", reason="invalid")
    return fields


def _occurrences(rules: list[str], first: dt.datetime, zone: ZoneInfo) -> list[dt.datetime]:
    """Local start times of a series (RRULE DAILY/WEEKLY with INTERVAL, COUNT, UNTIL, BYDAY; EXDATE)."""
    rrule = next((r for r in rules if r.startswith("RRULE:")), None)
    if rrule is None:
        return [first]
    fields = _parse_rrule(rrule)
    interval = int(fields.get("INTERVAL", "1"))
    count = int(fields["COUNT"]) if "COUNT" in fields else None
    until = None
    if "UNTIL" in fields:
        raw = fields["UNTIL"]
        until = (dt.datetime.strptime(raw, "%Y%m%dT%H%M%SZ").replace(tzinfo=dt.timezone.utc).astimezone(zone)
                 .replace(tzinfo=None) if "T" in raw else dt.datetime.strptime(raw, "%Y%m%d") + dt.timedelta(days=1))
    excluded = set()
    for r in rules:
        if r.startswith("EXDATE"):
            for stamp in r.split(":", 1)[1].split(","):
                excluded.add(stamp.strip()[:8])
    days = sorted(_WEEKDAYS[d] for d in fields.get("BYDAY", "").split(",") if d) or [first.weekday()]
    out: list[dt.datetime] = []
    limit = count or 730
    if fields["FREQ"] == "DAILY":
        candidates = (first + dt.timedelta(days=n * interval) for n in range(5000))
    else:
        week0 = first - dt.timedelta(days=first.weekday())
        candidates = (week0 + dt.timedelta(weeks=w * interval, days=d) for w in range(1000) for d in days)
    for moment in candidates:
        if moment < first:
            continue
        if until and moment >= until or len(out) >= limit:
            break
        if f"{moment:%Y%m%d}" not in excluded:
            out.append(moment)
        elif count:
            limit -= 1
    return out


def _matches(m: dict[str, Any], q: str, labels: list[str]) -> bool:
    if labels and not set(labels) <= set(m["labelIds"]):
        return False
    for term in q.split():
        name, _, value = term.partition(":")
        value = value.strip('"').lower()
        if name == "rfc822msgid":
            if m["message_id"].strip("<>").lower() != value.strip("<>"):
                return False
        elif name == "in":
            if value.upper() not in m["labelIds"]:
                return False
        elif name == "to":
            if not any(value in a for a in m["to"] + m["cc"] + m["bcc"]):
                return False
        elif name == "from":
            if value not in m["from"]:
                return False
        elif name == "subject":
            if value not in m["subject"].lower():
                return False
        elif term.lower() not in (m["subject"] + " " + m["text"]).lower():
            return False
    return True


def _message_resource(m: dict[str, Any], fmt: str, wanted: list[str]) -> dict[str, Any]:
    base = {"id": m["id"], "threadId": m["threadId"], "labelIds": m["labelIds"], "snippet": m["text"][:120],
            "internalDate": m["internalDate"], "sizeEstimate": m["sizeEstimate"], "historyId": "1"}
    if fmt == "minimal":
        return base
    headers = [{"name": k, "value": v} for k, v in m["headers"].items()
               if not wanted or k.lower() in {w.lower() for w in wanted}]
    if fmt == "metadata":
        return {**base, "payload": {"mimeType": "multipart/alternative", "headers": headers}}
    if fmt not in ("full", "raw"):
        raise ApiError(400, f"Invalid value for format: {fmt}", reason="invalidParameter")
    parts = [{"mimeType": t, "body": {"data": base64.urlsafe_b64encode(v.encode()).decode()}}
             for t, v in (("text/plain", m["text"]), ("text/html", m["html"])) if v]
    return {**base, "payload": {"mimeType": "multipart/alternative", "headers": headers, "parts": parts}}


# == the seeded scenario ========================================================================
_MEETING_KINDS = (
    ("Monthly performance review: {client}", 10, 45),
    ("Website refresh kickoff: {client}", 14, 30),
    ("Q4 campaign check-in: {client}", 11, 30),
    ("Reviews strategy call: {client}", 15, 30),
)


def scenario_events(team: Any, anchor: dt.date) -> list[dict[str, Any]]:
    """Each person's own weeks around ``anchor`` (``_calendar`` names whose calendar it goes on).

    CSMs: two client meetings a week (the client organises one, the CSM the other, with the
    client's contacts), a weekly 1:1 with their manager (recurring), an all-day planning block with
    no guests, a CSM sync with their buddy; CCs: a content review with a CSM and a client interview.
    """
    events: list[dict[str, Any]] = []
    people = list(team.people)
    start_week = anchor - dt.timedelta(days=anchor.weekday() + 21)
    for index, person in enumerate(people):
        zone = ZoneInfo(person.timezone)

        def at(day: dt.date, hour: int, minutes: int,
               _zone: ZoneInfo = zone, _tz: str = person.timezone) -> tuple[dict, dict]:
            start = dt.datetime.combine(day, dt.time(hour), _zone)
            end = start + dt.timedelta(minutes=minutes)
            return ({"dateTime": start.isoformat(), "timeZone": _tz}, {"dateTime": end.isoformat(), "timeZone": _tz})

        if person.role in ("csm", "cc", "support") and person.manager:
            day = start_week + dt.timedelta(days=index % 5)
            day = day if team.is_working_day(day) else team.next_working_day(day)
            manager = team.person(person.manager)
            mzone = ZoneInfo(manager.timezone)
            start = dt.datetime.combine(day, dt.time(9, 30), mzone)
            events.append({
                "_calendar": manager.email, "id": event_id("oneonone", person.email),
                "summary": f"1:1 {manager.first_name} / {person.first_name}",
                "description": "Weekly 1:1: priorities, blockers, growth.",
                "start": {"dateTime": start.isoformat(), "timeZone": manager.timezone},
                "end": {"dateTime": (start + dt.timedelta(minutes=30)).isoformat(), "timeZone": manager.timezone},
                "recurrence": ["RRULE:FREQ=WEEKLY;COUNT=9"],
                "attendees": [{"email": manager.email, "responseStatus": "accepted"},
                              {"email": person.email, "responseStatus": "accepted"}],
            })
        for week in range(7):
            monday = start_week + dt.timedelta(weeks=week)
            if person.role == "csm":
                for slot, day_offset in enumerate((1 + index % 2, 3 + index % 2)):
                    day = monday + dt.timedelta(days=day_offset)
                    if not team.is_working_day(day):
                        continue
                    client = CLIENTS[(index * 3 + week * 2 + slot) % len(CLIENTS)]
                    title, hour, minutes = _MEETING_KINDS[(week + slot + index) % len(_MEETING_KINDS)]
                    start, end = at(day, hour, minutes)
                    contact = client_contact(client)
                    organiser = person.email if slot == 1 else contact
                    events.append({
                        "_calendar": organiser, "id": event_id("client", person.email, day.isoformat(), str(slot)),
                        "summary": title.format(client=client[0]),
                        "description": f"Agenda: results since last call, next month's plan for {client[0]}.",
                        "start": start, "end": end, "location": "Google Meet",
                        "attendees": [{"email": person.email, "responseStatus": "accepted"},
                                      {"email": contact, "displayName": client[2], "responseStatus": "accepted"},
                                      *([{"email": f"office@{client[1]}", "responseStatus": "needsAction"}]
                                        if slot == 1 else [])],
                    })
                day = monday + dt.timedelta(days=4)
                if team.is_working_day(day) and person.buddy and person.email < person.buddy:
                    start, end = at(day, 13, 30)
                    events.append({
                        "_calendar": person.email, "id": event_id("buddysync", person.email, day.isoformat()),
                        "summary": f"CSM sync: {person.first_name} + {team.person(person.buddy).first_name}",
                        "start": start, "end": end,
                        "attendees": [{"email": person.email, "responseStatus": "accepted"},
                                      {"email": person.buddy, "responseStatus": "accepted"}],
                    })
            elif person.role == "cc":
                day = monday + dt.timedelta(days=2)
                if team.is_working_day(day):
                    csms = [p for p in people if p.role == "csm"]
                    csm = csms[(week + index) % len(csms)]
                    start, end = at(day, 11, 30)
                    events.append({
                        "_calendar": person.email, "id": event_id("contentreview", person.email, day.isoformat()),
                        "summary": f"Content review with {csm.first_name}",
                        "description": "Blog drafts and social calendar for the CSM's accounts.",
                        "start": start, "end": end,
                        "attendees": [{"email": person.email, "responseStatus": "accepted"},
                                      {"email": csm.email, "responseStatus": "accepted"}],
                    })
                day = monday + dt.timedelta(days=3)
                if team.is_working_day(day):
                    client = CLIENTS[(index + week) % len(CLIENTS)]
                    start, end = at(day, 15, 30)
                    events.append({
                        "_calendar": client_contact(client),
                        "id": event_id("interview", person.email, day.isoformat()),
                        "summary": f"Blog interview: {client[0]}",
                        "start": start, "end": end,
                        "attendees": [{"email": person.email, "responseStatus": "accepted"},
                                      {"email": client_contact(client), "responseStatus": "accepted"}],
                    })
            if week == 3 and person.role in ("csm", "cc"):
                day = monday + dt.timedelta(days=2 + index % 2)
                events.append({
                    "_calendar": person.email, "id": event_id("planning", person.email, day.isoformat()),
                    "summary": "Quarterly planning day (heads down)", "transparency": "transparent",
                    "start": {"date": day.isoformat()}, "end": {"date": (day + dt.timedelta(days=1)).isoformat()},
                })
    return events
