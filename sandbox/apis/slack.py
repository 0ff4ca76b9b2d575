"""Slack Web API, under /slack/api/<method>.

Methods: ``auth.test``, ``chat.postMessage``, ``conversations.history``, ``conversations.replies``,
``conversations.open``, ``conversations.list``, ``conversations.info``, ``users.lookupByEmail``,
``users.info``, ``users.profile.get``, ``users.profile.set``.

Tokens: the bot's (``xoxb-``, the ``ooo_slack`` connection) and two user tokens (``xoxp-``): the
workspace admin's (its primary owner, the team's first manager; the optional ``ooo_slack_user``
connection) and a regular member's (the first other person). Each holds scopes; a method whose
scope the token lacks is ``missing_scope`` (with ``needed`` and ``provided``), as Slack answers.
Status, as Slack's ``users.profile.set`` page has it: only a user token may set a profile (a bot
token: ``not_allowed_token_type``); ``user`` (someone else's profile) only for an admin
(``not_admin``) on a paid plan (on a free one: ``invalid_user``, as users report it), never an
admin's unless by the primary owner (``cannot_update_admin_user``); ``status_text`` up to 100
characters (``too_long``); a status past its ``status_expiration`` reads back cleared.

As Slack does: arguments come as query parameters, a form body or a JSON body (the token as
``Authorization: Bearer`` or a ``token`` argument); business errors are HTTP 200 with
``{"ok": false, "error": "<code>"}`` (``invalid_auth``, ``not_authed``, ``channel_not_found``,
``not_in_channel``, ``users_not_found``, ``invalid_cursor``, ``no_text``…); throttling is HTTP 429
with ``Retry-After`` and ``{"ok": false, "error": "ratelimited"}``; an unknown method is
``unknown_method`` (HTTP 404). ``ts`` values are strings, unique per channel. Message metadata
(``{event_type, event_payload}``) is stored and returned by ``conversations.history`` only with
``include_all_metadata``. History pages newest first with ``limit`` and an opaque ``cursor``
(``response_metadata.next_cursor``).

Threads, as Slack keeps them: a reply (``thread_ts`` set, another message's ``ts``) is not in
``conversations.history`` unless it was also sent to the channel (``subtype: thread_broadcast``);
``conversations.replies`` (``channel`` and ``ts`` required; ``ts`` the parent's or any reply's)
answers the parent first, then the replies oldest first, paged by ``limit`` (default 1000) and
``cursor``, each reply with ``parent_user_id``; a parent with replies carries ``reply_count``,
``reply_users``, ``reply_users_count`` and ``latest_reply`` in both methods. A ``ts`` that names no
message is ``thread_not_found``; a missing one ``invalid_arguments``. The bot reads a thread with
its history scopes, in a channel it is a member of (``not_in_channel`` otherwise): Slack's method
page lists the bot scopes ``channels:history`` / ``groups:history`` / ``im:history``, though its
usage notes say bot tokens may read only DM threads (contradictory; the scopes table is followed
here, and bots are widely seen reading channel threads: UNCONFIRMED).

Seeded from the team: the team's channels (``team.channels``; the bot is a member), a
``#general`` channel the bot is not in (for ``not_in_channel``), every person as a user (the
roster's ``slack_id``, or a generated id for people without one: ``users.lookupByEmail`` finds
them), and a few human messages in the channels.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import html
import itertools
import json
import time
from collections.abc import Callable
from typing import Any

from ooo.team import Team
from sandbox.core import Api, ApiError, Request, Response

TOKEN = "xoxb-sandbox-0000000000-ooo-pipelines"
ADMIN_USER_TOKEN = "xoxp-sandbox-0000000000-workspace-admin"
MEMBER_USER_TOKEN = "xoxp-sandbox-0000000000-regular-member"
#: What each token was granted: the ooo_slack app's bot scopes, and the user scopes for the status.
BOT_SCOPES = ("chat:write", "channels:history", "groups:history", "im:history", "channels:read", "im:write",
              "users:read", "users:read.email")
USER_SCOPES = ("users.profile:read", "users.profile:write")
#: The scopes a method accepts (any one), as its page on api.slack.com lists them.
METHOD_SCOPES: dict[str, tuple[str, ...]] = {
    "auth.test": (),
    "chat.postMessage": ("chat:write",),
    "conversations.history": ("channels:history", "groups:history", "im:history", "mpim:history"),
    "conversations.replies": ("channels:history", "groups:history", "im:history", "mpim:history"),
    "conversations.open": ("im:write", "mpim:write"),
    "conversations.list": ("channels:read", "groups:read", "im:read", "mpim:read"),
    "conversations.info": ("channels:read", "groups:read", "im:read", "mpim:read"),
    "users.lookupByEmail": ("users:read.email",),
    "users.info": ("users:read",),
    "users.profile.get": ("users.profile:read",),
    "users.profile.set": ("users.profile:write",),
}
#: Profile fields users.profile.set takes here (the status, and the names and title people edit).
PROFILE_FIELDS = {"status_text", "status_emoji", "status_expiration", "first_name", "last_name", "display_name",
                  "real_name", "title", "phone", "pronouns"}
STATUS_TEXT_MAX = 100
DEFAULT_STATUS_EMOJI = ":speech_balloon:"  # what Slack shows for a status set with text only (UNCONFIRMED)
TEAM_ID = "T0YELLOW01"
BOT_USER = "U0OOOBOT01"
BOT_ID = "B0OOOBOT01"
MAX_LIMIT = 1000


class SlackError(ApiError):
    """A Slack business error: HTTP 200, ``ok: false``."""

    def __init__(self, code: str, status: int = 200, **details: Any):
        super().__init__(status, code, **details)


def generated_user_id(email: str) -> str:
    """The sandbox's id for a person the roster gives no Slack id."""
    digest = base64.b32encode(hashlib.sha256(email.lower().encode()).digest()).decode()
    return "U09" + digest[:7]


