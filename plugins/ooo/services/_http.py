"""JSON over an Airflow HTTP connection (``HttpHook``), with the throttling SaaS APIs ask for.

:class:`JsonHttp` builds one ``requests`` session from the connection through ``HttpHook.get_conn``
(base URL from ``host``; the secret goes into the header the service wants, never into logs)
and retries 429s (and 502/503/504) with backoff, honouring ``Retry-After`` (or ``RateLimit-Reset``,
seconds to wait) when the service sends it; a 429 without either that carries ``X-Rate-Limit-Reset``
(JustCall: the UTC epoch second its window resets) waits until that moment. Every wait is bounded
by ``max_wait``. A client that only reads (``reads_only``) also retries what may have
been applied: a 500, a timeout (the connection extra ``timeout``, default 30 s) or a dropped
connection. A write (``reads=False``) is sent again on a 429 only: any 5xx, timeout or dropped
connection may hide a write applied, so it gets those as errors, to look before writing again
(``ooo.services.once``).
A service's error text is cleaned of the credentials this session sends before it goes into an
error: a service (or a proxy before it) that echoes them would otherwise carry them into copies
of the task's log that Airflow's masker does not reach (the LocalExecutor's copy in the
scheduler's output) and into the ops alert.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Mapping
from typing import Any

from airflow.providers.http.hooks.http import HttpHook

from ooo.services.errors import ServiceError

log = logging.getLogger(__name__)

RETRYABLE = {429, 502, 503, 504}
LOST = {500}  # may have been applied: retried only when every call reads
REFUSED = {429}  # surely not applied: the only answer a write is sent again on


def scrub(value: Any, secrets: tuple[str, ...]) -> Any:
    """``value`` (text, or JSON of texts) with each of ``secrets`` replaced by ``***``."""
    if isinstance(value, str):
        for secret in secrets:
            value = value.replace(secret, "***")
        return value
    if isinstance(value, dict):
        return {key: scrub(item, secrets) for key, item in value.items()}
    if isinstance(value, list):
        return [scrub(item, secrets) for item in value]
    return value


def credentials(headers: Mapping[str, str], connection: Any) -> tuple[str, ...]:
    """What a session authenticates with, longest first: the auth headers' values, their words
    (``Bearer <token>``, ``<key>:<secret>``) and the connection's password."""
    found = {connection.password or ""}
    for value in headers.values():
        found.add(value)
        found.update(re.split(r"[\s:]+", value))
    return tuple(sorted((v for v in found if len(v) >= 8), key=len, reverse=True))


class HttpApiError(ServiceError):
    """A non-retryable error answer (or retries exhausted): status and the service's body."""

    def __init__(self, service: str, status: int, body: Any, method: str, endpoint: str):
        message = body.get("message") or body.get("error") if isinstance(body, dict) else None
        super().__init__(f"{service} {method} {endpoint} -> {status}: {message or body!r}")
        self.status = status
        self.body = body

    @property
    def transient(self) -> bool:
        """Whether the same request may pass later (refused for now, or perhaps applied unseen)."""
        return self.status in RETRYABLE | LOST


class JsonHttp:
    """One service's HTTP connection: ``request(method, endpoint, params=, json=) -> dict``."""

    def __init__(
        self,
        conn_id: str,
        service: str,
        auth_headers: Callable[[Any], Mapping[str, str]],
        not_headers: tuple[str, ...] = (),
        max_retries: int = 5,
        max_wait: float = 60.0,
        timeout: float = 30.0,
        sleep: Callable[[float], None] = time.sleep,
        reads_only: bool = False,
        clock: Callable[[], float] = time.time,
    ):
        self.conn_id = conn_id
        self.service = service
        self.hook = HttpHook(method="GET", http_conn_id=conn_id)
        self.connection = self.hook.get_connection(conn_id)
        self.extra: dict[str, Any] = dict(self.connection.extra_dejson)
        auth = auth_headers(self.connection)
        self.session = self.hook.get_conn(headers={"Accept": "application/json", **auth})
        self.credentials = credentials(auth, self.connection)
        for name in not_headers:  # settings kept in the connection's extra, not HTTP headers
            self.session.headers.pop(name, None)
        self.max_retries = max_retries
        self.max_wait = max_wait
        self.timeout = float(self.extra.get("timeout") or timeout)
        self.sleep = sleep
        self.clock = clock
        self.reads_only = reads_only

    def url(self, endpoint: str) -> str:
        return self.hook.url_from_endpoint(endpoint)

    def request(self, method: str, endpoint: str, params: Mapping[str, Any] | None = None,
                json: Any = None, reads: bool | None = None) -> dict[str, Any]:
        """The answer's JSON. ``reads`` (default: the client's ``reads_only``): whether a lost or
        500 answer may be retried; a write says False and looks for its effect instead."""
        import requests

        url = self.url(endpoint)
        reads = self.reads_only if reads is None else reads
        retryable = RETRYABLE | LOST if reads else REFUSED
        for attempt in range(self.max_retries + 1):
            try:
                response = self.session.request(method, url, params=params, json=json, timeout=self.timeout)
            except (requests.ConnectionError, requests.Timeout) as exc:
                if not reads or attempt == self.max_retries:
                    raise
                wait = min(0.5 * 2**attempt, self.max_wait)
                log.warning("%s %s %s got no answer (%s); retrying in %.1fs (attempt %d of %d)", self.service,
                            method, endpoint, type(exc).__name__, wait, attempt + 1, self.max_retries)
                self.sleep(wait)
                continue
            if response.status_code < 400:
                return response.json() if response.content else {}
            try:
                body: Any = response.json()
            except ValueError:
                body = response.text[:500]
            if response.status_code not in retryable or attempt == self.max_retries:
                raise HttpApiError(self.service, response.status_code, scrub(body, self.credentials), method,
                                   endpoint)
            wait = self._wait(response.status_code, response.headers, attempt)
            log.warning("%s %s %s answered %s; retrying in %.1fs (attempt %d of %d)", self.service, method,
                        endpoint, response.status_code, wait, attempt + 1, self.max_retries)
            self.sleep(wait)
        raise AssertionError("unreachable")

    def _wait(self, status: int, headers: Mapping[str, str], attempt: int) -> float:
        """Seconds before trying again: what the service asks for, else exponential backoff."""
        backoff = min(0.5 * 2**attempt, self.max_wait)
        for name in ("Retry-After", "RateLimit-Reset"):
            value = headers.get(name)
            if value is not None:
                try:
                    return min(max(float(value), 0.0), self.max_wait)
                except ValueError:
                    pass
        reset = headers.get("X-Rate-Limit-Reset")
        if status == 429 and reset is not None:  # on other answers it is only the window's end
            try:
                until = float(reset) - self.clock()
            except ValueError:
                return backoff
            return min(until, self.max_wait) if until > 0 else backoff  # a moment passed: back off a little
        return backoff
