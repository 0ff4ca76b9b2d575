"""SlackClient against the sandbox's Slack Web API: posts, metadata lookups, paging, DMs, 429s, errors."""

from __future__ import annotations

import datetime as dt
import json
import time

import pytest
import requests

from ooo.services.slack import SlackClient, SlackError, SlackStatus
from sandbox.apis.slack import ADMIN_USER_TOKEN, MEMBER_USER_TOKEN, TOKEN, generated_user_id
from sandbox.core import Faults

NOTICE = "#dept-client-services-must-reads"
OPS = "#ooo-ops"


@pytest.fixture
def slack(connections):
    return connections.sandbox.api("slack")


def _requests(connections, method: str) -> list[dict]:
    return [r for r in connections.sandbox.requests if r["api"] == "slack" and r["path"] == f"/api/{method}"]


def test_post_message_lands_in_the_channel_with_metadata(connections, slack):
    client = SlackClient()
    meta = {"event_type": "ooo_test", "event_payload": {"key": "k-1", "n": 1}}
    ts = client.post_message(OPS, "Hello *ops* &lt;team&gt;", metadata=meta)
    assert isinstance(ts, str) and "." in ts
    posted = slack.messages(OPS)[-1]
    assert posted["ts"] == ts and posted["text"] == "Hello *ops* &lt;team&gt;"
    assert posted["metadata"] == meta and posted["bot_id"]
    found = client.find_message_with_metadata(OPS, "ooo_test", "k-1")
    assert found is not None and found["ts"] == ts and found["metadata"]["event_payload"]["n"] == 1
    assert client.find_message_with_metadata(OPS, "ooo_test", "k-2") is None
    assert client.find_message_with_metadata(OPS, "other_event", "k-1") is None


def test_find_message_pages_history_and_honours_oldest(connections, slack):
    channel = slack.channel_by_name(NOTICE)["id"]
    base = time.time() - 3600
    slack.add_message(channel, "ours", metadata={"event_type": "ooo_team_notice", "event_payload": {"key": "abc"}},
                      at=base)
    for i in range(120):  # newer chatter pushes it to the third page
        slack.add_message(channel, f"chatter {i}", user="U02MAYA00", at=base + 1 + i)
    client = SlackClient(page_size=50)
    found = client.find_message_with_metadata(NOTICE, "ooo_team_notice", "abc")
    assert found is not None and found["text"] == "ours"
    assert len(_requests(connections, "conversations.history")) == 3
    # history without include_all_metadata does not show metadata
    assert "metadata" not in client.history(NOTICE, with_metadata=False).__next__()
    assert client.find_message_with_metadata(NOTICE, "ooo_team_notice", "abc", oldest=base + 0.5) is None


def test_rate_limit_then_success_posts_once(connections, slack):
    connections.sandbox.faults["slack"] = Faults(rate_limit_next=1, retry_after=0)
    ts = SlackClient().post_message(OPS, "after a 429")
    assert [m["text"] for m in slack.messages(OPS)].count("after a 429") == 1
    assert slack.messages(OPS)[-1]["ts"] == ts
    assert [r["status"] for r in _requests(connections, "chat.postMessage")] == [429, 200]


def test_rate_limit_that_does_not_end_is_a_clear_error(connections):
    connections.sandbox.faults["slack"] = Faults(rate_limit_next=5, retry_after=0)
    with pytest.raises(SlackError, match="rate limiting chat.postMessage") as err:
        SlackClient(rate_limit_retries=1).post_message(OPS, "never")
    assert err.value.code == "ratelimited"


def test_not_in_channel_says_invite_the_bot(connections, slack):
    client = SlackClient()
    with pytest.raises(SlackError, match=r"not a member of #general: invite it") as err:
        client.post_message("#general", "hi")
    assert err.value.code == "not_in_channel"
    with pytest.raises(SlackError, match="invite it"):
        client.find_message_with_metadata("#general", "x", "y")
    assert slack.messages("#general") == []


def test_channel_not_found_says_check_the_team_file(connections):
    client = SlackClient()
    with pytest.raises(SlackError, match=r"#no-such-channel was not found: check the channel name") as err:
        client.post_message("#no-such-channel", "hi")
    assert err.value.code == "channel_not_found"
    with pytest.raises(SlackError, match="was not found"):
        client.find_message_with_metadata("#no-such-channel", "x", "y")


