"""The embedded default's SQLite: write-ahead log and a patient writer; other databases untouched."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from devstack.stack import Stack
from ooo.embedded_db import API_SERVER_CONNECT_ARGS_PATH, CONNECT_ARGS_PATH, sqlite_path, use_write_ahead_log


def test_a_fresh_database_file_is_switched_to_the_write_ahead_log_for_good(tmp_path: Path):
    db = tmp_path / "airflow.db"
    sqlite3.connect(db).close()
    assert use_write_ahead_log(db) == "wal"
    with sqlite3.connect(db) as conn:  # a new connection finds it so: the mode lives in the file
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_only_sqlite_urls_name_a_file():
    assert sqlite_path("sqlite:////srv/airflow/airflow.db") == Path("/srv/airflow/airflow.db")
    assert sqlite_path("postgresql+psycopg2://airflow@127.0.0.1:5432/airflow") is None


def test_the_stack_tunes_sqlite_and_leaves_postgres_alone(tmp_path: Path):
    embedded = Stack(tmp_path, 8080)
    assert embedded.component_env("scheduler")["AIRFLOW__DATABASE__SQL_ALCHEMY_CONNECT_ARGS"] == CONNECT_ARGS_PATH
    assert embedded.component_env("api-server")["AIRFLOW__DATABASE__SQL_ALCHEMY_CONNECT_ARGS"] == \
        API_SERVER_CONNECT_ARGS_PATH
    postgres = Stack(tmp_path, 8080, env={
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": "postgresql+psycopg2://airflow@127.0.0.1/airflow"})
    for component in ("scheduler", "api-server"):
        assert "AIRFLOW__DATABASE__SQL_ALCHEMY_CONNECT_ARGS" not in postgres.component_env(component)


def test_airflow_finds_each_components_connect_args(monkeypatch):
    from airflow.configuration import conf

    for path, timeout in ((CONNECT_ARGS_PATH, 60), (API_SERVER_CONNECT_ARGS_PATH, 2)):
        monkeypatch.setenv("AIRFLOW__DATABASE__SQL_ALCHEMY_CONNECT_ARGS", path)
        assert conf.getimport("database", "sql_alchemy_connect_args") == {"timeout": timeout}
