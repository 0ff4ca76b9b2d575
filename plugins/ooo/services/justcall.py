"""JustCall API v2.1 texts on the ``ooo_justcall`` HTTP connection (providers-http ``HttpHook``).

Connection: ``conn_type`` ``http``, ``host`` = ``https://api.justcall.io`` (or the sandbox),
``login`` = the API key, ``password`` = the API secret. JustCall wants them as the raw header
``Authorization: <key>:<secret>`` (no ``Basic``), which this client builds; HttpHook's own
Basic auth is switched off. An ``Authorization`` header in the extra is used as is instead.

``from_datetime``/``to_datetime`` are read by JustCall in the account owner's time zone, which
the API does not tell; the client asks for whole days around the window (wide enough for any
zone) and keeps the texts whose ``sms_date`` + ``sms_time`` (UTC) fall in it exactly.
429s (and 502/503/504) are retried honouring ``Retry-After``, with backoff otherwise.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from ooo.services._http import LOST, RETRYABLE, HttpApiError, JsonHttp
from ooo.services.errors import ServiceError

UTC = dt.timezone.utc
PER_PAGE = 100
MAX_PAGES = 200


class JustCallError(ServiceError):
    """A JustCall call failed; the message says what to do about it."""

    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.status = status

    @property
    def transient(self) -> bool:
        return self.status in RETRYABLE | LOST


@dataclass(frozen=True)
class Text:
    """One SMS to or from a JustCall number."""

    id: int
    at: dt.datetime  # aware, UTC (sms_date + sms_time)
    direction: str  # "incoming" | "outgoing"
    justcall_number: str
    contact_number: str
    contact_name: str
    body: str
    agent_name: str = ""

    @classmethod
    def parse(cls, raw: dict[str, Any]) -> Text:
        at = dt.datetime.fromisoformat(f"{raw['sms_date']}T{raw['sms_time']}").replace(tzinfo=UTC)
        direction = str(raw.get("direction") or "").strip().lower()
        direction = {"inbound": "incoming", "outbound": "outgoing"}.get(direction, direction)
        if direction not in ("incoming", "outgoing"):
            raise JustCallError(f"JustCall text {raw.get('id')} has an unknown direction {raw.get('direction')!r}")
        info = raw.get("sms_info") or {}
        return cls(
            id=int(raw["id"]),
            at=at,
            direction=direction,
            justcall_number=str(raw.get("justcall_number") or ""),
            contact_number=str(raw.get("contact_number") or ""),
            contact_name=str(raw.get("contact_name") or ""),
            body=str(info.get("body") or ""),
            agent_name=str(raw.get("agent_name") or ""),
        )


def _auth(conn: Any) -> dict[str, str]:
    given = (conn.extra_dejson or {}).get("Authorization")
    if given:
        return {"Authorization": str(given)}
    if not (conn.login and conn.password):
        raise JustCallError(f"The Airflow connection {conn.conn_id} has no JustCall API key: put the API key in "
                            "its login and the API secret in its password.")
    return {"Authorization": f"{conn.login}:{conn.password}"}


class JustCallClient:
    """JustCall texts, typed."""

    def __init__(self, conn_id: str = "ooo_justcall", **http_options: Any):
        self.conn_id = conn_id
        self.http = JsonHttp(conn_id, "JustCall", _auth, reads_only=True, **http_options)
        self.http.session.auth = None  # the raw key:secret header, not HTTP Basic from login/password

    def texts(self, justcall_number: str, since: dt.datetime, until: dt.datetime,
              direction: str | None = None, contact_number: str | None = None) -> list[Text]:
        """Texts to/from ``justcall_number`` with ``since <= time < until`` (aware), oldest first."""
        if since.tzinfo is None or until.tzinfo is None:
            raise ValueError("texts() needs aware datetimes")
        if direction not in (None, "incoming", "outgoing"):
            raise ValueError("direction is 'incoming', 'outgoing' or None")
        since, until = since.astimezone(UTC), until.astimezone(UTC)
        params: dict[str, Any] = {
            "justcall_number": justcall_number,
            # whole days, a day wider on each side: covers any account time zone
            "from_datetime": (since - dt.timedelta(days=1)).strftime("%Y-%m-%d"),
            "to_datetime": (until + dt.timedelta(days=1)).strftime("%Y-%m-%d"),
            "sort": "id",
            "order": "asc",
            "per_page": PER_PAGE,
        }
        if direction:
            params["sms_direction"] = direction
        if contact_number:
            params["contact_number"] = contact_number
        found: dict[int, Text] = {}
        for page in range(MAX_PAGES):
            body = self._get("v2.1/texts", {**params, "page": page})
            rows = body.get("data") or []
            for raw in rows:
                if raw.get("is_deleted"):
                    continue
                text = Text.parse(raw)
                if text.justcall_number == justcall_number and since <= text.at < until \
                        and (direction is None or text.direction == direction):
                    found[text.id] = text
            if not body.get("next_page_link") or len(rows) < PER_PAGE:
                break
        else:
            raise JustCallError(f"JustCall returned more than {MAX_PAGES} pages of texts for {justcall_number}")
        return sorted(found.values(), key=lambda t: (t.at, t.id))

    def _get(self, endpoint: str, params: dict[str, Any]) -> dict[str, Any]:
        try:
            return self.http.request("GET", endpoint, params=params)
        except HttpApiError as exc:
            raise JustCallError(_explain(exc, self.conn_id), exc.status) from None


def _explain(exc: HttpApiError, conn_id: str) -> str:
    detail = exc.body.get("message") if isinstance(exc.body, dict) else exc.body
    if exc.status == 401:
        return (f"JustCall refused the API key and secret of the Airflow connection {conn_id} (401): put the API "
                f"key in its login and the API secret in its password. ({detail})")
    if exc.status == 403:
        return (f"JustCall denied access (403): API access needs the Team plan or above, and the key's user must "
                f"see the number. ({detail})")
    if exc.status == 429:
        return "JustCall kept rate limiting the texts list after several retries: clear the task to retry later."
    if exc.status == 404:
        return f"JustCall has no such route (404): check the host of the connection {conn_id}. ({detail})"
    return f"JustCall texts list failed with HTTP {exc.status}: {detail}"