def test_invalid_token_says_fix_the_connection(connections, monkeypatch):
    conn = json.loads(__import__("os").environ["AIRFLOW_CONN_OOO_SLACK"])
    monkeypatch.setenv("AIRFLOW_CONN_OOO_SLACK", json.dumps({**conn, "password": "xoxb-wrong"}))
    with pytest.raises(SlackError, match=r"refused the bot token in the Airflow connection ooo_slack \(invalid_auth\)"):
        SlackClient().post_message(OPS, "hi")


def test_users_and_direct_messages(connections, slack):
    client = SlackClient()
    assert client.user_id_for("maya.patel@yellowstonelocal.com") == "U02MAYA00"
    priya = client.user_id_for("priya.nair@yellowstonelocal.com")  # no slack_id in the roster
    assert priya == generated_user_id("priya.nair@yellowstonelocal.com")
    assert priya == slack.user_id("priya.nair@yellowstonelocal.com")
    with pytest.raises(SlackError, match="No Slack user was found for nobody@yellowstonelocal.com") as err:
        client.user_id_for("nobody@yellowstonelocal.com")
    assert err.value.code == "users_not_found"
    dm = client.open_dm(priya)
    assert dm.startswith("D") and client.open_dm(priya) == dm
    client.post_message(dm, "psst", metadata={"event_type": "ooo_dm", "event_payload": {"key": "k"}})
    assert [m["text"] for m in slack.dm_messages(priya)] == ["psst"]
    assert client.find_message_with_metadata(dm, "ooo_dm", "k")["text"] == "psst"
    with pytest.raises(SlackError, match="No Slack user"):
        client.open_dm("U0NOBODY00")


def test_sandbox_speaks_slack_wire_format(connections, slack):
    """Form bodies with a token field, query strings, the ok/error envelope, unknown methods."""
    url = connections.url + "/slack/api/"
    r = requests.post(url + "chat.postMessage", data={"token": TOKEN, "channel": NOTICE, "text": "form post",
                                                      "metadata": json.dumps({"event_type": "f", "event_payload": {}})})
    assert r.status_code == 200 and r.json()["ok"] is True and isinstance(r.json()["ts"], str)
    r = requests.get(url + "conversations.history",
                     params={"channel": NOTICE, "limit": 1, "include_all_metadata": "true"},
                     headers={"Authorization": f"Bearer {TOKEN}"})
    body = r.json()
    assert body["ok"] and body["messages"][0]["text"] == "form post" and body["has_more"] is True
    assert body["messages"][0]["metadata"] == {"event_type": "f", "event_payload": {}}
    assert body["response_metadata"]["next_cursor"]
    r = requests.post(url + "chat.postMessage", json={"channel": OPS}, headers={"Authorization": f"Bearer {TOKEN}"})
    assert r.status_code == 200 and r.json() == {"ok": False, "error": "no_text"}
    assert requests.post(url + "auth.test").json() == {"ok": False, "error": "not_authed"}
    r = requests.post(url + "auth.test", headers={"Authorization": "Bearer xoxb-bad"})
    assert r.json()["error"] == "invalid_auth"
    r = requests.post(url + "chat.unknownThing", headers={"Authorization": f"Bearer {TOKEN}"})
    assert r.status_code == 404 and r.json()["error"] == "unknown_method"
    r = requests.get(url + "conversations.history", params={"channel": OPS, "cursor": "garbage!"},
                     headers={"Authorization": f"Bearer {TOKEN}"})
    assert r.json() == {"ok": False, "error": "invalid_cursor"}
    connections.sandbox.faults["slack"] = Faults(rate_limit_next=1, retry_after=7)
    r = requests.post(url + "auth.test", headers={"Authorization": f"Bearer {TOKEN}"})
    assert r.status_code == 429 and r.headers["Retry-After"] == "7"
    assert r.json() == {"ok": False, "error": "ratelimited"}


# -- status (users.profile.get / users.profile.set) ----------------------------------------------
MAYA_ID, JORDAN_ID, ALLISON_ID, CASEY_ID = "U02MAYA00", "U02JORDAN", "U01ALLISON", "U01CASEY0"


