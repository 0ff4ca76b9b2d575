"""JustCallClient against the sandbox's JustCall v2.1: the texts window, paging, 429s, errors."""

from __future__ import annotations

import datetime as dt
import json
import os

import pytest
import requests

from ooo.services.justcall import JustCallClient, JustCallError, Text
from sandbox.apis.justcall import API_KEY, API_SECRET
from sandbox.core import Faults

UTC = dt.timezone.utc
T0 = dt.datetime(2030, 3, 4, 9, 0, tzinfo=UTC)  # far from the seeded scenario
MAYA = "+13075550101"
JORDAN = "+13075550102"
CLIENT = "+14065559999"


@pytest.fixture
def justcall(connections):
    return connections.sandbox.api("justcall")


def _gets(connections) -> list[dict]:
    return [r for r in connections.sandbox.requests if r["api"] == "justcall" and r["path"] == "/v2.1/texts"]


def test_texts_window_is_exact_in_utc_whatever_the_account_zone(connections, justcall):
    since, until = T0, T0 + dt.timedelta(hours=8)
    before = justcall.add_text(MAYA, CLIENT, "just before", since - dt.timedelta(seconds=1))
    first = justcall.add_text(MAYA, CLIENT, "at the start", since)
    late = justcall.add_text(MAYA, CLIENT, "late evening", until - dt.timedelta(seconds=1))
    justcall.add_text(MAYA, CLIENT, "at the end: the next window's", until)
    justcall.add_text(JORDAN, CLIENT, "another number", since + dt.timedelta(hours=1))
    texts = JustCallClient().texts(MAYA, since, until)
    assert [t.id for t in texts] == [first, late]
    assert before not in [t.id for t in texts]
    t = texts[0]
    assert t == Text(id=first, at=since, direction="incoming", justcall_number=MAYA, contact_number=CLIENT,
                     contact_name="", body="at the start")
    assert t.at.tzinfo is not None and t.at.utcoffset() == dt.timedelta(0)


def test_window_across_a_day_boundary_in_a_far_zone(connections, justcall):
    kolkata = dt.timezone(dt.timedelta(hours=5, minutes=30))
    since = dt.datetime(2030, 3, 5, 1, 0, tzinfo=kolkata)  # 2030-03-04 19:30 UTC, 12:30 in Denver
    until = dt.datetime(2030, 3, 5, 9, 0, tzinfo=kolkata)
    inside = justcall.add_text(MAYA, CLIENT, "inside", dt.datetime(2030, 3, 5, 2, 0, tzinfo=kolkata))
    justcall.add_text(MAYA, CLIENT, "outside", dt.datetime(2030, 3, 5, 0, 59, tzinfo=kolkata))
    assert [t.id for t in JustCallClient().texts(MAYA, since, until)] == [inside]


def test_direction_filter_and_normalised_direction(connections, justcall):
    justcall.add_text(MAYA, CLIENT, "question", T0, "Incoming")
    reply = justcall.add_text(MAYA, CLIENT, "answer", T0 + dt.timedelta(minutes=5), "Outgoing",
                              agent_name="Jordan Reyes")
    client = JustCallClient()
    out = client.texts(MAYA, T0, T0 + dt.timedelta(hours=1), direction="outgoing")
    assert [(t.id, t.direction, t.agent_name) for t in out] == [(reply, "outgoing", "Jordan Reyes")]
    both = client.texts(MAYA, T0, T0 + dt.timedelta(hours=1))
    assert [t.direction for t in both] == ["incoming", "outgoing"]


def test_paging_fetches_every_page(connections, justcall):
    ids = [justcall.add_text(MAYA, CLIENT, f"text {i}", T0 + dt.timedelta(minutes=i)) for i in range(230)]
    texts = JustCallClient().texts(MAYA, T0, T0 + dt.timedelta(days=1))
    assert [t.id for t in texts] == ids
    assert len(_gets(connections)) == 3  # 100 + 100 + 30