def _channel_id(name: str) -> str:
    digest = base64.b32encode(hashlib.sha256(name.encode()).digest()).decode()
    return "C0" + digest[:8]


def _cursor(offset: int) -> str:
    return base64.b64encode(f"next_ts:{offset}".encode()).decode()


def _offset(cursor: str) -> int:
    try:
        text = base64.b64decode(cursor.encode(), validate=True).decode()
        if not text.startswith("next_ts:"):
            raise ValueError(text)
        return int(text.split(":", 1)[1])
    except (ValueError, UnicodeDecodeError) as exc:
        raise SlackError("invalid_cursor") from exc


def _truthy(value: Any) -> bool:
    return str(value).strip().lower() in ("1", "true", "yes") if value is not None else False


def _window(args: dict[str, Any]) -> Callable[[dict[str, Any]], bool]:
    """``oldest`` / ``latest`` / ``inclusive`` of conversations.history and .replies, as a test on a message."""
    inclusive = _truthy(args.get("inclusive"))
    try:
        oldest = float(args.get("oldest") or 0)
    except ValueError as exc:
        raise SlackError("invalid_ts_oldest") from exc
    try:
        latest = float(args["latest"]) if args.get("latest") else None
    except ValueError as exc:
        raise SlackError("invalid_ts_latest") from exc

    def within(m: dict[str, Any]) -> bool:
        ts = float(m["ts"])
        low = ts >= oldest if inclusive else ts > oldest
        high = latest is None or (ts <= latest if inclusive else ts < latest)
        return low and high

    return within


