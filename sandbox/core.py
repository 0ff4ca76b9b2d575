"""The sandbox's frame: one loopback HTTP server, a path prefix per API, shared state and faults.

Each API (``sandbox/apis/*.py``) is an :class:`Api` subclass that speaks its service's real wire
format under ``/<name>/...`` (``/slack/api/chat.postMessage``, ``/google/calendar/v3/...``).
The frame adds what every API shares: seeding from the team roster, fault injection (429s with
Retry-After, 5xx, timeouts, dropped connections, latency, and kinds only one vendor answers, such
as Google's 403 throttling; some strike after the request was applied, so only the answer is
lost; a ``match`` aims them at one route), a request log, a JSON view of the state for tests, an
HTML page for people, and per-API controls under ``/_sandbox/<api>/...``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import html
import json
import logging
import random
import re
import threading
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from ooo.team import Team, load_team

log = logging.getLogger("sandbox")


@dataclass
class Request:
    method: str
    path: str  # below the API's prefix, always starting with "/"
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-cased names
    body: bytes

    def arg(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[0] if values else default

    def json(self) -> Any:
        return json.loads(self.body or b"null")

    def form(self) -> dict[str, list[str]]:
        return parse_qs(self.body.decode("utf-8"), keep_blank_values=True)

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";")[0].strip().lower()


@dataclass
class Response:
    status: int = 200
    body: Any = None  # dict/list -> JSON, str -> text, bytes as is, None -> empty
    headers: dict[str, str] = field(default_factory=dict)
    hold_s: float = 0.0  # wait this long before answering (a timeout fault)
    drop: bool = False  # close the connection without answering

    def encode(self) -> tuple[bytes, str]:
        if self.body is None:
            return b"", "application/json"
        if isinstance(self.body, bytes):
            return self.body, self.headers.get("Content-Type", "application/octet-stream")
        if isinstance(self.body, str):
            return self.body.encode(), self.headers.get("Content-Type", "text/html; charset=utf-8")
        return json.dumps(self.body).encode(), "application/json; charset=utf-8"


class ApiError(Exception):
    """Raised inside a handler; the API turns it into its own error envelope."""

    def __init__(self, status: int, message: str, **details: Any):
        super().__init__(message)
        self.status = status
        self.message = message
        self.details = details


#: Fault kinds every API answers, and what a ``rate`` draws from by default. ``*_after`` ones strike
#: once the API has applied the request (the effect is done, the answer is lost): what makes a blind
#: retry double a post.
FAULT_KINDS = ("429", "5xx", "timeout", "drop", "5xx_after", "timeout_after", "drop_after")
#: Kinds only some APIs answer (each lists its own in :attr:`Api.fault_kinds`); never drawn unless
#: named in ``kinds`` or ``next_kinds``. Google throttles with a 403 as often as with a 429.
VENDOR_FAULT_KINDS = ("403_rateLimitExceeded", "403_userRateLimitExceeded")


@dataclass
class Faults:
    """Per-API fault injection, set by tests (``Sandbox.faults``), ``POST /_sandbox/faults/<api>``
    (``/_sandbox/faults`` for every API at once) or ``python -m sandbox --faults``.

    ``match`` (a regular expression searched in ``"<METHOD> <path below the API's prefix>"``, e.g.
    ``"POST /gmail/v1/users/me/messages/send"``) aims every fault at the requests it matches; the
    others pass untouched. ``search_lag`` is not a fault of a request but of the service's search
    index (Gmail's ``q`` searches miss messages sent less than that many seconds ago).
    """

    rate_limit_next: int = 0  # answer the next N requests with 429 + Retry-After
    retry_after: int = 1
    retry_after_header: bool = True  # False: 429s without Retry-After (an API may send its own signal instead)
    fail_next: int = 0  # answer the next N requests with ``fail_status``
    fail_status: int = 503
    error_rate: float = 0.0  # chance of ``fail_status`` on any request
    latency_ms: int = 0
    rate: float = 0.0  # chance that a request meets one of ``kinds`` (drawn evenly)
    kinds: list[str] = field(default_factory=lambda: list(FAULT_KINDS))
    next_kinds: list[str] = field(default_factory=list)  # the next requests meet these, in order
    match: str = ""  # only requests whose "METHOD /path" this searches meet a fault
    hold_s: float = 5.0  # how long a timeout holds the answer: set it above the clients' timeout
    search_lag: float = 0.0  # seconds a sent message stays out of search results (Google)

    def __post_init__(self) -> None:
        unknown = set(self.kinds) | set(self.next_kinds)
        unknown -= set(FAULT_KINDS) | set(VENDOR_FAULT_KINDS)
        if unknown or not 0 <= self.rate <= 1:
            raise ValueError(f"fault kinds are {FAULT_KINDS + VENDOR_FAULT_KINDS} (not {sorted(unknown)}), "
                             "rate 0..1")
        if self.search_lag < 0:
            raise ValueError("search_lag is seconds, 0 or more")
        try:
            re.compile(self.match)
        except re.error as exc:
            raise ValueError(f"match is not a regular expression: {exc}") from None

    def copy(self) -> Faults:
        return dataclasses.replace(self, kinds=list(self.kinds), next_kinds=list(self.next_kinds))

    def hits(self, method: str, path: str) -> bool:
        return not self.match or re.search(self.match, f"{method} {path}") is not None


class Api:
    """One service's API. Subclasses set ``name`` (the path prefix) and ``title``."""

    name: str = ""
    title: str = ""
    fault_kinds: tuple[str, ...] = ()  # the VENDOR_FAULT_KINDS this API answers (``fault_response``)

    def __init__(self, sandbox: Sandbox):
        self.sandbox = sandbox

    # -- to implement -------------------------------------------------------------------------
    def seed(self, team: Team, anchor: dt.date) -> None:
        """Fill the state with the sample scenario around ``anchor`` (the demo's today)."""

    def handle(self, req: Request) -> Response:
        raise ApiError(404, f"no route {req.method} {req.path}")

    def error(self, status: int, message: str, retry_after: int | None = None, **details: Any) -> Response:
        """The service's own error envelope (429s carry Retry-After)."""
        headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
        return Response(status, {"error": message, **details}, headers)

    def fault_response(self, kind: str, faults: Faults) -> Response | None:
        """The answer for one of this API's own :attr:`fault_kinds` (None: not one of them)."""
        return None

    def admin(self, method: str, parts: list[str], body: Any) -> Response | None:
        """A control under ``/_sandbox/<name>/<parts...>`` (``body``: the JSON sent); None: no such route."""
        return None

    def rate_limited(self, faults: Faults) -> Response:
        """The answer to an injected 429: the service's envelope, with Retry-After unless
        ``faults.retry_after_header`` is off (an API overrides this to send its own signal)."""
        return self.error(429, "rate limited", retry_after=faults.retry_after if faults.retry_after_header else None)

    def state(self) -> dict[str, Any]:
        return {}

    def connection(self, base_url: str) -> dict[str, Any]:
        """The Airflow connection (as ``AIRFLOW_CONN_*`` JSON) that points at this API."""
        return {}

    def render(self) -> str:
        """An HTML fragment for the sandbox page; by default the state as JSON."""
        return f"<pre>{html.escape(json.dumps(self.state(), indent=2, default=str))}</pre>"


class Sandbox:
    """The state of every API, the faults and the request log; served by :class:`SandboxServer`."""

    def __init__(self, team: Team, api_classes: list[type[Api]], anchor: dt.date | None = None):
        self.team = team
        self.anchor = anchor or dt.date.today()
        self.lock = threading.RLock()
        self.apis: dict[str, Api] = {}
        for cls in api_classes:
            self.apis[cls.name] = cls(self)
        self.faults: dict[str, Faults] = {name: Faults() for name in self.apis}
        self.fault_seed = 0
        self.rng = random.Random(self.fault_seed)  # seeded: a fault run can be replayed
        self.injected: Counter[tuple[str, str]] = Counter()  # (api, kind) -> faults injected
        self.requests: deque[dict[str, Any]] = deque(maxlen=500)
        self.base_url = ""

    def set_faults(self, faults: Faults, seed: int | None = None) -> None:
        """The same faults on every API (``seed`` restarts the fault RNG); a vendor's own kinds go to
        the APIs that answer them only."""
        with self.lock:
            self.faults = {}
            for name, api in self.apis.items():
                mine = faults.copy()
                mine.kinds = [k for k in mine.kinds if k in FAULT_KINDS or k in api.fault_kinds]
                mine.next_kinds = [k for k in mine.next_kinds if k in FAULT_KINDS or k in api.fault_kinds]
                self.faults[name] = mine
            if seed is not None:
                self.fault_seed = seed
                self.rng = random.Random(seed)

    def fault_report(self) -> dict[str, Any]:
        """The faults set on each API and how many of each kind were injected."""
        with self.lock:
            injected: dict[str, dict[str, int]] = {}
            for (api, kind), count in sorted(self.injected.items()):
                injected.setdefault(api, {})[kind] = count
            return {"seed": self.fault_seed, "injected": injected,
                    "faults": {name: dataclasses.asdict(f) for name, f in self.faults.items()}}

    def api(self, name: str) -> Any:
        return self.apis[name]

    def seed(self) -> None:
        with self.lock:
            for api in self.apis.values():
                api.seed(self.team, self.anchor)

    def reset(self) -> None:
        with self.lock:
            for name, api in list(self.apis.items()):
                self.apis[name] = type(api)(self)
            self.faults = {name: Faults() for name in self.apis}
            self.injected.clear()
            self.requests.clear()

    def state(self) -> dict[str, Any]:
        with self.lock:
            return {name: api.state() for name, api in self.apis.items()}

    def connections(self, timeout: int | None = None) -> dict[str, dict[str, Any]]:
        """Airflow connection id -> connection JSON, for every API that has one; ``timeout``: each
        client's (the connection extra ``timeout``), set below ``Faults.hold_s`` for fault runs."""
        conns: dict[str, dict[str, Any]] = {}
        for api in self.apis.values():
            conns.update(api.connection(self.base_url))
        if timeout is not None:
            conns = {cid: {**c, "extra": {**c.get("extra", {}), "timeout": timeout}} for cid, c in conns.items()}
        return conns

    def dispatch(self, method: str, raw_path: str, headers: dict[str, str], body: bytes) -> Response:
        parts = urlsplit(raw_path)
        segments = parts.path.split("/", 2)
        name = segments[1] if len(segments) > 1 else ""
        query = parse_qs(parts.query, keep_blank_values=True)
        if parts.path in ("", "/"):
            from sandbox.page import render_page

            return Response(200, render_page(self))
        if name == "_sandbox":
            return self._admin(method, parts.path, body)
        api = self.apis.get(name)
        if api is None:
            return Response(404, {"error": f"no API under /{name}"})
        req = Request(method, "/" + (segments[2] if len(segments) > 2 else ""), query, headers, body)
        kind, response = self._faulted(api, req)
        if response is None:
            response = self._handle(api, req)
            if kind is not None:  # applied, but the client never hears so
                response = self._fault_response(api, kind.removesuffix("_after"))
        with self.lock:
            self.requests.append(
                {
                    "at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
                    "api": name,
                    "method": method,
                    "path": req.path,
                    "status": response.status,
                    **({"fault": kind} if kind else {}),
                }
            )
        return response

    def _handle(self, api: Api, req: Request) -> Response:
        try:
            with self.lock:
                return api.handle(req)
        except ApiError as exc:
            return api.error(exc.status, exc.message, **exc.details)
        except Exception as exc:  # a sandbox bug must show, not hang the client
            log.exception("sandbox %s crashed on %s %s", api.name, req.method, req.path)
            return api.error(500, f"sandbox error: {exc!r}")

    def _faulted(self, api: Api, req: Request) -> tuple[str | None, Response | None]:
        """The fault this request meets, if any, and the answer instead of handling it (None: handle
        it, then strike with an ``*_after`` kind)."""
        with self.lock:
            f = self.faults[api.name]
            if not f.hits(req.method, req.path):
                return None, None
            delay = f.latency_ms
            if f.rate_limit_next > 0:
                f.rate_limit_next -= 1
                return None, api.rate_limited(f)
            if f.fail_next > 0 or (f.error_rate and random.random() < f.error_rate):
                f.fail_next = max(0, f.fail_next - 1)
                return None, api.error(f.fail_status, "injected failure")
            if f.next_kinds:
                kind: str | None = f.next_kinds.pop(0)
            else:
                kind = self.rng.choice(f.kinds) if f.rate and f.kinds and self.rng.random() < f.rate else None
            if kind is not None:
                self.injected[(api.name, kind)] += 1
        if delay:
            time.sleep(delay / 1000)
        if kind is None or kind.endswith("_after"):
            return kind, None
        return kind, self._fault_response(api, kind)

    def _fault_response(self, api: Api, kind: str) -> Response:
        with self.lock:
            f = self.faults[api.name]
            status = self.rng.choice((500, 502, 503))
        if kind == "429":
            return api.rate_limited(f)
        if kind == "5xx":
            return api.error(status, "injected failure")
        if kind in VENDOR_FAULT_KINDS:
            own = api.fault_response(kind, f)
            return own if own is not None else api.error(500, f"sandbox: {api.name} does not answer fault {kind}")
        return Response(504, hold_s=f.hold_s if kind == "timeout" else 0.0, drop=True)  # 504: the log's word

    def _admin(self, method: str, path: str, body: bytes) -> Response:
        parts = path.strip("/").split("/")[1:]
        if method == "GET" and parts == ["state"]:
            return Response(200, self.state())
        if method == "GET" and len(parts) == 2 and parts[0] == "state" and parts[1] in self.apis:
            with self.lock:
                return Response(200, self.apis[parts[1]].state())
        if method == "GET" and parts == ["connections"]:  # what `ooo plan --services` reads by default
            return Response(200, self.connections())
        if method == "GET" and parts == ["requests"]:
            with self.lock:
                return Response(200, list(self.requests))
        if method == "GET" and parts == ["faults"]:
            return Response(200, self.fault_report())
        if method == "POST" and parts[:1] == ["faults"] and (len(parts) == 1 or parts[1] in self.faults):
            given = json.loads(body or b"{}")
            seed = given.pop("seed", None)
            try:
                faults = parse_faults(given)
                if len(parts) == 2:
                    check_kinds(self.apis[parts[1]], faults)
            except ValueError as exc:
                return Response(400, {"error": str(exc)})
            if len(parts) == 1:
                self.set_faults(faults, seed)
                return Response(200, self.fault_report())
            with self.lock:
                self.faults[parts[1]] = faults
            return Response(200, dataclasses.asdict(self.faults[parts[1]]))
        if method == "POST" and parts == ["reset"]:
            self.reset()
            self.seed()
            return Response(200, {"ok": True})
        if len(parts) >= 2 and parts[0] in self.apis:
            try:
                given = json.loads(body or b"null")
            except ValueError:
                return Response(400, {"error": "the body is not JSON"})
            with self.lock:
                answer = self.apis[parts[0]].admin(method, parts[1:], given)
            if answer is not None:
                return answer
        return Response(404, {"error": f"no admin route {method} {path}"})


def parse_faults(given: dict[str, Any]) -> Faults:
    """:class:`Faults` from JSON (``{"rate": 0.3, "kinds": [...]}``); ValueError names what is wrong."""
    unknown = set(given) - {f.name for f in dataclasses.fields(Faults)}
    if unknown:
        raise ValueError(f"unknown fault fields {sorted(unknown)}")
    try:
        return Faults(**given)
    except TypeError as exc:
        raise ValueError(str(exc)) from None


def check_kinds(api: Api, faults: Faults) -> None:
    """ValueError when ``faults`` names a vendor's kind that ``api`` does not answer."""
    foreign = (set(faults.kinds) | set(faults.next_kinds)) - set(FAULT_KINDS) - set(api.fault_kinds)
    if foreign:
        raise ValueError(f"{api.name} does not answer fault kinds {sorted(foreign)} "
                         f"(its own: {list(api.fault_kinds) or 'none'})")


class _Handler(BaseHTTPRequestHandler):
    sandbox: Sandbox
    protocol_version = "HTTP/1.1"

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = {k.lower(): v for k, v in self.headers.items()}
        response = self.sandbox.dispatch(self.command, self.path, headers, body)
        if response.hold_s:
            time.sleep(response.hold_s)
        if response.drop:  # no answer at all: the client sees the connection closed
            self.close_connection = True
            return
        payload, content_type = response.encode()
        self.send_response(response.status)
        if response.status != HTTPStatus.NO_CONTENT:
            self.send_header("Content-Type", content_type)
        for name, value in response.headers.items():
            if name.lower() != "content-type":
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if payload and self.command != "HEAD":
            self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _serve

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib's name
        log.debug("%s " + format, self.address_string(), *args)


class SandboxServer:
    """Serves a :class:`Sandbox` on loopback in a background thread (port 0 = a free port)."""

    def __init__(self, sandbox: Sandbox, host: str = "127.0.0.1", port: int = 0):
        handler = type("Handler", (_Handler,), {"sandbox": sandbox})
        self.httpd = ThreadingHTTPServer((host, port), handler)
        self.httpd.daemon_threads = True
        self.sandbox = sandbox
        self.url = f"http://{host}:{self.httpd.server_address[1]}"
        sandbox.base_url = self.url
        self._thread: threading.Thread | None = None

    def start(self) -> SandboxServer:
        self._thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="sandbox", daemon=True)  # stop() waits one poll
        self._thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def make_sandbox(team: Team | None = None, anchor: dt.date | None = None, seed: bool = True) -> Sandbox:
    from sandbox.apis import API_CLASSES

    sandbox = Sandbox(team or load_team(), API_CLASSES, anchor=anchor)
    if seed:
        sandbox.seed()
    return sandbox


def start_sandbox(
    team: Team | None = None, port: int = 0, anchor: dt.date | None = None, seed: bool = True
) -> SandboxServer:
    """Start a seeded sandbox on a free loopback port; ``.url``, ``.sandbox``, ``.stop()``."""
    return SandboxServer(make_sandbox(team, anchor, seed), port=port).start()


def connection_env(conns: dict[str, dict[str, Any]]) -> dict[str, str]:
    """``AIRFLOW_CONN_<ID>`` environment variables for the given connections."""
    return {f"AIRFLOW_CONN_{conn_id.upper()}": json.dumps(conn) for conn_id, conn in conns.items()}

