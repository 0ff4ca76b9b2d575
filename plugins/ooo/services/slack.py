"""Slack Web API on the ``ooo_slack`` connection (providers-slack ``SlackHook`` -> ``slack_sdk``).

Connection: ``conn_type`` ``slack``, ``password`` = the bot token (``xoxb-…``); extra ``base_url``
only to point at the sandbox. Scopes: ``chat:write`` (post), ``channels:history`` and
``groups:history`` / ``im:history`` (find earlier posts; read a thread's replies), ``channels:read`` (channel names to
ids), ``im:write`` (open DMs), ``users:read`` + ``users:read.email`` (look people up by email).

Throttling: 429s are retried by slack_sdk's ``RateLimitErrorRetryHandler`` (it sleeps
``Retry-After``); dropped connections, timeouts (the connection extra ``timeout``, default 30 s)
and 5xx are retried for every call except ``chat.postMessage``, whose lost answer may hide a
post made (the step looks for it before posting again: ``ooo.services.once``). Every other
failure becomes a :class:`SlackError` whose message says what a person should do (invite the bot,
fix the channel name, replace the token).

Idempotency: Slack has no idempotency key, so a post carries ``metadata``
(``{event_type, event_payload: {key: …}}``) and :meth:`SlackClient.find_message_with_metadata`
looks for it in the channel's history (``include_all_metadata``) before posting again.

Status: :meth:`SlackClient.status` and :meth:`SlackClient.set_status` read and set a person's
:class:`SlackStatus` (``users.profile.get`` / ``users.profile.set``, idempotent). Slack lets only a
user token (``xoxp-…``, scopes ``users.profile:read`` and ``users.profile:write``) set a profile,
and someone else's only when that user is a workspace admin on a paid plan: build the client on the
``ooo_slack_user`` connection (an admin's user token) for these.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property
from http.client import RemoteDisconnected
from typing import Any
from urllib.error import URLError

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)

from ooo.services._deferred import deferring
from ooo.services.errors import ServiceError

with deferring("slack_sdk.web.async_client"):  # the hook's asyncio client (aiohttp): the steps call Slack in turn
    from airflow.providers.slack.hooks.slack import SlackHook

log = logging.getLogger(__name__)

_CHANNEL_ID = re.compile(r"^[CGD][A-Z0-9]{6,}$")
AUTH_ERRORS = {"invalid_auth", "not_authed", "token_revoked", "token_expired", "account_inactive"}
#: Codes that may pass if tried again; "unreachable" = no answer (the request may have been applied).
TRANSIENT = {"unreachable", "ratelimited", "fatal_error", "internal_error", "service_unavailable",
             "request_timeout", "http_500", "http_502", "http_503", "http_504"}
UNSAFE_TO_RESEND = ("chat.postMessage",)


class _UnlessPost:
    """A slack_sdk retry handler's rule, except for calls whose lost answer may hide a post."""

    def _can_retry(self, *, state: Any, request: Any, response: Any = None, error: Any = None) -> bool:
        if request.url.rstrip("/").endswith(UNSAFE_TO_RESEND):
            return False
        return super()._can_retry(state=state, request=request, response=response, error=error)  # type: ignore[misc]


class _ConnectionErrors(_UnlessPost, ConnectionErrorRetryHandler):
    def __init__(self, max_retry_count: int) -> None:
        super().__init__(max_retry_count=max_retry_count,
                         error_types=[URLError, ConnectionError, TimeoutError, RemoteDisconnected])


class _ServerErrors(_UnlessPost, ServerErrorRetryHandler):
    pass


class SlackError(ServiceError):
    """A Slack call failed; the message says what to do about it. ``code`` is Slack's error."""

    #: A channel's history shows a post as soon as it is made (no search index between), so a look
    #: after a lost answer needs no settling (``ooo.services.once``).
    settle_s = 0.0

    def __init__(self, message: str, code: str | None = None):
        super().__init__(message)
        self.code = code

    @property
    def transient(self) -> bool:
        return self.code in TRANSIENT