class SlackApi(Api):
    name = "slack"
    title = "Slack"

    def __init__(self, sandbox: Any):
        super().__init__(sandbox)
        self.users: dict[str, dict[str, Any]] = {}
        self.channels: dict[str, dict[str, Any]] = {}  # id -> channel (with "messages", oldest first)
        self.tokens: dict[str, dict[str, Any]] = {TOKEN: {"user": BOT_USER, "type": "bot", "scopes": set(BOT_SCOPES)}}
        self.paid_plan = True  # setting someone else's profile needs a paid plan
        self._last_ts = 0.0
        self._dm_ids = itertools.count(1)

    # -- seed and helpers for tests ------------------------------------------------------------
    def seed(self, team: Team, anchor: dt.date) -> None:
        self.add_user("ooo-pipelines", "ooo-pipelines", user_id=BOT_USER, is_bot=True)
        for person in team.people:
            self.add_user(person.email, person.name, user_id=person.slack_id, tz=person.timezone)
        people = [u["id"] for u in self.users.values() if not u["is_bot"]]
        admin = next((p for p in team.people if p.role == "manager"), team.people[0] if team.people else None)
        member = next((p for p in team.people if p is not admin and p.role != "manager"), None)
        if admin is not None:
            admin_id = self.user_id(admin.email) or ""
            self.users[admin_id].update(is_admin=True, is_owner=True, is_primary_owner=True)
            self.add_token(ADMIN_USER_TOKEN, admin_id)
        if member is not None:
            self.add_token(MEMBER_USER_TOKEN, self.user_id(member.email) or "")
        for channel in team.channels.values():
            self.add_channel(channel, members=people)
        self.add_channel("#general", members=people, bot_member=False)
        notice = self.channel_by_name(team.channels.get("team_notice", ""))
        if notice and len(people) > 1:
            self.add_message(notice["id"], "Reminder: the Q4 renewal list is pinned in the channel.", user=people[0])
        support = self.channel_by_name(team.channels.get("support", ""))
        if support and people:
            self.add_message(support["id"], "Morning! SMS queue is clear.", user=people[-1])

    def add_user(self, email: str, name: str, user_id: str | None = None, tz: str = "America/Denver",
                 is_bot: bool = False) -> str:
        """A workspace user (``user_id`` generated from the email when not given); its id."""
        with self.sandbox.lock:
            uid = user_id or generated_user_id(email)
            self.users[uid] = {
                "id": uid, "team_id": TEAM_ID, "name": email.split("@")[0], "real_name": name,
                "deleted": False, "is_bot": is_bot, "tz": tz,
                "is_admin": False, "is_owner": False, "is_primary_owner": False,
                "profile": {"email": None if is_bot else email.lower(), "real_name": name, "display_name": name,
                            "status_text": "", "status_emoji": "", "status_expiration": 0},
            }
            return uid

    def add_token(self, token: str, user_id: str, scopes: tuple[str, ...] = USER_SCOPES) -> None:
        """A user token (``xoxp-``) of ``user_id`` granted ``scopes``."""
        with self.sandbox.lock:
            if user_id not in self.users:
                raise KeyError(user_id)
            self.tokens[token] = {"user": user_id, "type": "user", "scopes": set(scopes)}

    def status(self, user_id: str) -> dict[str, Any]:
        """``user_id``'s status as Slack shows it now: ``text``, ``emoji``, ``expiration`` (Unix seconds, 0: none)."""
        with self.sandbox.lock:
            self._expire_statuses()
            profile = self.users[user_id]["profile"]
            return {"text": profile["status_text"], "emoji": profile["status_emoji"],
                    "expiration": profile["status_expiration"]}

    def add_channel(self, name: str, members: list[str] | None = None, bot_member: bool = True) -> str:
        """A public channel (``#name`` or ``name``); the bot is in it unless ``bot_member`` is false."""
        with self.sandbox.lock:
            plain = name.lstrip("#")
            cid = _channel_id(plain)
            members = set(members or [])
            if bot_member:
                members.add(BOT_USER)
            self.channels[cid] = {"id": cid, "name": plain, "is_channel": True, "is_im": False,
                                  "created": int(time.time()), "members": members, "messages": [], "user": None}
            return cid

    def channel_by_name(self, name: str) -> dict[str, Any] | None:
        plain = name.lstrip("#")
        return next((c for c in self.channels.values() if c["name"] == plain and not c["is_im"]), None)

    def add_message(self, channel: str, text: str, user: str | None = None,
                    metadata: dict[str, Any] | None = None, at: float | None = None,
                    thread_ts: str | None = None) -> str:
        """A message in ``channel`` (id or name), by ``user`` (default the bot); its ts. With
        ``thread_ts``: a reply in that message's thread (as a person replies in Slack)."""
        with self.sandbox.lock:
            chan = self._channel(channel)
            if thread_ts is not None and not any(m["ts"] == thread_ts for m in chan["messages"]):
                raise KeyError(f"no message {thread_ts} in {channel}")
            ts = self._ts(at)
            message: dict[str, Any] = {"type": "message", "text": text, "ts": ts, "user": user or BOT_USER}
            if (user or BOT_USER) == BOT_USER:
                message.update(bot_id=BOT_ID, app_id="A0OOOAPP01")
            if thread_ts is not None:
                message["thread_ts"] = thread_ts
            if metadata:
                message["metadata"] = metadata
            chan["messages"].append(message)
            chan["messages"].sort(key=lambda m: float(m["ts"]))
            return ts

    def messages(self, channel: str) -> list[dict[str, Any]]:
        """The messages of a channel (id or name), oldest first (copies)."""
        with self.sandbox.lock:
            return [json.loads(json.dumps(m)) for m in self._channel(channel)["messages"]]

    def dm_messages(self, user_id: str) -> list[dict[str, Any]]:
        """The bot's direct messages with ``user_id``, oldest first ([] if none was opened)."""
        with self.sandbox.lock:
            dm = next((c for c in self.channels.values() if c["is_im"] and c["user"] == user_id), None)
            return [json.loads(json.dumps(m)) for m in dm["messages"]] if dm else []

    def user_id(self, email: str) -> str | None:
        return next((u["id"] for u in self.users.values() if u["profile"]["email"] == email.lower()), None)

    def admin(self, method: str, parts: list[str], body: Any) -> Response | None:
        """``POST /_sandbox/slack/reply`` ``{"channel", "thread_ts", "user": <email>, "text"}``: a person
        replies in a thread (the demo's teammate answering a client-visit notice)."""
        if method != "POST" or parts != ["reply"]:
            return None
        fields = ("channel", "thread_ts", "user", "text")
        if not isinstance(body, dict) or set(body) != set(fields) or not all(
                isinstance(body[f], str) and body[f] for f in fields):
            return Response(400, {"error": 'send {"channel", "thread_ts", "user": "<email>", "text"}'})
        user = self.user_id(body["user"])
        if user is None:
            return Response(400, {"error": f"{body['user']} is not a user of this workspace"})
        try:
            ts = self.add_message(body["channel"], body["text"], user=user, thread_ts=body["thread_ts"])
        except (KeyError, SlackError) as exc:
            return Response(400, {"error": str(exc)})
        return Response(200, {"ts": ts})

    # -- the frame --------------------------------------------------------------------------
    def connection(self, base_url: str) -> dict[str, Any]:
        extra = {"base_url": base_url + "/slack/api/"}
        return {"ooo_slack": {"conn_type": "slack", "password": TOKEN, "extra": extra},
                "ooo_slack_user": {"conn_type": "slack", "password": ADMIN_USER_TOKEN, "extra": dict(extra)}}

    def error(self, status: int, message: str, retry_after: int | None = None, **details: Any) -> Response:
        headers: dict[str, str] = {}
        if status == 429:
            message = "ratelimited"
            headers["Retry-After"] = str(retry_after if retry_after is not None else 1)
        elif status >= 500 and not message.isidentifier():
            message = "fatal_error" if status == 500 else "service_unavailable"
        return Response(status, {"ok": False, "error": message, **details}, headers)

    def state(self) -> dict[str, Any]:
        self._expire_statuses()
        return {
            "users": list(self.users.values()),
            "channels": [{**{k: v for k, v in c.items() if k != "members"}, "members": sorted(c["members"])}
                         for c in self.channels.values()],
        }

    def render(self) -> str:
        esc = html.escape
        out = []
        for chan in sorted(self.channels.values(), key=lambda c: (c["is_im"], c["name"])):
            if chan["is_im"]:
                who = self.users.get(chan["user"], {}).get("real_name", chan["user"])
                title = f"DM with {esc(who)}"
            else:
                title = f"#{esc(chan['name'])}" + ("" if BOT_USER in chan["members"] else " (bot not a member)")
            rows = "".join(
                f"<tr><td>{dt.datetime.fromtimestamp(float(m['ts']), dt.timezone.utc):%Y-%m-%d %H:%M:%S}"
                f"<br><small>ts {esc(m['ts'])}</small></td>"
                f"<td>{esc(self.users.get(m.get('user'), {}).get('real_name', m.get('user') or ''))}</td>"
                f"<td><pre style='white-space:pre-wrap;margin:0'>{_reply_mark(m)}{esc(m['text'])}</pre></td>"
                f"<td>{esc(m['metadata']['event_type']) if m.get('metadata') else ''}</td></tr>"
                for m in chan["messages"])
            out.append(f"<h3>{title} ({len(chan['messages'])})</h3><table><tr><th>ts (UTC)</th><th>from</th>"
                       f"<th>text (mrkdwn)</th><th>metadata</th></tr>{rows}</table>")
        self._expire_statuses()
        users = "".join(f"<tr id='slack-user-{esc(u['id'])}'><td>{esc(u['id'])}</td><td>{esc(u['real_name'])}"
                        f"{' (admin)' if u['is_admin'] else ''}</td>"
                        f"<td>{esc(u['profile']['email'] or '(bot)')}</td><td>{_status_html(u['profile'])}</td></tr>"
                        for u in self.users.values())
        out.append("<h3>Users</h3><table><tr><th>id</th><th>name</th><th>email</th><th>status</th></tr>"
                   f"{users}</table>")
        return "".join(out)

    # -- requests -----------------------------------------------------------------------------
    def handle(self, req: Request) -> Response:
        parts = [p for p in req.path.split("/") if p]
        if len(parts) != 2 or parts[0] != "api":
            raise SlackError("unknown_method", status=404)
        method = parts[1]
        handler = {
            "chat.postMessage": self._post_message,
            "conversations.history": self._history,
            "conversations.replies": self._replies,
            "conversations.open": self._open,
            "conversations.list": self._list,
            "conversations.info": self._info,
            "users.lookupByEmail": self._lookup,
            "users.info": self._user_info,
        }.get(method)
        as_caller = {  # the methods whose answer depends on who calls
            "auth.test": self._auth_test,
            "users.profile.get": self._profile_get,
            "users.profile.set": self._profile_set,
        }.get(method)
        if handler is None and as_caller is None:
            raise SlackError("unknown_method", status=404, req_method=method)
        if req.method not in ("GET", "POST"):
            raise SlackError("invalid_request", status=405)
        args = self._args(req)
        token = args.pop("token", None)
        auth = req.headers.get("authorization", "")
        if auth.lower().startswith("bearer "):
            token = auth[7:].strip()
        if not token:
            raise SlackError("not_authed")
        caller = self.tokens.get(token)
        if caller is None:
            raise SlackError("invalid_auth")
        if method == "users.profile.set" and caller["type"] != "user":
            raise SlackError("not_allowed_token_type")
        needed = METHOD_SCOPES[method]
        if needed and not caller["scopes"] & set(needed):
            raise SlackError("missing_scope", needed=needed[0], provided=",".join(sorted(caller["scopes"])))
        self._expire_statuses()
        return Response(200, {"ok": True, **(as_caller(args, caller) if as_caller else handler(args))})

    @staticmethod
    def _args(req: Request) -> dict[str, Any]:
        args: dict[str, Any] = {k: v[0] for k, v in req.query.items() if v}
        if req.body:
            if req.content_type == "application/json":
                try:
                    body = req.json()
                except ValueError as exc:
                    raise SlackError("invalid_json") from exc
                if not isinstance(body, dict):
                    raise SlackError("invalid_json")
                args.update(body)
            elif req.content_type in ("application/x-www-form-urlencoded", ""):
                args.update({k: v[0] for k, v in req.form().items() if v})
            elif req.content_type != "multipart/form-data":
                raise SlackError("invalid_form_data")
        return args

    def _ts(self, at: float | None = None) -> str:
        now = at if at is not None else time.time()
        if at is None:
            now = max(now, self._last_ts + 0.000001)
            self._last_ts = now
        return f"{now:.6f}"

    def _channel(self, ref: Any) -> dict[str, Any]:
        if not ref or not isinstance(ref, str):
            raise SlackError("channel_not_found")
        chan = self.channels.get(ref) or self.channel_by_name(ref)
        if chan is None:
            raise SlackError("channel_not_found")
        return chan

    def _member_channel(self, ref: Any) -> dict[str, Any]:
        chan = self._channel(ref)
        if BOT_USER not in chan["members"]:
            raise SlackError("not_in_channel")
        return chan

    def _public(self, chan: dict[str, Any]) -> dict[str, Any]:
        base = {"id": chan["id"], "created": chan["created"], "is_im": chan["is_im"]}
        if chan["is_im"]:
            return {**base, "user": chan["user"], "is_open": True}
        return {**base, "name": chan["name"], "is_channel": True, "is_private": False, "is_archived": False,
                "is_member": BOT_USER in chan["members"], "num_members": len(chan["members"])}

    # -- methods --------------------------------------------------------------------------------
    def _auth_test(self, args: dict[str, Any], caller: dict[str, Any]) -> dict[str, Any]:
        user = self.users.get(caller["user"], {"name": "ooo-pipelines"})
        found = {"url": "https://yellowstonelocal.slack.com/", "team": "Yellowstone Local", "user": user["name"],
                 "team_id": TEAM_ID, "user_id": caller["user"], "is_enterprise_install": False}
        return {**found, "bot_id": BOT_ID} if caller["type"] == "bot" else found

    def _profile_get(self, args: dict[str, Any], caller: dict[str, Any]) -> dict[str, Any]:
        user = self.users.get(str(args.get("user") or caller["user"]))
        if user is None:
            raise SlackError("user_not_found")
        return {"profile": json.loads(json.dumps(user["profile"]))}

    def _profile_set(self, args: dict[str, Any], caller: dict[str, Any]) -> dict[str, Any]:
        me = self.users[caller["user"]]
        target = self.users.get(str(args.get("user") or caller["user"]))
        if target is None:
            raise SlackError("user_not_found")
        if target is not me:
            if not me["is_admin"] and not me["is_owner"]:
                raise SlackError("not_admin")
            if not self.paid_plan:
                raise SlackError("invalid_user")  # free plan: users report this code (UNCONFIRMED by Slack)
            if (target["is_admin"] or target["is_owner"]) and not me["is_primary_owner"]:
                raise SlackError("cannot_update_admin_user")
            if target["is_bot"] and not me["is_owner"]:
                raise SlackError("not_app_admin")
        changes = _profile_changes(args)
        profile = {**target["profile"], **changes}
        for name, other in (("status_text", "status_emoji"), ("status_emoji", "status_text")):
            if changes.get(name) == "" and other not in changes and profile[other]:
                raise SlackError("must_clear_both_status_text_and_status_emoji")
        if profile["status_text"] and not profile["status_emoji"]:
            profile["status_emoji"] = DEFAULT_STATUS_EMOJI
        if not profile["status_text"] and not profile["status_emoji"]:
            profile["status_expiration"] = 0
        target["profile"] = profile
        if "real_name" in changes:
            target["real_name"] = changes["real_name"]
        return {"profile": json.loads(json.dumps(profile)), "username": target["name"]}

    def _expire_statuses(self) -> None:
        """Slack clears a status at its expiration."""
        now = time.time()
        for user in self.users.values():
            profile = user["profile"]
            if profile.get("status_expiration") and profile["status_expiration"] <= now:
                profile.update(status_text="", status_emoji="", status_expiration=0)

    def _post_message(self, args: dict[str, Any]) -> dict[str, Any]:
        chan = self._member_channel(args.get("channel"))
        text = args.get("text")
        blocks = _json_arg(args.get("blocks"), "invalid_blocks")
        if not text and not blocks:
            raise SlackError("no_text")
        if text and len(str(text)) > 40000:
            raise SlackError("msg_too_long")
        metadata = _json_arg(args.get("metadata"), "invalid_metadata_format")
        if metadata is not None and (not isinstance(metadata, dict) or not metadata.get("event_type")
                                     or not isinstance(metadata.get("event_payload", {}), dict)):
            raise SlackError("invalid_metadata_format")
        ts = self._ts()
        message: dict[str, Any] = {"type": "message", "text": str(text or ""), "ts": ts, "user": BOT_USER,
                                   "bot_id": BOT_ID, "app_id": "A0OOOAPP01"}
        if blocks:
            message["blocks"] = blocks
        if args.get("thread_ts"):
            message["thread_ts"] = str(args["thread_ts"])
            if _truthy(args.get("reply_broadcast")):
                message["subtype"] = "thread_broadcast"
        if metadata:
            message["metadata"] = {"event_type": metadata["event_type"],
                                   "event_payload": metadata.get("event_payload") or {}}
        chan["messages"].append(message)
        shown = {k: v for k, v in message.items() if k != "metadata"}
        return {"channel": chan["id"], "ts": ts, "message": shown}

    def _page(self, items: list[Any], args: dict[str, Any], default: int) -> tuple[list[Any], str]:
        try:
            limit = int(args.get("limit") or default)
        except ValueError as exc:
            raise SlackError("invalid_limit") from exc
        limit = max(1, min(limit, MAX_LIMIT))
        start = _offset(args["cursor"]) if args.get("cursor") else 0
        if start > len(items):
            raise SlackError("invalid_cursor")
        page = items[start:start + limit]
        return page, (_cursor(start + limit) if start + limit < len(items) else "")

    def _history(self, args: dict[str, Any]) -> dict[str, Any]:
        chan = self._member_channel(args.get("channel"))
        within = _window(args)

        def in_history(m: dict[str, Any]) -> bool:  # thread replies live in conversations.replies
            return m.get("thread_ts", m["ts"]) == m["ts"] or m.get("subtype") == "thread_broadcast"

        found = [m for m in reversed(chan["messages"]) if within(m) and in_history(m)]
        page, next_cursor = self._page(found, args, 100)
        with_meta = _truthy(args.get("include_all_metadata"))
        messages = [self._shown(chan, m, with_meta) for m in page]
        return {"messages": messages, "has_more": bool(next_cursor), "pin_count": 0,
                "channel_actions_ts": None, "channel_actions_count": 0,
                "response_metadata": {"next_cursor": next_cursor}}

    def _replies(self, args: dict[str, Any]) -> dict[str, Any]:
        chan = self._member_channel(args.get("channel"))
        ts = str(args.get("ts") or "").strip()
        if not ts:
            raise SlackError("invalid_arguments",  # the newer methods' answer to a missing argument (UNCONFIRMED here)
                             response_metadata={"messages": ["[ERROR] missing required field: ts"]})
        given = next((m for m in chan["messages"] if m["ts"] == ts), None)
        if given is None or given.get("subtype") in ("channel_join", "channel_leave"):
            raise SlackError("thread_not_found")
        root = given.get("thread_ts", given["ts"])
        parent = next((m for m in chan["messages"] if m["ts"] == root), None)
        if parent is None:
            raise SlackError("thread_not_found")
        within = _window(args)
        # The parent always leads the thread (UNCONFIRMED whether Slack leaves it out when
        # ``oldest`` is after it); the replies follow, oldest first.
        thread = [parent, *(m for m in chan["messages"] if m.get("thread_ts") == root and m["ts"] != root
                            and within(m))]
        page, next_cursor = self._page(thread, args, MAX_LIMIT)
        with_meta = _truthy(args.get("include_all_metadata"))
        return {"messages": [self._shown(chan, m, with_meta) for m in page], "has_more": bool(next_cursor),
                "response_metadata": {"next_cursor": next_cursor}}

    def _shown(self, chan: dict[str, Any], message: dict[str, Any], with_meta: bool) -> dict[str, Any]:
        """A message as the history and thread methods answer it: a copy, metadata only when asked,
        a parent's thread summary, a reply's parent user."""
        shown = json.loads(json.dumps({k: v for k, v in message.items() if with_meta or k != "metadata"}))
        root = message.get("thread_ts")
        replies = [m for m in chan["messages"] if m.get("thread_ts") == message["ts"] and m["ts"] != message["ts"]]
        if replies:
            users = list(dict.fromkeys(m["user"] for m in replies))
            shown.update(thread_ts=message["ts"], reply_count=len(replies), reply_users_count=len(users),
                         reply_users=users[:5], latest_reply=replies[-1]["ts"], is_locked=False, subscribed=False)
        elif root and root != message["ts"]:
            parent = next((m for m in chan["messages"] if m["ts"] == root), None)
            if parent is not None:
                shown["parent_user_id"] = parent["user"]
        return shown

    def _open(self, args: dict[str, Any]) -> dict[str, Any]:
        if args.get("channel"):
            return {"channel": self._public(self._channel(args["channel"]))}
        users = [u.strip() for u in str(args.get("users") or "").split(",") if u.strip()]
        if not users:
            raise SlackError("users_list_not_supplied")
        if len(users) > 1:
            raise SlackError("invalid_arguments")  # group DMs: not needed here
        user = users[0]
        if user not in self.users or self.users[user]["deleted"]:
            raise SlackError("user_not_found")
        dm = next((c for c in self.channels.values() if c["is_im"] and c["user"] == user), None)
        already = dm is not None
        if dm is None:
            cid = f"D0{next(self._dm_ids):08d}"
            dm = {"id": cid, "name": cid, "is_channel": False, "is_im": True, "created": int(time.time()),
                  "members": {BOT_USER, user}, "messages": [], "user": user}
            self.channels[cid] = dm
        channel = {"id": dm["id"]} if not _truthy(args.get("return_im")) else self._public(dm)
        result: dict[str, Any] = {"channel": channel}
        if already:
            result.update(no_op=True, already_open=True)
        return result

    def _list(self, args: dict[str, Any]) -> dict[str, Any]:
        types = {t.strip() for t in str(args.get("types") or "public_channel").split(",")}
        chans = [c for c in self.channels.values()
                 if ("im" in types and c["is_im"]) or ("public_channel" in types and not c["is_im"])]
        page, next_cursor = self._page(chans, args, 100)
        return {"channels": [self._public(c) for c in page], "response_metadata": {"next_cursor": next_cursor}}

    def _info(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"channel": self._public(self._channel(args.get("channel")))}

    def _lookup(self, args: dict[str, Any]) -> dict[str, Any]:
        email = str(args.get("email") or "").strip().lower()
        if not email:
            raise SlackError("invalid_arguments")
        uid = self.user_id(email)
        if uid is None:
            raise SlackError("users_not_found")
        return {"user": self.users[uid]}

    def _user_info(self, args: dict[str, Any]) -> dict[str, Any]:
        user = self.users.get(str(args.get("user") or ""))
        if user is None:
            raise SlackError("user_not_found")
        return {"user": user}


