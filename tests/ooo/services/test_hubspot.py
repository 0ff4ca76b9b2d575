"""HubSpotClient against the sandbox's HubSpot: search paging, associations, inbox, 429s."""

from __future__ import annotations

import datetime as dt

import pytest

from ooo.services._http import HttpApiError
from ooo.services.hubspot import HubSpotClient, html_to_text, mentions
from sandbox.core import Faults

UTC = dt.timezone.utc
T0 = dt.datetime(2030, 3, 4, 9, 0, tzinfo=UTC)  # far from the seeded scenario


@pytest.fixture
def hubspot(connections):
    return connections.sandbox.api("hubspot")


def test_search_notes_pages_newest_first_and_filters_by_time(connections, hubspot):
    ids = [hubspot.add_note(f"<p>note {i}</p>", T0 + dt.timedelta(hours=i), "Acme Sandbox Co") for i in range(7)]
    hubspot.add_note("<p>too early</p>", T0 - dt.timedelta(days=1), "Acme Sandbox Co")
    hubspot.add_note("<p>too late</p>", T0 + dt.timedelta(days=2), "Acme Sandbox Co")
    client = HubSpotClient()
    notes = list(client.search_notes(T0, T0 + dt.timedelta(days=1), page_size=3))
    assert [n["id"] for n in notes] == list(reversed(ids))
    assert notes[0]["properties"]["hs_note_body"] == "<p>note 6</p>"
    assert isinstance(notes[0]["properties"]["hs_timestamp"], str)
    searches = [r for r in connections.sandbox.requests if r["path"].endswith("/notes/search")]
    assert len(searches) == 3  # 3 + 3 + 1


def test_bad_filter_is_hubspot_400(connections):
    client = HubSpotClient()
    with pytest.raises(HttpApiError) as err:
        client._search("crm/v3/objects/notes/search",
                       {"filterGroups": [{"filters": [{"propertyName": "hs_timestamp", "operator": "ABOUT", "value": "1"}]}]})
    assert err.value.status == 400
    assert err.value.body["status"] == "error" and err.value.body["category"] == "VALIDATION_ERROR"


def test_wrong_token_is_401(connections, monkeypatch):
    import json
    import os

    conn = json.loads(os.environ["AIRFLOW_CONN_OOO_HUBSPOT"])
    monkeypatch.setenv("AIRFLOW_CONN_OOO_HUBSPOT", json.dumps({**conn, "password": "pat-wrong"}))
    with pytest.raises(HttpApiError) as err:
        list(HubSpotClient().search_notes(T0, T0 + dt.timedelta(days=1)))
    assert err.value.status == 401 and err.value.body["category"] == "INVALID_AUTHENTICATION"


def test_429_is_retried_honouring_retry_after(connections, hubspot):
    hubspot.add_note(f"<p>{hubspot.mention('41000101', 'Maya Patel')} hello</p>", T0, "Acme Sandbox Co")
    connections.sandbox.faults["hubspot"] = Faults(rate_limit_next=2, retry_after=0)
    slept: list[float] = []
    client = HubSpotClient(sleep=slept.append)
    notes = client.tagged_notes("41000101", "Maya Patel", T0 - dt.timedelta(hours=1), T0 + dt.timedelta(hours=1))
    assert [n.company for n in notes] == ["Acme Sandbox Co"]
    assert slept == [0.0, 0.0]
    statuses = [r["status"] for r in connections.sandbox.requests]
    assert statuses[:3] == [429, 429, 200]


def test_429_body_and_retries_exhausted(connections):
    connections.sandbox.faults["hubspot"] = Faults(rate_limit_next=3, retry_after=0)
    client = HubSpotClient(max_retries=2, sleep=lambda s: None)
    with pytest.raises(HttpApiError) as err:
        client.company_names(["123"])
    assert err.value.status == 429
    assert err.value.body["errorType"] == "RATE_LIMIT"
    assert err.value.body["policyName"] == "TEN_SECONDLY_ROLLING"
    assert err.value.body["message"] == "You have reached your ten_secondly_rolling limit."


