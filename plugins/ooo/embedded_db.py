"""The embedded default's SQLite, set up for five writers at once.

The scheduler, triggerer, dag-processor, API server and every task process write the same file.
In SQLite's default rollback journal a reader blocks the writer, and sqlite3 gives up on a lock
after 5 s: under a burst of tasks the scheduler died of "database is locked" (bench_waiting, 200
absences). Write-ahead logging lets readers and the writer go on together, and a writer waits
up to 60 s for another.

Except in the API server. Airflow 3.3 writes a REST call's audit log (``action_logging``) from an
``async`` dependency with a blocking session, on the server's one event loop. When another request
of the same server holds the write lock until its own teardown, which needs that loop, the two
wait for each other until the timeout, and every request of the server, the tasks' execution API
among them, stands still meanwhile (seen: 60 s, then failed tasks, with four validate tasks
writing run notes at once). So the API server gives up after 2 s: the audit log write fails,
that one REST call answers 500 and the loop goes on; the tasks' client retries its 5xx.
PostgreSQL (the production setup) needs none of this.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

# [database] sql_alchemy_connect_args names one of these (an import path) when the database is SQLite.
CONNECT_ARGS = {"timeout": 60}
CONNECT_ARGS_PATH = f"{__name__}.CONNECT_ARGS"
API_SERVER_CONNECT_ARGS = {"timeout": 2}
API_SERVER_CONNECT_ARGS_PATH = f"{__name__}.API_SERVER_CONNECT_ARGS"


def sqlite_path(sql_alchemy_conn: str) -> Path | None:
    """The file behind a ``sqlite:////abs/path`` URL, or None for any other database."""
    prefix = "sqlite:///"
    if not sql_alchemy_conn.startswith(prefix):
        return None
    return Path(sql_alchemy_conn[len(prefix):].split("?")[0])


def use_write_ahead_log(db: Path) -> str:
    """Switch the file to WAL (it stays so: the mode is stored in the file) and say the mode."""
    with sqlite3.connect(db, timeout=60) as conn:
        return conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