@dataclass(frozen=True)
class SlackStatus:
    """A person's Slack status: ``text`` and ``emoji`` (``:palm_tree:``), which Slack clears at
    ``expiration`` (None: it stays until changed). ``SlackStatus()`` is no status."""

    text: str = ""
    emoji: str = ""
    expiration: dt.datetime | None = None

    @property
    def is_clear(self) -> bool:
        return not self.text and not self.emoji

    def as_profile(self) -> dict[str, Any]:
        """The ``users.profile.set`` fields (``status_expiration`` in Unix seconds, 0: none)."""
        if self.expiration is not None and self.expiration.tzinfo is None:
            raise ValueError(f"the status expiration {self.expiration!r} has no time zone")
        return {"status_text": self.text, "status_emoji": self.emoji,
                "status_expiration": int(self.expiration.timestamp()) if self.expiration else 0}

    @classmethod
    def from_profile(cls, profile: dict[str, Any]) -> SlackStatus:
        expiration = int(profile.get("status_expiration") or 0)
        return cls(str(profile.get("status_text") or ""), str(profile.get("status_emoji") or ""),
                   dt.datetime.fromtimestamp(expiration, dt.timezone.utc) if expiration else None)


class SlackClient:
    """The few Slack calls the procedure needs, typed."""

    def __init__(self, conn_id: str = "ooo_slack", rate_limit_retries: int = 5, page_size: int = 200):
        self.conn_id = conn_id
        self.page_size = page_size
        self.hook = SlackHook(
            slack_conn_id=conn_id,
            retry_handlers=[_ConnectionErrors(max_retry_count=3), _ServerErrors(max_retry_count=3),
                            RateLimitErrorRetryHandler(max_retry_count=rate_limit_retries)],
        )
        self._channel_ids: dict[str, str] = {}
        self._own_user_id: str | None = None

    @cached_property
    def client(self) -> WebClient:
        return self.hook.client

    # -- calls --------------------------------------------------------------------------------
    def post_message(self, channel: str, text: str, metadata: dict[str, Any] | None = None,
                     blocks: list[dict[str, Any]] | None = None, thread_ts: str | None = None) -> str:
        """Post ``text`` (Slack mrkdwn) to ``channel`` (id or ``#name``); the message's ``ts``.

        With ``thread_ts`` it is a reply in that thread, also shown in the channel (broadcast), so
        the channel's history (where the once-only lookup reads) has it too.
        """
        kwargs: dict[str, Any] = {"channel": channel, "text": text, "unfurl_links": False, "unfurl_media": False}
        if thread_ts is not None:
            kwargs.update(thread_ts=thread_ts, reply_broadcast=True)
        if metadata is not None:
            kwargs["metadata"] = metadata
        if blocks is not None:
            kwargs["blocks"] = blocks
        response = self._call("chat.postMessage", channel, lambda: self.client.chat_postMessage(**kwargs))
        return str(response["ts"])

    def history(self, channel: str, oldest: float | None = None,
                with_metadata: bool = True) -> Iterator[dict[str, Any]]:
        """The channel's messages, newest first, every page (``oldest``: Unix seconds, exclusive)."""
        channel_id = self.channel_id(channel)
        cursor: str | None = None
        while True:
            kwargs: dict[str, Any] = {"channel": channel_id, "limit": self.page_size,
                                      "include_all_metadata": with_metadata}
            if oldest is not None:
                kwargs["oldest"] = f"{oldest:.6f}"
            if cursor:
                kwargs["cursor"] = cursor
            page = self._call("conversations.history", channel,
                              lambda args=kwargs: self.client.conversations_history(**args))
            yield from page.get("messages") or []
            cursor = (page.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                return

    def replies(self, channel: str, ts: str) -> Iterator[dict[str, Any]]:
        """A thread: its parent (``ts``) first, then every reply, oldest first, every page
        (``conversations.replies``; the history scopes of the channel's kind)."""
        channel_id = self.channel_id(channel)
        cursor: str | None = None
        while True:
            kwargs: dict[str, Any] = {"channel": channel_id, "ts": ts, "limit": self.page_size,
                                      "include_all_metadata": True}
            if cursor:
                kwargs["cursor"] = cursor
            page = self._call("conversations.replies", channel,
                              lambda args=kwargs: self.client.conversations_replies(**args))
            yield from page.get("messages") or []
            cursor = (page.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                return

    def messages_with_metadata(self, channel: str, event_type: str,
                               oldest: float | None = None) -> list[dict[str, Any]]:
        """Messages in ``channel`` whose metadata has ``event_type``, newest first."""
        return [m for m in self.history(channel, oldest)
                if (m.get("metadata") or {}).get("event_type") == event_type]

    def find_message_with_metadata(self, channel: str, event_type: str, key: str,
                                   oldest: float | None = None) -> dict[str, Any] | None:
        """The message posted with metadata ``{event_type, event_payload: {key}}``, or None."""
        for message in self.messages_with_metadata(channel, event_type, oldest):
            if (message["metadata"].get("event_payload") or {}).get("key") == key:
                return message
        return None

    def open_dm(self, user_id: str) -> str:
        """The id of the bot's direct-message channel with ``user_id`` (opened if needed)."""
        response = self._call("conversations.open", user_id, lambda: self.client.conversations_open(users=user_id))
        return str(response["channel"]["id"])

    def user_id_for(self, email: str) -> str:
        """The Slack user id of the person with ``email`` (``users.lookupByEmail``)."""
        response = self._call("users.lookupByEmail", email, lambda: self.client.users_lookupByEmail(email=email))
        return str(response["user"]["id"])

    def status(self, user_id: str) -> SlackStatus:
        """``user_id``'s status now (``users.profile.get``; a status past its expiration reads clear)."""
        response = self._call("users.profile.get", user_id, lambda: self.client.users_profile_get(user=user_id))
        return SlackStatus.from_profile(response["profile"] or {})

    def set_status(self, user_id: str, status: SlackStatus) -> SlackStatus:
        """Set ``user_id``'s status (``SlackStatus()`` clears it); the status Slack now shows. Someone
        else's needs this connection's token to be a workspace admin's user token."""
        profile = status.as_profile()
        mine = user_id == self.own_user_id()  # ``user`` is for admins only: never sent for oneself
        response = self._call("users.profile.set", user_id, lambda: self.client.users_profile_set(
            profile=profile, **({} if mine else {"user": user_id})))
        return SlackStatus.from_profile(response["profile"] or {})

    def own_user_id(self) -> str:
        """The user (or bot user) this connection's token acts as (``auth.test``, asked once)."""
        if self._own_user_id is None:
            self._own_user_id = str(self._call("auth.test", self.conn_id, self.client.auth_test)["user_id"])
        return self._own_user_id

    def channel_id(self, channel: str) -> str:
        """A channel's id from its id or ``#name`` (``conversations.list``, cached)."""
        if _CHANNEL_ID.match(channel):
            return channel
        name = channel.lstrip("#")
        if name not in self._channel_ids:
            try:
                self._channel_ids[name] = self._call("conversations.list", channel,
                                                     lambda: self.hook.get_channel_id(name))
            except LookupError as exc:
                raise SlackError(_explain("channel_not_found", "conversations.list", channel, self.conn_id),
                                 "channel_not_found") from exc
        return self._channel_ids[name]

    # -- errors -------------------------------------------------------------------------------
    def _call(self, method: str, subject: str, fn: Any) -> Any:
        try:
            return fn()
        except OSError as exc:  # dropped, timed out, refused (URLError is one too)
            raise SlackError(f"Slack did not answer {method} for {subject}: {exc}", "unreachable") from exc
        except SlackApiError as exc:
            response = exc.response
            code = (response.data or {}).get("error") if isinstance(response.data, dict) else None
            if response.status_code == 429:
                code = "ratelimited"
            code = code or f"http_{response.status_code}"
            needed = (response.data or {}).get("needed") if isinstance(response.data, dict) else None
            raise SlackError(_explain(code, method, subject, self.conn_id, needed, self._token_kind), code) from None

    @cached_property
    def _token_kind(self) -> str:
        """``user`` or ``bot``, from the token's prefix: what an error tells people to put back."""
        token = self.hook.get_connection(self.conn_id).password or ""
        return "user" if token.startswith("xoxp-") else "bot"


def _explain(code: str, method: str, subject: str, conn_id: str, needed: str | None = None,
             token_kind: str = "bot") -> str:  # noqa: S107 - a kind of token, not one
    if code == "not_allowed_token_type":
        return (f"Slack lets only a user token (xoxp-…) call {method}, and the Airflow connection {conn_id} "
                f"holds another kind (a bot token?): put a workspace admin's user token with the scope "
                f"users.profile:write in it. [{method}: not_allowed_token_type]")
    if code == "not_admin":
        return (f"Only a Slack workspace admin may set another person's status ({subject}): the user token in "
                f"the Airflow connection {conn_id} is not an admin's; put an admin's user token there. "
                f"[{method}: not_admin]")
    if code == "cannot_update_admin_user":
        return (f"{subject} is a Slack admin or owner, whose profile only the workspace's primary owner may "
                f"change: set the status by hand, or put the primary owner's user token in the Airflow "
                f"connection {conn_id}. [{method}: cannot_update_admin_user]")
    if code == "invalid_user" and method == "users.profile.set":
        return (f"Slack refused to set {subject}'s status (invalid_user): setting another person's profile needs "
                f"a paid Slack plan, and {subject} must be a member of the workspace. [{method}]")
    if code == "too_long":
        return f"The Slack status for {subject} is longer than Slack's 100 characters: shorten it. [{method}]"
    if code == "not_in_channel":
        return (f"The Slack bot is not a member of {subject}: invite it there (/invite @ooo-pipelines in "
                f"{subject}) and clear the task to retry. [{method}: not_in_channel]")
    if code == "channel_not_found":
        return (f"Slack channel {subject} was not found: check the channel name in the team file "
                f"(team.channels), or invite the bot if it is a private channel. [{method}: channel_not_found]")
    if code in AUTH_ERRORS:
        prefix = "xoxp" if token_kind == "user" else "xoxb"  # noqa: S105 - token prefixes, not tokens
        return (f"Slack refused the {token_kind} token in the Airflow connection {conn_id} ({code}): put a valid "
                f"{token_kind} token ({prefix}-…) in the connection's password. [{method}]")
    if code == "missing_scope":
        where = "the app's User Token Scopes" if (needed or "").startswith("users.profile") else "the app"
        return (f"The Slack token in {conn_id} lacks the scope {needed or '(see the README)'} that {method} needs: "
                f"add it to {where}, reinstall the app and update the token in {conn_id}.")
    if code == "thread_not_found":
        return (f"Slack found no such message to read the thread of in {subject} (was it deleted?). "
                f"[{method}: thread_not_found]")
    if code in ("users_not_found", "user_not_found"):
        return (f"No Slack user was found for {subject}: check the email in the team file or add the "
                f"person's slack_id there. [{method}: {code}]")
    if code == "ratelimited":
        return f"Slack kept rate limiting {method} after several retries: clear the task to retry later."
    if code in TRANSIENT:
        return f"Slack {method} for {subject} failed for now ({code}): the task's retry tries again."
    return f"Slack {method} for {subject} failed: {code}."