def test_searches_stay_under_four_a_second(connections, hubspot):
    for i in range(12):
        hubspot.add_note(f"<p>n{i}</p>", T0 + dt.timedelta(minutes=i), "Acme Sandbox Co")
    notes = list(HubSpotClient().search_notes(T0, T0 + dt.timedelta(hours=1), page_size=2))
    assert len(notes) == 12
    assert all(r["status"] == 200 for r in connections.sandbox.requests)  # 6 searches, no 429


def test_tagged_notes_by_markup_or_plain_name_with_company_and_link(connections, hubspot):
    maya = connections.sandbox.team.person("maya.patel@yellowstonelocal.com")
    a = hubspot.add_note(f"<p>{hubspot.mention(maya)} call them</p>", T0, "Acme Sandbox Co")
    b = hubspot.add_note("<p>@Maya Patel see the quote</p>", T0 + dt.timedelta(hours=1), "Zed Sandbox Inc")
    hubspot.add_note("<p>@Maya Pateller is not Maya</p>", T0 + dt.timedelta(hours=2), "Zed Sandbox Inc")
    hubspot.add_note("<p>no mention of Maya Patel</p>", T0 + dt.timedelta(hours=3), "Zed Sandbox Inc")
    notes = HubSpotClient().tagged_notes(maya.hubspot_owner_id, maya.name, T0, T0 + dt.timedelta(days=1))
    assert [(n.id, n.company) for n in notes] == [(b, "Zed Sandbox Inc"), (a, "Acme Sandbox Co")]
    assert notes[1].text == "@Maya Patel call them"
    cid = hubspot.add_company("Acme Sandbox Co")
    assert notes[1].url == f"https://app.hubspot.com/contacts/24500110/record/0-2/{cid}"


def test_company_read(connections, hubspot):
    cid = hubspot.add_company("Acme Sandbox Co")
    assert HubSpotClient().company(cid)["properties"]["name"] == "Acme Sandbox Co"


def test_threads_and_messages_page_and_comments_are_found(connections, hubspot):
    maya = connections.sandbox.team.person("maya.patel@yellowstonelocal.com")
    t = hubspot.add_thread("Acme Sandbox Co", subject="Hours")
    for i in range(5):
        hubspot.add_message(t, f"customer says {i}", T0 + dt.timedelta(minutes=i))
    c = hubspot.add_comment("@Maya Patel fixed", T0 + dt.timedelta(minutes=10), thread_id=t,
                            rich_text=f"<p>{hubspot.mention(maya)} fixed</p>")
    hubspot.add_comment("@Maya Patel too early", T0 - dt.timedelta(days=3), company="Old Sandbox Co")
    client = HubSpotClient()
    threads = list(client.threads(T0 - dt.timedelta(hours=1), page_size=1))
    assert [th["id"] for th in threads] == [t]  # only the thread active since then
    msgs = list(client.messages(t, page_size=2))
    assert len(msgs) == 6 and msgs[-1]["type"] == "COMMENT"
    found = client.tagged_comments(maya.hubspot_owner_id, maya.name, T0 - dt.timedelta(hours=1), T0 + dt.timedelta(days=1))
    assert [(m.id, m.company, m.text, m.author) for m in found] == [(c["id"], "Acme Sandbox Co", "@Maya Patel fixed", "Rosa Alvarez")]
    assert found[0].url == f"https://app.hubspot.com/live-messages/24500110/inbox/{t}"


def test_threads_filter_needs_sort(connections):
    client = HubSpotClient()
    with pytest.raises(HttpApiError) as err:
        client.http.request("GET", "conversations/v3/conversations/threads",
                            params={"latestMessageTimestampAfter": "2030-01-01T00:00:00Z"})
    assert err.value.status == 400


def test_html_to_text_drops_scripts_and_markup():
    body = "<p>Hi <b>there</b></p><script>alert('x')</script><p>A &amp; B</p>"
    assert html_to_text(body) == "Hi there\nA & B"
    assert mentions('<span data-mention-id="41000101">@M</span>', "41000101", "Maya Patel")
    assert not mentions('<span data-mention-id="410001011">@M</span>', "41000101", "Maya Patel")
    assert mentions("ping @maya  patel", None, "Maya Patel")
    assert not mentions("email maya@Maya Patel", None, "Maya Patel")
