"""SlackClient against the sandbox's Slack Web API: posts, metadata lookups, paging, DMs, 429s, errors."""

from __future__ import annotations

import json
import time

import pytest
import requests

from ooo.services.slack import SlackClient, SlackError
from sandbox.apis.slack import TOKEN, generated_user_id
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
    assert priya == generated_user_id("priya.nair@yellowstonelocal.com") == slack.user_id("priya.nair@yellowstonelocal.com")
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
    r = requests.get(url + "conversations.history", params={"channel": NOTICE, "limit": 1, "include_all_metadata": "true"},
                     headers={"Authorization": f"Bearer {TOKEN}"})
    body = r.json()
    assert body["ok"] and body["messages"][0]["text"] == "form post" and body["has_more"] is True
    assert body["messages"][0]["metadata"] == {"event_type": "f", "event_payload": {}}
    assert body["response_metadata"]["next_cursor"]
    r = requests.post(url + "chat.postMessage", json={"channel": OPS}, headers={"Authorization": f"Bearer {TOKEN}"})
    assert r.status_code == 200 and r.json() == {"ok": False, "error": "no_text"}
    assert requests.post(url + "auth.test").json() == {"ok": False, "error": "not_authed"}
    assert requests.post(url + "auth.test", headers={"Authorization": "Bearer xoxb-bad"}).json()["error"] == "invalid_auth"
    r = requests.post(url + "chat.unknownThing", headers={"Authorization": f"Bearer {TOKEN}"})
    assert r.status_code == 404 and r.json()["error"] == "unknown_method"
    r = requests.get(url + "conversations.history", params={"channel": OPS, "cursor": "garbage!"},
                     headers={"Authorization": f"Bearer {TOKEN}"})
    assert r.json() == {"ok": False, "error": "invalid_cursor"}
    connections.sandbox.faults["slack"] = Faults(rate_limit_next=1, retry_after=7)
    r = requests.post(url + "auth.test", headers={"Authorization": f"Bearer {TOKEN}"})
    assert r.status_code == 429 and r.headers["Retry-After"] == "7" and r.json() == {"ok": False, "error": "ratelimited"}