def _user_connection(monkeypatch, token: str) -> None:
    conn = json.loads(__import__("os").environ["AIRFLOW_CONN_OOO_SLACK_USER"])
    monkeypatch.setenv("AIRFLOW_CONN_OOO_SLACK_USER", json.dumps({**conn, "password": token}))


def test_an_admins_user_token_sets_and_clears_a_persons_status(connections, slack):
    client = SlackClient("ooo_slack_user")
    until = dt.datetime(2031, 12, 14, 8, 0, tzinfo=dt.timezone.utc)
    out = SlackStatus("Out of office until Dec 14", ":palm_tree:", until)

    assert client.set_status(MAYA_ID, out) == out
    assert slack.status(MAYA_ID) == {"text": "Out of office until Dec 14", "emoji": ":palm_tree:",
                                     "expiration": int(until.timestamp())}
    assert client.status(MAYA_ID) == out
    assert slack.status(JORDAN_ID)["text"] == ""  # nobody else's

    assert client.set_status(MAYA_ID, SlackStatus()) == SlackStatus()
    assert slack.status(MAYA_ID) == {"text": "", "emoji": "", "expiration": 0}
    assert client.set_status(ALLISON_ID, SlackStatus("Out", ":airplane:")).text == "Out"  # her own, no `user`
    assert slack.status(ALLISON_ID)["text"] == "Out"


def test_services_build_the_user_token_client_only_when_its_connection_exists(connections, monkeypatch):
    from ooo.services import Services

    client = Services().slack_user
    assert client is not None and client.own_user_id() == ALLISON_ID  # the workspace admin's user token
    monkeypatch.delenv("AIRFLOW_CONN_OOO_SLACK_USER")
    assert Services().slack_user is None


def test_a_status_past_its_expiration_reads_back_cleared(connections, slack):
    client = SlackClient("ooo_slack_user")
    gone = dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=5)
    client.set_status(MAYA_ID, SlackStatus("Out sick", ":face_with_thermometer:", gone))

    assert client.status(MAYA_ID) == SlackStatus()
    assert slack.status(MAYA_ID) == {"text": "", "emoji": "", "expiration": 0}
    with pytest.raises(ValueError, match="no time zone"):
        client.set_status(MAYA_ID, SlackStatus("x", ":x:", dt.datetime(2031, 1, 1)))


def test_the_bot_token_may_not_set_a_status(connections, slack):
    bot = SlackClient()
    with pytest.raises(SlackError, match=r"only a user token \(xoxp-…\) call users.profile.set") as err:
        bot.set_status(MAYA_ID, SlackStatus("Out", ":palm_tree:"))
    assert err.value.code == "not_allowed_token_type"
    with pytest.raises(SlackError, match="lacks the scope users.profile:read") as scope:
        bot.status(MAYA_ID)
    assert scope.value.code == "missing_scope"
    assert slack.status(MAYA_ID)["text"] == ""


def test_a_members_token_sets_only_their_own_status(connections, slack, monkeypatch):
    _user_connection(monkeypatch, MEMBER_USER_TOKEN)
    member = SlackClient("ooo_slack_user")
    assert member.own_user_id() == MAYA_ID

    assert member.set_status(MAYA_ID, SlackStatus("Heads down", ":headphones:")).emoji == ":headphones:"
    with pytest.raises(SlackError, match=r"Only a Slack workspace admin may set another person's status") as err:
        member.set_status(JORDAN_ID, SlackStatus("Out", ":palm_tree:"))
    assert err.value.code == "not_admin"
    assert slack.status(JORDAN_ID)["text"] == "" and slack.status(MAYA_ID)["text"] == "Heads down"
    assert member.status(JORDAN_ID) == SlackStatus()  # reading someone else's is allowed


