"""Real-stack fixtures: each module's metadata DB (SQLite, or a throwaway PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from devstack.postgres import Postgres


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """A real-stack module runs once per metadata DB: ``--metadata-db``, else its ``metadata_dbs`` mark
    (its PostgreSQL run then in the long suite)."""
    if "metadata_backend" not in metafunc.fixturenames:
        return
    chosen = metafunc.config.getoption("metadata_db")
    mark = metafunc.definition.get_closest_marker("metadata_dbs")
    if chosen:
        backends = [chosen]
    else:  # PostgreSQL beside SQLite is in the long suite (CI's run proves PostgreSQL with the production shape)
        backends = [pytest.param(b, marks=pytest.mark.long) if b != "sqlite" else b
                    for b in (mark.args if mark else ["sqlite"])]
    metafunc.parametrize("metadata_backend", backends, indirect=True, scope="module")


@pytest.fixture(scope="module")
def metadata_backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture(scope="session")
def postgres() -> Iterator[Postgres]:
    """One throwaway PostgreSQL for the session, started when a module first asks for it."""
    with Postgres() as server:
        yield server


@pytest.fixture(scope="module")
def metadata_db(metadata_backend: str, request: pytest.FixtureRequest) -> dict[str, str]:
    """Airflow settings for a real stack's metadata DB: none for SQLite, else a fresh PostgreSQL database."""
    if metadata_backend == "sqlite":
        return {}
    return {"AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": request.getfixturevalue("postgres").database()}
