"""FathomClient against the sandbox's Fathom: window, summaries, cursor paging, 429s, no connection."""

from __future__ import annotations

import datetime as dt

import pytest

from ooo.services._http import HttpApiError
from ooo.services.fathom import FathomClient
from sandbox.core import Faults

UTC = dt.timezone.utc
T0 = dt.datetime(2030, 3, 4, 9, 0, tzinfo=UTC)


@pytest.fixture
def fathom(connections):
    return connections.sandbox.api("fathom")


def test_meetings_in_window_with_summary_over_pages(connections, fathom):
    made = [fathom.add_meeting(f"Sync {i}", T0 + dt.timedelta(hours=i), T0 + dt.timedelta(hours=i, minutes=30),
                               f"## Sync {i}\n- point") for i in range(13)]
    fathom.add_meeting("Before", T0 - dt.timedelta(days=1), T0 - dt.timedelta(days=1) + dt.timedelta(minutes=30))
    meetings = FathomClient().meetings(T0, T0 + dt.timedelta(days=1))
    assert [m.title for m in meetings] == [f"Sync {i}" for i in reversed(range(13))]
    assert meetings[0].summary == "## Sync 12\n- point"
    assert meetings[0].url == made[12]["share_url"]
    assert meetings[0].start == T0 + dt.timedelta(hours=12)
    pages = [r for r in connections.sandbox.requests if r["api"] == "fathom"]
    assert len(pages) == 2  # 10 + 3


def test_without_summary(connections, fathom):
    fathom.add_meeting("Sync", T0, T0 + dt.timedelta(minutes=30), "## s")
    raw = list(FathomClient().raw_meetings(T0 - dt.timedelta(hours=1), T0 + dt.timedelta(days=1),
                                           include_summary=False))
    assert len(raw) == 1 and "default_summary" not in raw[0]


def test_429_is_retried(connections, fathom):
    fathom.add_meeting("Sync", T0, T0 + dt.timedelta(minutes=30), "## s")
    connections.sandbox.faults["fathom"] = Faults(rate_limit_next=1, retry_after=0)
    slept: list[float] = []
    meetings = FathomClient(sleep=slept.append).meetings(T0 - dt.timedelta(hours=1), T0 + dt.timedelta(days=1))
    assert [m.title for m in meetings] == ["Sync"] and slept == [0.0]
    assert [r["status"] for r in connections.sandbox.requests] == [429, 200]


def test_wrong_key_is_401(connections, monkeypatch):
    import json
    import os

    conn = json.loads(os.environ["AIRFLOW_CONN_OOO_FATHOM"])
    monkeypatch.setenv("AIRFLOW_CONN_OOO_FATHOM", json.dumps({**conn, "password": "nope"}))
    with pytest.raises(HttpApiError) as err:
        FathomClient().meetings(T0, T0 + dt.timedelta(days=1))
    assert err.value.status == 401


def test_if_configured(connections, monkeypatch):
    assert isinstance(FathomClient.if_configured("ooo_fathom"), FathomClient)
    monkeypatch.delenv("AIRFLOW_CONN_OOO_FATHOM")
    assert FathomClient.if_configured("ooo_fathom") is None


def test_seeded_team_meetings_have_recordings(connections):
    from sandbox.scenario import team_meetings

    anchor = connections.sandbox.anchor
    first = team_meetings(anchor, connections.sandbox.team)[0]
    meetings = FathomClient().meetings(first["start"] - dt.timedelta(hours=1), first["end"] + dt.timedelta(hours=1))
    assert [m.title for m in meetings] == [first["title"]]
    assert "Renewals at risk" in meetings[0].summary or "Walkthrough" in meetings[0].summary