def _profile_changes(args: dict[str, Any]) -> dict[str, Any]:
    """The fields users.profile.set changes: ``profile`` (JSON, or a JSON string in a form post) or
    one ``name``/``value`` pair; Slack's error for a bad one."""
    if args.get("profile") is not None:
        given = _json_arg(args["profile"], "invalid_profile")
        if not isinstance(given, dict):
            raise SlackError("invalid_profile")
    elif args.get("name"):
        given = {str(args["name"]): args.get("value", "")}
    else:
        raise SlackError("invalid_profile")
    unknown = sorted(set(given) - PROFILE_FIELDS)
    if unknown:  # stricter than Slack, which ignores a field it does not know: a typo fails here
        raise SlackError("invalid_profile", response_metadata={"messages": [f"[ERROR] unknown field: {unknown[0]}"]})
    changes: dict[str, Any] = {}
    for name, value in given.items():
        if name == "status_expiration":
            try:
                changes[name] = int(value or 0)
            except (TypeError, ValueError):
                raise SlackError("invalid_profile") from None
            if changes[name] < 0:
                raise SlackError("invalid_profile")
        elif not isinstance(value, str):
            raise SlackError("invalid_profile")
        else:
            changes[name] = value
    if len(changes.get("status_text", "")) > STATUS_TEXT_MAX:
        raise SlackError("too_long")
    return changes


def _reply_mark(message: dict[str, Any]) -> str:
    """``↳ `` before a reply in a thread, as the page shows it."""
    return "↳ " if message.get("thread_ts") not in (None, message["ts"]) else ""


def _status_html(profile: dict[str, Any]) -> str:
    """A person's status as the sandbox page shows it."""
    if not profile.get("status_text") and not profile.get("status_emoji"):
        return ""
    until = profile.get("status_expiration") or 0
    shown = f"{profile.get('status_emoji', '')} {profile.get('status_text', '')}".strip()
    if until:
        shown += f" (until {dt.datetime.fromtimestamp(until, dt.timezone.utc):%Y-%m-%d %H:%M} UTC)"
    return html.escape(shown)


def _json_arg(value: Any, error: str) -> Any:
    """A JSON-typed argument, which form-encoded calls send as a string (Slack's ``error`` if bad)."""
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except ValueError as exc:
        raise SlackError(error) from exc
