"""Google Workspace (Calendar v3, Gmail v1) acting as one employee, on the Airflow Google provider.

:class:`GoogleWorkspace` is a :class:`GoogleCalendarHook` for the ``ooo_google`` connection with
what the provider lacks for this job:

* domain-wide delegation: the connection's service-account key acts as ``subject`` (the JWT
  ``sub``), through ``get_credentials().with_subject(subject)``;
* the least scopes by default (the connection's ``scope`` extra wins when set);
* an endpoint override from the connection extra ``api_endpoint_base`` (the sandbox:
  ``http://127.0.0.1:PORT/google/``), so the same code talks to Google or the sandbox: Calendar at
  ``<base>calendar/v3/``, Gmail at ``<base>`` (its paths start ``gmail/v1/``);
* every call through ``execute(num_retries=<connection num_retries>)`` (429, 5xx and rate-limit
  403s retried with exponential backoff by googleapiclient), every list paged to the end, each
  request given up after the connection extra ``timeout`` (seconds, default 60);
* an email is sent once per call, never resent by a transport (see ``ooo.services.once``); only
  Google's throttling answers (429, 403 ``rateLimitExceeded``/``userRateLimitExceeded``: refused,
  so not sent) are tried again, with the same backoff;
* a calendar's changes since a sync token (:meth:`GoogleWorkspace.changed_events`, Google's
  incremental sync): an expired token raises :class:`SyncTokenExpired` (start again with a full sync);
* errors a person can act on: refused credentials raise :class:`GoogleCredentialsRefused`, the
  rest :class:`GoogleApiError` with the status and Google's reason.

The provider's ``create_event`` (whose default ``send_updates="false"`` is not a valid value) is
not used: every call goes through the discovery client with explicit parameters.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import logging
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from functools import cached_property
from typing import Any

from google.auth.exceptions import GoogleAuthError, TransportError
from googleapiclient.discovery import build
from googleapiclient.errors import HttpError

from ooo.services._deferred import deferring
from ooo.services.errors import ServiceError

# Secret Manager's client (grpc, protobuf): for keys kept in Secret Manager (``key_secret_name``), which
# the ooo_google connection does not use; imported if one ever does.
with deferring("airflow.providers.google.cloud._internal_client.secret_manager_client"):
    from airflow.providers.google.suite.hooks.calendar import GoogleCalendarHook

log = logging.getLogger(__name__)

AUTH = "https://www.googleapis.com/auth/"
#: What the service account needs delegated (Admin console -> domain-wide delegation).
SCOPES: tuple[str, ...] = (
    AUTH + "calendar.events",  # the employee's events: list, insert, patch (RSVP), delete
    AUTH + "gmail.settings.basic",  # the vacation responder
    AUTH + "gmail.send",  # the reschedule notes, sent as the employee
    AUTH + "gmail.readonly",  # find a sent note by its Message-ID before sending (no doubles)
)
#: A 403 with one of these reasons is Google throttling (its Calendar and Gmail error guides), not a refusal.
THROTTLED_403 = ("rateLimitExceeded", "userRateLimitExceeded")


class GoogleError(ServiceError):
    """A Google call failed."""


class GoogleUnreachable(GoogleError):
    """No answer from Google (connection dropped or timed out): the request may or may not have been applied."""

    @property
    def transient(self) -> bool:
        return True


class GoogleCredentialsRefused(GoogleError):
    """Google refused the credentials (bad key, delegation missing or withdrawn, wrong scopes)."""


class GoogleApiError(GoogleError):
    def __init__(self, message: str, status: int, reason: str = ""):
        super().__init__(message)
        self.status = status
        self.reason = reason

    @property
    def transient(self) -> bool:
        return self.status in (429, 500, 502, 503, 504) or self.throttled

    @property
    def throttled(self) -> bool:
        """Google refused the request for now (too many requests): it was not applied."""
        return is_throttling(self.status, self.reason)


class SyncTokenExpired(GoogleApiError):
    """Google no longer knows the sync token (410 ``fullSyncRequired``): sync again from scratch."""


@dataclass(frozen=True)
class EventChanges:
    """What :meth:`GoogleWorkspace.changed_events` found: the events (deleted ones ``cancelled``) and
    the token that asks for the changes after these."""

    events: list[dict[str, Any]]
    next_sync_token: str


def is_throttling(status: int, reason: str) -> bool:
    """Google's "too many requests" (a 429, or a 403 with a rate-limit reason): refused, not applied."""
    return status == 429 or (status == 403 and reason in THROTTLED_403)