def test_rate_limit_then_success(connections, justcall):
    text = justcall.add_text(MAYA, CLIENT, "hello", T0)
    connections.sandbox.faults["justcall"] = Faults(rate_limit_next=2, retry_after=0)
    assert [t.id for t in JustCallClient().texts(MAYA, T0, T0 + dt.timedelta(hours=1))] == [text]
    assert [r["status"] for r in _gets(connections)] == [429, 429, 200]


def test_rate_limit_that_does_not_end_is_a_clear_error(connections):
    connections.sandbox.faults["justcall"] = Faults(rate_limit_next=10, retry_after=0)
    with pytest.raises(JustCallError, match="kept rate limiting"):
        JustCallClient(max_retries=2).texts(MAYA, T0, T0 + dt.timedelta(hours=1))


def test_wrong_secret_says_fix_the_connection(connections, monkeypatch):
    conn = json.loads(os.environ["AIRFLOW_CONN_OOO_JUSTCALL"])
    monkeypatch.setenv("AIRFLOW_CONN_OOO_JUSTCALL", json.dumps({**conn, "password": "wrong"}))
    refused = r"refused the API key and secret of the Airflow connection ooo_justcall"
    with pytest.raises(JustCallError, match=refused) as err:
        JustCallClient().texts(MAYA, T0, T0 + dt.timedelta(hours=1))
    assert err.value.status == 401


def test_credentials_a_service_echoes_stay_out_of_the_error(connections, justcall):
    """A proxy that answers 401 with the header it got: the error (and so every log and alert
    that shows it) says so without the key or the secret."""
    from sandbox.core import ApiError

    def echoing(req):
        sent = next(v for k, v in req.headers.items() if k.lower() == "authorization")
        raise ApiError(401, f"Invalid credentials: {sent} (secret {API_SECRET})")

    justcall.handle = echoing
    with pytest.raises(JustCallError) as err:
        JustCallClient().texts(MAYA, T0, T0 + dt.timedelta(hours=1))
    assert "Invalid credentials: *** (secret ***)" in str(err.value)
    assert API_KEY not in str(err.value) and API_SECRET not in str(err.value)


def test_missing_key_is_a_clear_error(connections, monkeypatch):
    conn = json.loads(os.environ["AIRFLOW_CONN_OOO_JUSTCALL"])
    monkeypatch.setenv("AIRFLOW_CONN_OOO_JUSTCALL", json.dumps({k: v for k, v in conn.items()
                                                                 if k not in ("login", "password")}))
    with pytest.raises(JustCallError, match="no JustCall API key: put the API key in its login"):
        JustCallClient()


def test_authorization_header_in_extra_is_used_as_is(connections, monkeypatch, justcall):
    conn = json.loads(os.environ["AIRFLOW_CONN_OOO_JUSTCALL"])
    extra = {**conn["extra"], "Authorization": f"{API_KEY}:{API_SECRET}"}
    monkeypatch.setenv("AIRFLOW_CONN_OOO_JUSTCALL", json.dumps({"conn_type": "http", "host": conn["host"],
                                                                 "extra": extra}))
    text = justcall.add_text(MAYA, CLIENT, "hello", T0)
    assert [t.id for t in JustCallClient().texts(MAYA, T0, T0 + dt.timedelta(hours=1))] == [text]