def test_another_persons_status_needs_a_paid_plan_and_never_an_admins(connections, slack, monkeypatch):
    admin = SlackClient("ooo_slack_user")
    slack.paid_plan = False
    with pytest.raises(SlackError, match="needs a paid Slack plan") as free:
        admin.set_status(JORDAN_ID, SlackStatus("Out", ":palm_tree:"))
    assert free.value.code == "invalid_user"
    slack.paid_plan = True

    slack.users[CASEY_ID]["is_admin"] = True  # a second admin, not the primary owner
    assert admin.set_status(CASEY_ID, SlackStatus("Out", ":palm_tree:")).text == "Out"  # the primary owner may
    slack.add_token("xoxp-sandbox-casey", CASEY_ID)
    _user_connection(monkeypatch, "xoxp-sandbox-casey")
    casey = SlackClient("ooo_slack_user")
    assert casey.set_status(JORDAN_ID, SlackStatus("Out", ":palm_tree:")).text == "Out"
    with pytest.raises(SlackError, match="whose profile only the workspace's primary owner") as owner:
        casey.set_status(ALLISON_ID, SlackStatus("Out", ":palm_tree:"))
    assert owner.value.code == "cannot_update_admin_user"
    assert slack.status(ALLISON_ID)["text"] == ""


def test_a_token_without_the_write_scope_is_named(connections, slack, monkeypatch):
    slack.add_token("xoxp-sandbox-readonly", ALLISON_ID, scopes=("users.profile:read",))
    _user_connection(monkeypatch, "xoxp-sandbox-readonly")
    with pytest.raises(SlackError, match=r"lacks the scope users.profile:write .* User Token Scopes") as err:
        SlackClient("ooo_slack_user").set_status(MAYA_ID, SlackStatus("Out", ":palm_tree:"))
    assert err.value.code == "missing_scope"
    _user_connection(monkeypatch, "xoxp-not-a-token")
    with pytest.raises(SlackError, match=r"refused the user token .* put a valid user token \(xoxp-…\)"):
        SlackClient("ooo_slack_user").status(MAYA_ID)


def test_sandbox_speaks_slacks_profile_wire_format(connections, slack):
    url = connections.url + "/slack/api/"
    admin = {"Authorization": f"Bearer {ADMIN_USER_TOKEN}"}
    mine = requests.get(url + "users.profile.get", headers=admin, timeout=5).json()
    assert mine["ok"] and mine["profile"]["email"] == "allison.reed@yellowstonelocal.com"  # the token's own
    form = requests.post(url + "users.profile.set", headers=admin, timeout=5, data={
        "user": MAYA_ID, "profile": json.dumps({"status_text": "Back Monday", "status_expiration": "0"})}).json()
    assert form["ok"] and form["profile"]["status_emoji"] == ":speech_balloon:"  # text only: Slack's default
    pair = requests.post(url + "users.profile.set", headers=admin, timeout=5,
                         data={"user": MAYA_ID, "name": "status_emoji", "value": ":sunny:"}).json()
    assert pair["profile"]["status_text"] == "Back Monday" and pair["profile"]["status_emoji"] == ":sunny:"
    for profile, error in (({"status_text": "x" * 101}, "too_long"), ({"status_txt": "typo"}, "invalid_profile"),
                           ({"status_text": ""}, "must_clear_both_status_text_and_status_emoji"),
                           ({"status_expiration": "soon"}, "invalid_profile"), ("not json", "invalid_profile")):
        body = {"user": MAYA_ID, "profile": profile if isinstance(profile, str) else json.dumps(profile)}
        answer = requests.post(url + "users.profile.set", headers=admin, timeout=5, data=body).json()
        assert (answer["ok"], answer["error"]) == (False, error), profile
    assert slack.status(MAYA_ID)["text"] == "Back Monday"  # the refused ones changed nothing
    unknown = requests.get(url + "users.profile.get", headers=admin, params={"user": "U0NOBODY00"}, timeout=5)
    assert unknown.json() == {"ok": False, "error": "user_not_found"}
    who = requests.post(url + "auth.test", headers={"Authorization": f"Bearer {MEMBER_USER_TOKEN}"}, timeout=5).json()
    assert who["user_id"] == MAYA_ID and "bot_id" not in who
    post = requests.post(url + "chat.postMessage", headers=admin, json={"channel": OPS, "text": "hi"}, timeout=5)
    assert post.json() == {"ok": False, "error": "missing_scope", "needed": "chat:write",
                           "provided": "users.profile:read,users.profile:write"}
    conns = requests.get(connections.url + "/_sandbox/connections", timeout=5).json()
    assert conns["ooo_slack_user"] == {"conn_type": "slack", "password": ADMIN_USER_TOKEN,
                                       "extra": {"base_url": connections.url + "/slack/api/"}}
    page = requests.get(connections.url + "/", timeout=5).text
    assert ":sunny: Back Monday" in page


