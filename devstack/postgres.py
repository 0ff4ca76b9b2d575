"""A throwaway PostgreSQL (Debian's binaries) for the tests and the demo: production's metadata DB.

``initdb`` into a temporary directory, ``postgres`` on 127.0.0.1 and a free port (its socket in
that directory too), a database per Airflow stack; :meth:`Postgres.stop` ends the server and
removes the directory. initdb and postgres refuse to run as root (CI runs as root): then they run
as Debian's ``postgres`` user, owning the directory. Durability is off: nothing here outlives
the run.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

from devstack.stack import end_group, free_port

SETTINGS = {"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off",
            "max_connections": "200"}  # each Airflow process keeps a pool; a stack has a dozen or more


def binaries() -> Path:
    """The newest ``/usr/lib/postgresql/<version>/bin`` (``scripts/setup-system.sh`` installs it)."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/postgres"),
                   key=lambda p: [int(n) for n in re.findall(r"\d+", p.parent.parent.name)])
    if not found:
        raise RuntimeError("no PostgreSQL in /usr/lib/postgresql: run scripts/setup-system.sh")
    return found[-1].parent


class Postgres:
    user = "airflow"

    def __init__(self) -> None:
        self.root: Path | None = None
        self.port = 0
        self.password = secrets.token_urlsafe(16)
        self.proc: subprocess.Popen[bytes] | None = None
        self._as_postgres = os.geteuid() == 0
        self._created = 0

    def _run_as(self) -> dict[str, object]:
        """Popen's arguments that drop root for Debian's ``postgres`` user (nothing when not root)."""
        return {"user": "postgres", "group": "postgres", "extra_groups": []} if self._as_postgres else {}

    def start(self, timeout: float = 60) -> Postgres:
        bin_dir = binaries()
        self.root = Path(tempfile.mkdtemp(prefix="ooo-postgres-"))
        if self._as_postgres:
            shutil.chown(self.root, "postgres", "postgres")
        pwfile = self.root / "pwfile"
        pwfile.write_text(self.password)
        if self._as_postgres:
            shutil.chown(pwfile, "postgres", "postgres")
        env = {"PATH": f"{bin_dir}:/usr/bin:/bin", "LANG": "C.UTF-8"}  # none of ours (secrets) for it
        subprocess.run([str(bin_dir / "initdb"), "-D", str(self.root / "data"), "-U", self.user,
                        f"--pwfile={pwfile}", "--auth-local=trust", "--auth-host=scram-sha-256",
                        "-E", "UTF8", "--locale=C"],
                       env=env, cwd=self.root, check=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       **self._run_as())
        pwfile.unlink()
        self.port = free_port()
        options = [f"-c{key}={value}" for key, value in SETTINGS.items()]
        log = open(self.root / "postgres.log", "wb")  # noqa: SIM115 - the child holds it
        with log:
            self.proc = subprocess.Popen(
                [str(bin_dir / "postgres"), "-D", str(self.root / "data"), "-h", "127.0.0.1",
                 "-p", str(self.port), "-k", str(self.root), *options],
                env=env, cwd=self.root, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                **self._run_as())
        self._wait_ready(timeout)
        return self

    def _wait_ready(self, timeout: float) -> None:
        import psycopg2

        deadline = time.monotonic() + timeout
        while True:
            try:
                psycopg2.connect(self._dsn("postgres")).close()
                return
            except psycopg2.OperationalError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    log = (self.root / "postgres.log").read_text(errors="replace")[-2000:]
                    self.stop()
                    raise RuntimeError(f"PostgreSQL did not start:\n{log}") from None
                time.sleep(0.2)

    def _dsn(self, database: str) -> str:
        return f"host=127.0.0.1 port={self.port} user={self.user} password={self.password} dbname={database}"

    def database(self, name: str | None = None) -> str:
        """A new, empty database; its ``sql_alchemy_conn`` URL (what Airflow's engines are given)."""
        import psycopg2

        self._created += 1
        name = name or f"airflow_{self._created}"
        conn = psycopg2.connect(self._dsn("postgres"))
        try:
            conn.autocommit = True  # CREATE DATABASE refuses a transaction
            with conn.cursor() as cur:
                cur.execute(f'CREATE DATABASE "{name}"')
        finally:
            conn.close()
        return f"postgresql+psycopg2://{self.user}:{self.password}@127.0.0.1:{self.port}/{name}"

    def stop(self, grace: float = 20) -> None:
        """Fast shutdown (SIGINT: sessions ended, no checkpoint wait), then the directory goes."""
        if self.proc is not None:
            end_group(self.proc, signal.SIGINT, grace)
            self.proc = None
        if self.root is not None:
            shutil.rmtree(self.root, ignore_errors=True)
            self.root = None

    def __enter__(self) -> Postgres:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