def test_sandbox_speaks_justcall_wire_format(connections, justcall):
    url = connections.url + "/justcall/v2.1/texts"
    raw = {"Authorization": f"{API_KEY}:{API_SECRET}", "Accept": "application/json"}
    first = justcall.add_text(MAYA, CLIENT, "one", T0)
    justcall.add_text(MAYA, CLIENT, "two", T0 + dt.timedelta(minutes=1), "Outgoing")
    # HTTP Basic is not JustCall's scheme here: 401 with JustCall's error body
    r = requests.get(url, auth=(API_KEY, API_SECRET))
    assert r.status_code == 401 and r.json()["status"] == "error"
    r = requests.get(url, headers=raw, params={"justcall_number": MAYA, "per_page": 1, "page": 0, "order": "asc",
                                               "from_datetime": "2030-03-04", "to_datetime": "2030-03-04 23:59:59"})
    body = r.json()
    assert r.status_code == 200 and body["status"] == "success" and body["count"] == 1 and body["current_page"] == 0
    assert "page=1" in body["next_page_link"] and body["prev_page_link"] is None
    text = body["data"][0]
    assert text["id"] == first and text["sms_date"] == "2030-03-04" and text["sms_time"] == "09:00:00"
    assert (text["sms_user_date"], text["sms_user_time"]) == ("2030-03-04", "02:00:00")  # Denver, MST
    assert text["direction"] == "Incoming" and text["sms_info"]["body"] == "one"
    assert requests.get(url, headers=raw, params={"per_page": 101}).status_code == 400
    assert requests.get(url, headers=raw, params={"sms_direction": "Inbound"}).status_code == 400
    r = requests.get(f"{url}/{first}", headers=raw)
    assert r.json()["data"][0]["id"] == first
    # JustCall's API has no voicemail greeting route
    r = requests.put(connections.url + "/justcall/v2.1/users/voicemail-greeting", headers=raw, json={"greeting": "x"})
    assert r.status_code == 404 and r.json()["status"] == "error"


# -- 429s that say only when the window resets (X-Rate-Limit-Reset, no Retry-After) ---------------

def test_rate_limit_without_retry_after_waits_until_the_window_resets(connections, justcall):
    text = justcall.add_text(MAYA, CLIENT, "hello", T0)
    connections.sandbox.faults["justcall"] = Faults(rate_limit_next=2, retry_after=20, retry_after_header=False)
    slept: list[float] = []
    assert [t.id for t in JustCallClient(sleep=slept.append).texts(MAYA, T0, T0 + dt.timedelta(hours=1))] == [text]
    assert [r["status"] for r in _gets(connections)] == [429, 429, 200]
    # each wait ran to the reset the 429 named: 20 s ahead, rounded up to JustCall's whole second
    assert len(slept) == 2 and all(19 < s < 21 for s in slept), slept


def test_a_reset_far_away_is_waited_for_at_most_max_wait(connections, justcall):
    text = justcall.add_text(MAYA, CLIENT, "hello", T0)
    connections.sandbox.faults["justcall"] = Faults(rate_limit_next=1, retry_after=3600, retry_after_header=False)
    slept: list[float] = []
    client = JustCallClient(sleep=slept.append, max_wait=5)
    assert [t.id for t in client.texts(MAYA, T0, T0 + dt.timedelta(hours=1))] == [text]
    assert slept == [5]


def test_a_reset_already_past_backs_off_instead_of_waiting_a_negative_time(connections, justcall):
    import time

    text = justcall.add_text(MAYA, CLIENT, "hello", T0)
    connections.sandbox.faults["justcall"] = Faults(rate_limit_next=2, retry_after=0, retry_after_header=False)
    slept: list[float] = []
    late = JustCallClient(sleep=slept.append, clock=lambda: time.time() + 120)  # a clock two minutes fast
    assert [t.id for t in late.texts(MAYA, T0, T0 + dt.timedelta(hours=1))] == [text]
    assert slept == [0.5, 1.0]


def test_a_429_without_retry_after_says_when_the_window_resets(connections):
    import time

    connections.sandbox.faults["justcall"] = Faults(rate_limit_next=1, retry_after=30, retry_after_header=False)
    before = time.time()
    r = requests.get(connections.url + "/justcall/v2.1/texts",
                     headers={"Authorization": f"{API_KEY}:{API_SECRET}", "Accept": "application/json"})
    assert r.status_code == 429 and r.json()["status"] == "error"
    assert "Retry-After" not in r.headers
    assert r.headers["X-Rate-Limit-Remaining"] == "0"
    assert before + 30 <= int(r.headers["X-Rate-Limit-Reset"]) <= time.time() + 31