# -- threads (conversations.replies) ---------------------------------------------------------------
def test_replies_read_a_whole_thread_parent_first_page_by_page(connections, slack):
    channel = slack.channel_by_name(NOTICE)["id"]
    base = time.time() - 3600
    parent = slack.add_message(channel, "notice", at=base)
    for i in range(5):
        slack.add_message(channel, f"reply {i}", user=MAYA_ID if i % 2 else JORDAN_ID, thread_ts=parent,
                          at=base + 1 + i)
    slack.add_message(channel, "chatter after", user=MAYA_ID, at=base + 10)
    client = SlackClient(page_size=2)
    thread = list(client.replies(NOTICE, parent))
    assert [m["text"] for m in thread] == ["notice", "reply 0", "reply 1", "reply 2", "reply 3", "reply 4"]
    assert len(_requests(connections, "conversations.replies")) == 3  # 6 messages, 2 a page
    head = thread[0]
    assert (head["reply_count"], head["reply_users_count"], head["latest_reply"]) == (5, 2, thread[-1]["ts"])
    assert set(head["reply_users"]) == {MAYA_ID, JORDAN_ID}
    assert all(m["thread_ts"] == parent and m["parent_user_id"] == head["user"] for m in thread[1:])
    # A reply's ts names the same thread; the replies are not in the channel's history.
    assert [m["text"] for m in client.replies(NOTICE, thread[3]["ts"])] == [m["text"] for m in thread]
    in_history = [m["text"] for m in client.history(NOTICE, oldest=base - 1)]
    assert "notice" in in_history and "chatter after" in in_history
    assert not [t for t in in_history if t.startswith("reply")]


def test_sandbox_speaks_slacks_replies_wire_format(connections, slack):
    url = connections.url + "/slack/api/conversations.replies"
    auth = {"Authorization": f"Bearer {TOKEN}"}
    channel = slack.channel_by_name(NOTICE)["id"]
    parent = slack.add_message(channel, "notice", metadata={"event_type": "ooo_team_notice",
                                                            "event_payload": {"key": "k"}})
    slack.add_message(channel, "a reply", user=MAYA_ID, thread_ts=parent)
    body = requests.get(url, params={"channel": channel, "ts": parent}, headers=auth).json()
    assert body["ok"] and body["has_more"] is False and body["response_metadata"] == {"next_cursor": ""}
    assert "metadata" not in body["messages"][0]  # only with include_all_metadata
    body = requests.get(url, params={"channel": channel, "ts": parent, "include_all_metadata": "true", "limit": 1},
                        headers=auth).json()
    assert body["messages"][0]["metadata"]["event_type"] == "ooo_team_notice" and body["has_more"] is True
    assert requests.get(url, params={"channel": channel, "ts": "1.000001"}, headers=auth).json() == \
        {"ok": False, "error": "thread_not_found"}
    missing = requests.get(url, params={"channel": channel}, headers=auth).json()
    assert missing["ok"] is False and missing["error"] == "invalid_arguments"
    assert requests.get(url, params={"channel": "#general", "ts": parent}, headers=auth).json()["error"] == \
        "not_in_channel"
    assert requests.get(url, params={"channel": "C0NOSUCH1", "ts": parent}, headers=auth).json()["error"] == \
        "channel_not_found"
    scopes = requests.get(url, params={"channel": channel, "ts": parent},
                          headers={"Authorization": f"Bearer {MEMBER_USER_TOKEN}"}).json()
    assert (scopes["error"], scopes["needed"]) == ("missing_scope", "channels:history")


def test_a_thread_that_is_gone_says_so(connections, slack):
    with pytest.raises(SlackError, match="no such message") as caught:
        list(SlackClient().replies(NOTICE, "1.000001"))
    assert caught.value.code == "thread_not_found" and not caught.value.transient
