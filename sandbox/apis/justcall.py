"""JustCall API v2.1, under /justcall/v2.1/...

Routes (relative to ``/justcall``, as on ``https://api.justcall.io``):

* ``GET /v2.1/texts``: filters ``justcall_number``, ``contact_number``, ``from_datetime`` /
  ``to_datetime`` (``yyyy-mm-dd hh:mm:ss`` or ``yyyy-mm-dd``, in the **account's time zone**,
  :data:`ACCOUNT_TZ`; a date alone as ``to_datetime`` means the end of that day),
  ``sms_direction`` (``incoming``/``outgoing``), ``sms_content``, ``sort`` (``id``/``datetime``),
  ``order`` (``desc`` by default), ``last_sms_id_fetched``; ``page`` (0-based) and ``per_page``
  (default 20, at most 100), with ``next_page_link``/``prev_page_link``;
* ``GET /v2.1/texts/{id}``; ``POST /v2.1/texts/new`` (sends a text: an outgoing one here).

Each text has the real fields: ``sms_date``/``sms_time`` in UTC, ``sms_user_date``/
``sms_user_time`` in the account's zone, ``direction`` ``Incoming``/``Outgoing``,
``sms_info.body`` … There is no route to read or change a voicemail greeting (as in the real
v2.1 API): such paths answer 404.

Auth: ``Authorization: <api_key>:<api_secret>`` (raw, no scheme), else 401. Errors:
``{"status": "error", "status_code": N, "message": …}``; a 429 carries the ``X-Rate-Limit-*``
headers, ``X-Rate-Limit-Reset`` being the UTC epoch second the window resets (JustCall's
rate-limit page), and ``Retry-After`` (seconds) unless the faults turn it off
(``Faults.retry_after_header``): whether JustCall sends it is UNCONFIRMED, so a client must cope
with a 429 that says only when the window resets.
"""

from __future__ import annotations

import datetime as dt
import html
import itertools
import math
import re
import time
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from ooo.team import Team
from sandbox.core import Api, ApiError, Faults, Request, Response
from sandbox.scenario import demo_absences

API_KEY = "jc-sandbox-key-0001"
API_SECRET = "jc-sandbox-secret-ooo"
ACCOUNT_TZ = "America/Denver"  # the account owner's zone: from_/to_datetime and sms_user_* use it
UTC = dt.timezone.utc
TEXT_QUERY = {"from_datetime", "to_datetime", "last_sms_id_fetched", "contact_number", "justcall_number",
              "sms_direction", "sms_content", "page", "per_page", "sort", "order"}

#: The sample scenario's clients who text their CSMs.
CONTACTS: tuple[tuple[str, str], ...] = (
    ("Big Sky Outfitters", "+14065550111"),
    ("Teton Family Dental", "+13075550122"),
    ("Gallatin Coffee Roasters", "+14065550133"),
    ("Bozeman Brewing Co.", "+14065550144"),
    ("Cody Auto Repair", "+13075550155"),
    ("Jackson Hole Yoga", "+13075550166"),
)
ASKS: tuple[str, ...] = (
    "Hi! Can you add our holiday special to the website? 20% off all tune-ups this week.",
    "Our website seems to be down, customers are calling us about it.",
    "Can we talk about next year's marketing plan when you have a minute?",
    "Quick one: please swap the hero photo on the home page for the new storefront shot.",
    "Is the Google review widget supposed to show only 3 reviews?",
    "We'd like to pause the Facebook ads for two weeks, can you do that?",
    "Please call me back about our invoice.",
)


def _parse_when(value: str, end: bool) -> dt.datetime:
    text = value.strip()
    tz = ZoneInfo(ACCOUNT_TZ)
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        day = dt.date.fromisoformat(text)
        moment = dt.datetime.combine(day, dt.time(23, 59, 59) if end else dt.time(0, 0), tz)
    elif re.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}", text):
        moment = dt.datetime.fromisoformat(text).replace(tzinfo=tz)
    else:
        raise ApiError(400, f"Invalid {'to' if end else 'from'}_datetime: use yyyy-mm-dd hh:mm:ss or yyyy-mm-dd")
    return moment.astimezone(UTC)


