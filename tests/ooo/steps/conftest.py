"""Step tests: each step function run against a sandbox, no Airflow scheduler."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest

from sandbox import connection_env, start_sandbox


@pytest.fixture
def google(team, monkeypatch) -> Iterator[Any]:
    """An empty sandbox (no seed) with the connections pointed at it; its Calendar and Gmail."""
    server = start_sandbox(team, anchor=dt.date(2026, 11, 23), seed=False)
    for name, value in connection_env(server.sandbox.connections()).items():
        monkeypatch.setenv(name, value)
    yield server.sandbox.api("google")
    server.stop()