def rfc3339(moment: dt.datetime) -> str:
    """An aware datetime as Calendar wants it (``T`` separator and an offset, never ``str()``)."""
    if moment.tzinfo is None:
        raise ValueError(f"{moment!r} has no time zone")
    return moment.isoformat(timespec="seconds")


class GoogleWorkspace(GoogleCalendarHook):
    """Calendar and Gmail acting as ``subject`` through the ``conn_id`` service account."""

    def __init__(self, conn_id: str, subject: str):
        super().__init__(api_version="v3", gcp_conn_id=conn_id)
        self.conn_id = conn_id
        self.subject = subject.strip().lower()
        self._delegated: Any = None
        self._gmail: Any = None

    # -- provider plumbing -------------------------------------------------------------------
    @property
    def scopes(self) -> list[str]:
        configured = self._get_field("scope", None)
        if configured:
            return [s.strip() for s in str(configured).split(",") if s.strip()]
        return list(SCOPES)

    def get_credentials(self) -> Any:
        """The connection's service-account credentials, delegated to :attr:`subject`."""
        if self._delegated is None:
            base = super().get_credentials()
            self._delegated = base.with_subject(self.subject) if hasattr(base, "with_subject") else base
        return self._delegated

    def _endpoint(self, suffix: str) -> str | None:
        base = self._get_field("api_endpoint_base", None)
        if not base:
            return None
        return str(base).rstrip("/") + "/" + suffix

    @property
    def timeout(self) -> float:
        return float(self._get_field("timeout", None) or 60)

    def _authorize(self) -> Any:
        """The provider's authorised httplib2 transport, with the connection's timeout (never a hang)."""
        authed = super()._authorize()
        authed.http.timeout = self.timeout
        return authed

    @cached_property
    def _send_once_http(self) -> Any:
        """A transport that sends a request once: httplib2 resends a request whose connection closed
        before the answer, which would send an email twice. (Made once per client: a requests session
        costs more to make than a request to send.)"""
        import httplib2
        from google.auth.transport.requests import AuthorizedSession

        session, timeout = AuthorizedSession(self.get_credentials()), self.timeout

        class Once:
            def request(self, uri: str, method: str = "GET", body: Any = None, headers: Any = None,
                        **_: Any) -> tuple[Any, bytes]:
                answer = session.request(method, uri, data=body, headers=headers, timeout=timeout)
                return httplib2.Response({"status": answer.status_code, **answer.headers}), answer.content

        return Once()

    def get_conn(self) -> Any:
        """The Calendar v3 client (the bundled discovery document; no network for it)."""
        if not self._conn:
            self._conn = build("calendar", "v3", http=self._authorize(), cache_discovery=False,
                               static_discovery=True,
                               client_options=self.get_client_options(self._endpoint("calendar/v3/")))
        return self._conn

    def gmail(self) -> Any:
        """The Gmail v1 client."""
        if self._gmail is None:
            self._gmail = build("gmail", "v1", http=self._authorize(), cache_discovery=False,
                                static_discovery=True, client_options=self.get_client_options(self._endpoint("")))
        return self._gmail

    # googleapiclient builds a collection's every method (with its docstring) each time the collection is
    # asked for: ~25 ms a time, paid on every call before these were kept (22 declines: half a second).
    @cached_property
    def _events(self) -> Any:
        return self.get_conn().events()

    @cached_property
    def _messages(self) -> Any:
        return self.gmail().users().messages()

    @cached_property
    def _settings(self) -> Any:
        return self.gmail().users().settings()

    def _run(self, request: Any, what: str, once: bool = False) -> Any:
        """Execute ``request``; ``once``: never resent by the transport (a write with no key), and
        tried again only when Google throttled it (refused: not applied)."""
        import requests

        try:
            if once:
                return self._throttled_retries(request)
            return request.execute(num_retries=self.num_retries)
        except (TransportError, requests.RequestException, TimeoutError, ConnectionError) as exc:
            raise GoogleUnreachable(f"Google unreachable while trying to {what}: {exc}") from exc
        except GoogleAuthError as exc:  # the token endpoint said no (RefreshError), or no usable key
            raise GoogleCredentialsRefused(
                f"The Google credentials for {self.conn_id} were refused when acting as {self.subject} "
                f"(to {what}): {_oauth_error(exc)}. Check the service-account key in the connection and "
                f"that its domain-wide delegation grants {', '.join(self.scopes)}."
            ) from exc
        except HttpError as exc:
            status, reason, message = _http_error(exc)
            if status == 401:
                raise GoogleCredentialsRefused(
                    f"The Google credentials for {self.conn_id} were refused when acting as {self.subject} "
                    f"(to {what}): {message}."
                ) from exc
            if status == 403 and reason == "insufficientPermissions":
                raise GoogleCredentialsRefused(
                    f"The Google credentials for {self.conn_id} lack a scope to {what} as {self.subject}: "
                    f"{message} Grant {', '.join(SCOPES)} to the service account's domain-wide delegation."
                ) from exc
            raise GoogleApiError(f"Google refused to {what} for {self.subject}: HTTP {status} {reason}: "
                                 f"{message}", status, reason) from exc

    def _throttled_retries(self, request: Any) -> Any:
        """``request`` sent once per try; a throttled one (429, 403 rate limit) tried again up to the
        connection's ``num_retries``, after googleapiclient's backoff (random up to 1, 2, 4... s). A
        5xx or a lost answer is not: it may have been applied."""
        for attempt in range(self.num_retries + 1):
            try:
                return request.execute(http=self._send_once_http, num_retries=0)
            except HttpError as exc:
                status, reason, _ = _http_error(exc)
                if attempt == self.num_retries or not is_throttling(status, reason):
                    raise
                wait = random.random() * 2**attempt  # noqa: S311 - jitter, not a secret
                log.warning("Google throttled a write (HTTP %s %s); trying again in %.1fs", status, reason, wait)
                time.sleep(wait)
        raise AssertionError("unreachable")

    # -- Calendar v3 -------------------------------------------------------------------------
    def list_events(self, time_min: dt.datetime, time_max: dt.datetime, single_events: bool = True,
                    calendar_id: str = "primary", **filters: Any) -> list[dict[str, Any]]:
        """Every event overlapping ``time_min``..``time_max`` (all pages), instances expanded."""
        events = self._events
        params: dict[str, Any] = {"calendarId": calendar_id, "timeMin": rfc3339(time_min),
                                  "timeMax": rfc3339(time_max), "singleEvents": single_events,
                                  "maxResults": filters.pop("max_results", 250), **filters}
        if single_events:
            params["orderBy"] = "startTime"
        found: list[dict[str, Any]] = []
        page_token = None
        while True:
            page = self._run(events.list(**params, pageToken=page_token) if page_token else events.list(**params),
                             "list calendar events")
            found.extend(page.get("items", []))
            page_token = page.get("nextPageToken")
            if not page_token:
                return found

    def changed_events(self, sync_token: str | None, event_types: Sequence[str] = ("outOfOffice",),
                       time_min: dt.datetime | None = None, single_events: bool = True, show_deleted: bool = False,
                       calendar_id: str = "primary", max_results: int = 250) -> EventChanges:
        """The calendar's events of ``event_types`` changed since ``sync_token`` (created, updated and
        deleted: ``status`` ``cancelled``, with only ids unless ``show_deleted``), every page; with no
        token, a full sync: every such event (ending after ``time_min``, when given). Keep the
        ``next_sync_token`` for the next call, made with the same arguments. Raises
        :class:`SyncTokenExpired` when Google no longer knows the token: call again with None.
        """
        params: dict[str, Any] = {"calendarId": calendar_id, "singleEvents": single_events, "maxResults": max_results}
        if event_types:
            params["eventTypes"] = list(event_types)
        if show_deleted:
            params["showDeleted"] = True
        if sync_token is not None:
            params["syncToken"] = sync_token  # Google refuses timeMin (and other filters) beside it
        elif time_min is not None:
            params["timeMin"] = rfc3339(time_min)
        events: list[dict[str, Any]] = []
        page_token = None
        while True:
            request = self._events.list(**params, **({"pageToken": page_token} if page_token else {}))
            try:
                page = self._run(request, "list the calendar's changes")
            except GoogleApiError as exc:
                if exc.status == 410 and sync_token is not None:
                    raise SyncTokenExpired(
                        f"Google no longer knows the sync token of {self.subject}'s calendar ({exc.reason}): "
                        "sync again from scratch (no token).", exc.status, exc.reason) from exc
                raise
            events.extend(page.get("items", []))
            page_token = page.get("nextPageToken")
            if not page_token:
                if not page.get("nextSyncToken"):
                    raise GoogleApiError(f"Google gave no sync token for {self.subject}'s calendar", 200)
                return EventChanges(events, page["nextSyncToken"])

    def list_instances(self, event_id: str, time_min: dt.datetime | None = None,
                       time_max: dt.datetime | None = None, calendar_id: str = "primary") -> list[dict[str, Any]]:
        events = self._events
        params: dict[str, Any] = {"calendarId": calendar_id, "eventId": event_id}
        if time_min:
            params["timeMin"] = rfc3339(time_min)
        if time_max:
            params["timeMax"] = rfc3339(time_max)
        found: list[dict[str, Any]] = []
        page_token = None
        while True:
            page = self._run(events.instances(**params, **({"pageToken": page_token} if page_token else {})),
                             "list the instances of a recurring event")
            found.extend(page.get("items", []))
            page_token = page.get("nextPageToken")
            if not page_token:
                return found

    def get_event(self, event_id: str, calendar_id: str = "primary") -> dict[str, Any] | None:
        """The event, or None when it does not exist (a deleted one comes back ``cancelled``)."""
        try:
            return self._run(self._events.get(calendarId=calendar_id, eventId=event_id),
                             f"read event {event_id}")
        except GoogleApiError as exc:
            if exc.status in (404, 410):
                return None
            raise

    def insert_event(self, event: dict[str, Any], calendar_id: str = "primary",
                     send_updates: str = "none") -> dict[str, Any] | None:
        """Create ``event``; None when its id already exists (409: made by an earlier try)."""
        try:
            return self._run(self._events.insert(calendarId=calendar_id, body=event,
                                                             sendUpdates=send_updates,
                                                             supportsAttachments=True),
                             f"create event {event.get('id', '')}".strip())
        except GoogleApiError as exc:
            if exc.status == 409:
                return None
            raise

    def patch_event(self, event_id: str, patch: dict[str, Any], calendar_id: str = "primary",
                    send_updates: str = "none") -> dict[str, Any]:
        return self._run(self._events.patch(calendarId=calendar_id, eventId=event_id, body=patch,
                                                        sendUpdates=send_updates),
                         f"update event {event_id}")

    def delete_event(self, event_id: str, calendar_id: str = "primary", send_updates: str = "none") -> bool:
        """Delete; False when it was already gone (404/410)."""
        try:
            self._run(self._events.delete(calendarId=calendar_id, eventId=event_id,
                                                      sendUpdates=send_updates),
                      f"delete event {event_id}")
            return True
        except GoogleApiError as exc:
            if exc.status in (404, 410):
                return False
            raise

    # -- Gmail v1 ----------------------------------------------------------------------------
    def get_vacation(self) -> dict[str, Any]:
        return self._run(self._settings.getVacation(userId="me"), "read the vacation responder")

    def update_vacation(self, settings: dict[str, Any]) -> dict[str, Any]:
        """Replace the vacation settings (a PUT: send every field you want kept)."""
        return self._run(self._settings.updateVacation(userId="me", body=settings),
                         "update the vacation responder")

    def send_message(self, message: EmailMessage) -> str:
        """Send ``message`` from the employee's mailbox; the Gmail message id. Tried once: a lost
        answer raises a ``transient`` error, and the caller looks the message up (``send_once``)."""
        raw = base64.urlsafe_b64encode(message.as_bytes()).decode()
        sent = self._run(self._messages.send(userId="me", body={"raw": raw}),
                         f"send {message.get('Subject', 'an email')!r}", once=True)
        return sent["id"]

    def find_message(self, message_id: str) -> str | None:
        """The Gmail id of the message with RFC 822 ``Message-ID`` ``message_id`` in the mailbox, if any."""
        query = "rfc822msgid:" + message_id.strip().strip("<>")
        found = self._run(self._messages.list(userId="me", q=query, includeSpamTrash=True,
                                                                maxResults=1),
                          "look for a sent message")
        messages = found.get("messages") or []
        return messages[0]["id"] if messages else None


def _http_error(exc: HttpError) -> tuple[int, str, str]:
    status = int(getattr(exc.resp, "status", 0) or 0)
    reason, message = "", exc.reason if hasattr(exc, "reason") else str(exc)
    try:
        error = json.loads(exc.content.decode("utf-8")).get("error", {})
        message = error.get("message", message)
        reason = (error.get("errors") or [{}])[0].get("reason", "") or error.get("status", "")
    except (ValueError, AttributeError, UnicodeDecodeError):
        pass
    return status, reason, message


def _oauth_error(exc: Exception) -> str:
    """The token endpoint's error ("invalid_grant: Invalid JWT Signature."), never the assertion."""
    detail = exc.args[1] if len(exc.args) > 1 else None
    if isinstance(detail, dict) and detail.get("error"):
        return f"{detail['error']}: {detail.get('error_description', '')}".strip()
    return str(exc.args[0] if exc.args else exc)
