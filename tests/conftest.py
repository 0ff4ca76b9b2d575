"""Fixtures shared by every suite: the sample team, a sandbox on a free port, step contexts."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any

import pendulum
import pytest

from ooo.absence import Absence, parse_absence
from ooo.records import Records
from ooo.services import Services
from ooo.steps import StepContext
from ooo.team import Team, load_team
from ooo.timeline import plan_timeline
from sandbox import SandboxServer, connection_env, start_sandbox


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--metadata-db", choices=("sqlite", "postgres"), default=None,
                     help="Airflow's metadata DB for every real-stack e2e module (default: SQLite, and "
                          "PostgreSQL too where a module is marked metadata_dbs('sqlite', 'postgres'))")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "metadata_dbs(*backends): the metadata DBs a real-stack module runs on "
                                       "by default; --metadata-db picks one for all")


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Groups for ``pytest -n 2 --dist loadgroup`` (scripts/test.sh): a real-stack module (its own
    Airflow home, per metadata DB) is a group, so its stack starts once; every other test shares the
    checkout's Airflow home (``dag.test()`` on one SQLite file), so they all run in one worker."""
    for item in items:
        marked = item.get_closest_marker("xdist_group")
        if marked:
            group = str(marked.args[0])
        elif item.get_closest_marker("scheduler") or item.get_closest_marker("browser"):
            callspec = getattr(item, "callspec", None)
            backend = callspec.params.get("metadata_backend") if callspec else None
            # Not "[backend]": xdist takes a node id that ends in "]" for an ungrouped parametrized test.
            group = item.module.__name__ + (f"-{backend}" if backend else "")
        else:
            group = "checkout-airflow-home"
        if not marked:
            item.add_marker(pytest.mark.xdist_group(group))
        if item.get_closest_marker("crash") or item.get_closest_marker("release"):
            item.add_marker(pytest.mark.long)
        _tell_xdist(config, item, group)
    # xdist hands the groups out in collection order: the longest first, so that neither worker is
    # left with one of them at the end while the other idles (scripts/test.sh's wall time).
    items.sort(key=lambda item: item.module.__name__ not in LONGEST_FIRST)


#: The real-stack modules that take longest with the long suite in (docs/RELIABILITY.md, "The whole suite").
LONGEST_FIRST = ("tests.e2e.test_production_shape", "tests.e2e.test_process_faults")


def _tell_xdist(config: pytest.Config, item: pytest.Item, group: str) -> None:
    """xdist's loadgroup reads an item's group from an ``@group`` suffix on its node id, which it
    writes to ``item._nodeid``; pytest 9.2 keeps the id in ``item._id`` instead, so the suffix is
    lost and groups are split (pytest-xdist#1386). Write it where pytest 9.2 reads it."""
    node_id = getattr(item, "_id", None)
    if not getattr(config.option, "loadgroup", False) or node_id is None or hasattr(item, "_nodeid"):
        return  # not a loadgroup worker, or a pytest where xdist's own suffix works
    if item.nodeid.rfind("@") > item.nodeid.rfind("]"):
        return  # suffixed already (an "@" inside the params, an email's, is not a group: xdist reads it so too)
    # As xdist would: the suffix ends the id (pytest's short summary may still show a "]" after it).
    last = node_id.names[-1] + (f"[{node_id.params}]" if node_id.params is not None else "")
    item._id = type(node_id)(path=node_id.path, names=(*node_id.names[:-1], f"{last}@{group}"))


@pytest.fixture(scope="session")
def team() -> Team:
    return load_team()


@pytest.fixture
def sandbox(team: Team) -> Iterator[SandboxServer]:
    """A seeded sandbox on a free loopback port; ``sandbox.sandbox`` is its state."""
    server = start_sandbox(team)
    yield server
    server.stop()


@pytest.fixture
def connections(sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch) -> SandboxServer:
    """Point the ``ooo_*`` Airflow connections (as env vars) at the sandbox."""
    for name, value in connection_env(sandbox.sandbox.connections()).items():
        monkeypatch.setenv(name, value)
    return sandbox


@pytest.fixture
def make_absence(team: Team) -> Callable[..., Absence]:
    """``make_absence(employee=..., start=..., end=..., kind=..., requested_at=...)``."""

    def make(
        employee: str = "maya.patel@yellowstonelocal.com",
        start: dt.date | str = "2026-12-07",
        end: dt.date | str = "2026-12-11",
        kind: str = "planned",
        requested_at: dt.datetime | None = None,
        **params: Any,
    ) -> Absence:
        given = {
            "employee": employee,
            "start_date": str(start),
            "end_date": str(end),
            "kind": kind,
            "reachable": params.pop("reachable", False),
            **params,
        }
        when = requested_at or pendulum.datetime(2026, 11, 23, 9, 0, tz="UTC")
        return parse_absence(given, team, when)

    return make


@pytest.fixture
def step_context(team: Team) -> Callable[..., StepContext]:
    """A :class:`StepContext` for ``absence`` as a step would get it in a run."""

    def make(absence: Absence, now: dt.datetime | None = None, records: Records | None = None,
             review: Any = None) -> StepContext:
        timeline = plan_timeline(absence, team, absence.requested_at)
        return StepContext(
            absence=absence,
            team=team,
            timeline=timeline,
            run_id=absence.run_id,
            now=now or pendulum.now("UTC"),
            services=Services(),
            records=records or Records(),
            review=review,
        )

    return make