def _int(req: Request, name: str, default: int) -> int:
    raw = req.arg(name)
    if raw in (None, ""):
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ApiError(400, f"{name} must be a number") from exc


class JustCallApi(Api):
    name = "justcall"
    title = "JustCall"

    def __init__(self, sandbox: Any):
        super().__init__(sandbox)
        self.texts: dict[int, dict[str, Any]] = {}
        self._ids = itertools.count(880001)

    # -- helpers for tests and the seed -------------------------------------------------------
    def add_text(self, justcall_number: str, contact_number: str, body: str, at: dt.datetime,
                 direction: str = "Incoming", contact_name: str = "", agent_name: str = "",
                 agent_email: str = "") -> int:
        """A text to (``Incoming``) or from (``Outgoing``) ``justcall_number`` at ``at`` (aware); its id."""
        if at.tzinfo is None:
            raise ValueError("add_text needs an aware datetime")
        direction = {"incoming": "Incoming", "outgoing": "Outgoing"}[direction.lower()]
        with self.sandbox.lock:
            text_id = next(self._ids)
            utc = at.astimezone(UTC)
            user = at.astimezone(ZoneInfo(ACCOUNT_TZ))
            self.texts[text_id] = {
                "id": text_id,
                "contact_number": contact_number,
                "contact_name": contact_name,
                "contact_email": "",
                "justcall_number": justcall_number,
                "justcall_line_name": self._line_name(justcall_number),
                "agent_id": 0,
                "agent_name": agent_name,
                "agent_email": agent_email,
                "sms_date": utc.strftime("%Y-%m-%d"),
                "sms_time": utc.strftime("%H:%M:%S"),
                "sms_user_date": user.strftime("%Y-%m-%d"),
                "sms_user_time": user.strftime("%H:%M:%S"),
                "direction": direction,
                "cost_incurred": 0.0079,
                "sms_info": {"body": body, "is_mms": "No", "mms": []},
                "delivery_status": "Delivered" if direction == "Outgoing" else "Received",
                "is_deleted": False,
                "medium": "SMS",
            }
            return text_id

    def _line_name(self, number: str) -> str:
        team = getattr(self.sandbox, "team", None)
        person = next((p for p in (team.people if team else ()) if p.justcall_number == number), None)
        return f"{person.name} (direct)" if person else "Main line"

    def seed(self, team: Team, anchor: dt.date) -> None:
        """Texts to the CSMs around the demo's absences: answered, unanswered, on weekends, to others."""
        numbers = {p.email: p for p in team.people if p.justcall_number}
        others = [p for p in team.people if p.justcall_number]
        for n, absence in enumerate(demo_absences(anchor, team)):
            person = numbers.get(absence["employee"])
            if person is None:
                continue
            buddy = team.person(person.buddy) if person.buddy else None
            tz = ZoneInfo(person.timezone)
            day = absence["start"] - dt.timedelta(days=1)
            last = absence["end"] + dt.timedelta(days=3)
            i = n
            while day <= last:
                contact_name, contact = CONTACTS[i % len(CONTACTS)]
                weekend = day.isoweekday() >= 6
                at = dt.datetime.combine(day, dt.time(13, 40) if weekend else dt.time(9, 15 + (i % 4) * 10), tz)
                self.add_text(person.justcall_number, contact, ASKS[i % len(ASKS)], at, "Incoming", contact_name)
                if not weekend and i % 3 != 2:  # two in three answered within the hour, by the buddy
                    self.add_text(person.justcall_number, contact, "Thanks! I'm covering for "
                                  f"{person.first_name} this week and I'm on it.", at + dt.timedelta(minutes=42),
                                  "Outgoing", contact_name, buddy.name if buddy else "", buddy.email if buddy else "")
                if not weekend and i % 2 == 0:  # an evening text, left for the next review
                    late_name, late = CONTACTS[(i + 3) % len(CONTACTS)]
                    self.add_text(person.justcall_number, late, ASKS[(i + 2) % len(ASKS)],
                                  dt.datetime.combine(day, dt.time(18, 5), tz), "Incoming", late_name)
                other = next((p for p in others if p.email not in (person.email,)
                              and p.email != (buddy.email if buddy else "")), None)
                if other:  # texts to someone who is in: never part of the review
                    self.add_text(other.justcall_number, CONTACTS[(i + 1) % len(CONTACTS)][1],
                                  "Can you send over the monthly report?", at + dt.timedelta(minutes=5),
                                  "Incoming", CONTACTS[(i + 1) % len(CONTACTS)][0])
                day += dt.timedelta(days=1)
                i += 1

    # -- the frame ----------------------------------------------------------------------------
    def connection(self, base_url: str) -> dict[str, Any]:
        return {"ooo_justcall": {"conn_type": "http", "host": base_url + "/justcall", "login": API_KEY,
                                 "password": API_SECRET, "extra": {"Accept": "application/json"}}}

    def error(self, status: int, message: str, retry_after: int | None = None, **details: Any) -> Response:
        headers: dict[str, str] = {}
        if status == 429:
            message = "Too many requests. Rate limit exceeded, please retry later." if message == "rate limited" \
                else message
            reset = details.pop("reset_at", None) or (math.floor(time.time() / 3600) + 1) * 3600  # the hour's end
            headers.update({"X-Rate-Limit-Limit": "1800", "X-Rate-Limit-Remaining": "0",
                            "X-Rate-Limit-Reset": str(int(reset)),
                            "X-Rate-Limit-Burst-Limit": "30", "X-Rate-Limit-Burst-Remaining": "0"})
            if retry_after is not None:
                headers["Retry-After"] = str(retry_after)
        return Response(status, {"status": "error", "status_code": status, "message": message, **details}, headers)

    def rate_limited(self, faults: Faults) -> Response:
        """An injected 429 whose window resets ``faults.retry_after`` seconds from now (rounded up
        to JustCall's whole epoch second); Retry-After only if ``faults.retry_after_header``."""
        return self.error(429, "rate limited", retry_after=faults.retry_after if faults.retry_after_header else None,
                          reset_at=math.ceil(time.time() + faults.retry_after))

    def state(self) -> dict[str, Any]:
        return {"account_timezone": ACCOUNT_TZ, "texts": sorted(self.texts.values(), key=lambda t: t["id"])}

    def render(self) -> str:
        esc = html.escape
        rows = "".join(
            f"<tr><td>{t['id']}</td><td>{t['sms_date']} {t['sms_time']}</td><td>{esc(t['justcall_line_name'])}"
            f" {esc(t['justcall_number'])}</td><td>{t['direction']}</td>"
            f"<td>{esc(t['contact_name'])} {esc(t['contact_number'])}</td><td>{esc(t['agent_name'])}</td>"
            f"<td>{esc(t['sms_info']['body'])}</td></tr>"
            for t in sorted(self.texts.values(), key=lambda t: (t["sms_date"], t["sms_time"], t["id"])))
        return (f"<h3>Texts ({len(self.texts)}; account time zone {ACCOUNT_TZ})</h3><table><tr><th>id</th>"
                f"<th>UTC</th><th>JustCall line</th><th>direction</th><th>contact</th><th>agent</th><th>body</th></tr>"
                f"{rows}</table>")

    # -- requests -----------------------------------------------------------------------------
    def handle(self, req: Request) -> Response:
        if req.headers.get("authorization", "") != f"{API_KEY}:{API_SECRET}":
            raise ApiError(401, "Unauthorized: send the header Authorization: <api_key>:<api_secret>")
        parts = [p for p in req.path.split("/") if p]
        if parts[:2] != ["v2.1", "texts"]:
            raise ApiError(404, f"Route {req.method} {req.path} not found")
        if len(parts) == 2:
            self._method(req, "GET")
            return Response(200, self._list(req))
        if len(parts) == 3 and parts[2] == "new":
            self._method(req, "POST")
            return Response(200, self._new(req))
        if len(parts) == 3 and parts[2].isdigit():
            self._method(req, "GET")
            text = self.texts.get(int(parts[2]))
            if text is None or text["is_deleted"]:
                raise ApiError(404, f"Text with id {parts[2]} not found")
            return Response(200, {"status": "success", "data": [text]})
        raise ApiError(404, f"Route {req.method} {req.path} not found")

    @staticmethod
    def _method(req: Request, allowed: str) -> None:
        if req.method != allowed:
            raise ApiError(405, f"Method {req.method} not allowed for {req.path}")

    def _list(self, req: Request) -> dict[str, Any]:
        page = _int(req, "page", 0)
        per_page = _int(req, "per_page", 20)
        if page < 0:
            raise ApiError(400, "page must be 0 or more")
        if not 1 <= per_page <= 100:
            raise ApiError(400, "per_page must be between 1 and 100")
        direction = (req.arg("sms_direction") or "").strip()
        if direction and direction not in ("incoming", "outgoing"):
            raise ApiError(400, "sms_direction must be one of incoming, outgoing")
        sort = req.arg("sort") or "id"
        if sort not in ("id", "datetime"):
            raise ApiError(400, "sort must be one of id, datetime")
        order = (req.arg("order") or "desc").lower()
        if order not in ("asc", "desc"):
            raise ApiError(400, "order must be asc or desc")
        since = _parse_when(req.arg("from_datetime"), end=False) if req.arg("from_datetime") else None
        until = _parse_when(req.arg("to_datetime"), end=True) if req.arg("to_datetime") else None
        last_id = _int(req, "last_sms_id_fetched", 0)

        def when(t: dict[str, Any]) -> dt.datetime:
            return dt.datetime.fromisoformat(f"{t['sms_date']}T{t['sms_time']}+00:00")

        found = []
        for t in self.texts.values():
            if t["is_deleted"]:
                continue
            if req.arg("justcall_number") and t["justcall_number"] != req.arg("justcall_number"):
                continue
            if req.arg("contact_number") and t["contact_number"] != req.arg("contact_number"):
                continue
            if direction and t["direction"].lower() != direction:
                continue
            if req.arg("sms_content") and req.arg("sms_content").lower() not in t["sms_info"]["body"].lower():
                continue
            if since and when(t) < since or until and when(t) > until:
                continue
            if last_id and (t["id"] >= last_id if order == "desc" else t["id"] <= last_id):
                continue
            found.append(t)
        found.sort(key=(lambda t: t["id"]) if sort == "id" else (lambda t: (when(t), t["id"])),
                   reverse=order == "desc")
        chunk = found[page * per_page:(page + 1) * per_page]
        base = f"{self.sandbox.base_url}/justcall/v2.1/texts"
        query = {k: v[0] for k, v in req.query.items() if k in TEXT_QUERY and k != "page" and v}

        def link(n: int) -> str:
            return f"{base}?{urlencode({**query, 'page': n, 'per_page': per_page})}"

        return {
            "status_code": 200,
            "status": "success",
            "count": len(chunk),
            "total_texts": len(found),
            "current_page": page,
            "per_page": per_page,
            "next_page_link": link(page + 1) if (page + 1) * per_page < len(found) else None,
            "prev_page_link": link(page - 1) if page > 0 else None,
            "data": chunk,
        }

    def _new(self, req: Request) -> dict[str, Any]:
        body = req.json() if req.content_type == "application/json" else {k: v[0] for k, v in req.form().items()}
        missing = [f for f in ("justcall_number", "contact_number", "body") if not (body or {}).get(f)]
        if missing:
            raise ApiError(400, f"Missing required field(s): {', '.join(missing)}")
        if len(str(body["body"])) > 1600:
            raise ApiError(400, "body must be at most 1600 characters")
        text_id = self.add_text(str(body["justcall_number"]), str(body["contact_number"]), str(body["body"]),
                                dt.datetime.now(UTC), "Outgoing")
        return {"status": "success", "message": "Text sent", "data": self.texts[text_id]}
