"""Real Airflow for the demo, the tests and the benchmarks: api-server, scheduler, dag-processor, triggerer.

``python -m devstack`` is the demo (:mod:`devstack.demo`; ``scripts/demo.sh`` runs it after setup);
the end-to-end tests start the same :class:`Stack` around a sandbox of their own. Each process gets its own
process group, and :meth:`Stack.stop` ends the groups with SIGTERM, then SIGKILL after a grace
period: Airflow's scheduler was seen to outlive a SIGTERM, and its children with it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import IO

from ooo.access import ADMIN, BOT, OPS, VIEWER, Login, roster_managers
from ooo.airflow_api import AirflowApi
from ooo.embedded_db import (
    API_SERVER_CONNECT_ARGS_PATH,
    CONNECT_ARGS,
    CONNECT_ARGS_PATH,
    sqlite_path,
    use_write_ahead_log,
)
from ooo.team import load_team

ROOT = Path(__file__).resolve().parents[1]
COMPONENTS = ("api-server", "scheduler", "dag-processor", "triggerer")
#: The stack's logins besides one per roster manager (login = email): username -> role (ooo.access).
BOT_LOGIN = "ooo-bot"  # the ooo_airflow connection's
#: The stack's logins and their roles (the roster's managers are added, each by their email); ``hr-integration``
#: stands for an HR tool's login, which the sample roster lets record approvals (``team.approvers``).
LOGINS = {"admin": ADMIN, BOT_LOGIN: BOT, "ops": OPS, "viewer": VIEWER, "hr-integration": OPS}


def checkout_settings() -> dict[str, str]:
    """``config/airflow.env``: the Airflow settings shared with ``scripts/airflow-env.sh``."""
    settings = {}
    for line in (ROOT / "config" / "airflow.env").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            key, _, value = line.partition("=")
            settings[key.strip()] = value.strip().strip("'")
    return settings


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def airflow_cli() -> str:
    return str(Path(sys.executable).with_name("airflow"))


def port_in_use(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


class Stack:
    """Airflow's processes for ``home``, serving ``code``: a folder with ``dags/``, ``plugins/`` and
    ``include/`` (the checkout by default; a release's copy, for a test that swaps releases under runs
    in flight, as a deployment's mounted folders change under its containers)."""

    components: tuple[str, ...] = COMPONENTS  # what start() starts, each a process (group) of its own

    def __init__(self, home: Path, airflow_port: int, env: dict[str, str] | None = None, code: Path = ROOT):
        self.home = home
        self.code = code
        self.port = airflow_port
        self.logs = home / "logs" / "stack"
        self.extra_env = env or {}
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self._apis: dict[str, AirflowApi] = {}
        self._files: list[IO[bytes]] = []
        self.url = f"http://localhost:{airflow_port}"

    @property
    def password(self) -> str:
        """The admin's password (``stack.api`` signs in as admin)."""
        return self.password_of("admin")

    def password_of(self, username: str) -> str:
        return self._passwords()[username]

    def _passwords(self) -> dict[str, str]:
        return json.loads((self.home / "passwords.json").read_text())

    def logins(self, with_passwords: bool = True) -> list[Login]:
        """admin, ooo-bot (the ooo_airflow connection's), ops, viewer and a login per manager of the
        stack's roster, each with its password from ``<home>/passwords.json``."""
        team = load_team(self.env().get("OOO_TEAM_FILE") or None)
        wanted = [Login(name, role) for name, role in LOGINS.items()] + roster_managers(team)
        if not with_passwords:
            return wanted
        passwords = self._passwords()
        return [Login(w.username, w.role, passwords[w.username], w.email, w.name) for w in wanted]

    def env(self) -> dict[str, str]:
        env = {**checkout_settings(), **os.environ}
        env.update({
            "AIRFLOW_HOME": str(self.home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(self.code / "dags"),
            "AIRFLOW__CORE__PLUGINS_FOLDER": str(self.code / "plugins"),
            "AIRFLOW__API__BASE_URL": self.url,
            "AIRFLOW__API__PORT": str(self.port),
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{self.url}/execution/",
        })
        passwords = self._passwords() if (self.home / "passwords.json").exists() else {}
        if BOT_LOGIN in passwords:  # tasks keep run notes and change runs through the API, as ooo-bot
            env["AIRFLOW_CONN_OOO_AIRFLOW"] = json.dumps({"conn_type": "http", "host": self.url,
                                                          "login": BOT_LOGIN, "password": passwords[BOT_LOGIN]})
        if self.code != ROOT:  # the copy's package, templates and roster, not the checkout's (installed editable)
            env["PYTHONPATH"] = os.pathsep.join([str(self.code / "plugins"), *filter(None, [env.get("PYTHONPATH")])])
            env["OOO_TEMPLATES_DIR"] = str(self.code / "include" / "templates")
        env.update(self.extra_env)
        if sqlite_path(self.database_url(env)):  # the embedded default: see ooo.embedded_db
            env.setdefault("AIRFLOW__DATABASE__SQL_ALCHEMY_CONNECT_ARGS", CONNECT_ARGS_PATH)
        return env

    def database_url(self, env: dict[str, str] | None = None) -> str:
        env = self.env() if env is None else env
        return env.get("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN") or f"sqlite:///{self.home / 'airflow.db'}"

    def query(self, sql: str, **params: object) -> list[tuple]:
        """Rows from the metadata DB, SQLite or PostgreSQL alike (tests and benchmarks read tables)."""
        import sqlalchemy as sa
        from sqlalchemy.pool import NullPool

        url = self.database_url()
        engine = sa.create_engine(url, poolclass=NullPool, connect_args=CONNECT_ARGS if sqlite_path(url) else {})
        try:
            with engine.connect() as conn:
                return [tuple(row) for row in conn.execute(sa.text(sql), params)]
        finally:
            engine.dispose()

    def _spawn(self, name: str, args: list[str]) -> None:
        log = open(self.logs / f"{name}.log", "ab")  # noqa: SIM115 - closed in stop()
        self._files.append(log)
        self.procs[name] = subprocess.Popen(args, env=self.component_env(name), stdout=log,
                                            stderr=subprocess.STDOUT, start_new_session=True, cwd=ROOT)

    def component_env(self, component: str) -> dict[str, str]:
        """The environment of one component: the API server gives up on SQLite's lock sooner."""
        env = self.env()
        if component == "api-server" and env.get("AIRFLOW__DATABASE__SQL_ALCHEMY_CONNECT_ARGS") == CONNECT_ARGS_PATH:
            env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONNECT_ARGS"] = API_SERVER_CONNECT_ARGS_PATH
        return env

    def start(self, timeout: float = 180) -> Stack:
        self.home.mkdir(parents=True, exist_ok=True)
        self.logs.mkdir(parents=True, exist_ok=True)
        self._make_passwords()
        with open(self.logs / "migrate.log", "wb") as log:
            subprocess.run([airflow_cli(), "db", "migrate"], env=self.env(), stdout=log, stderr=subprocess.STDOUT,
                           check=True)
        if db := sqlite_path(self.database_url()):
            use_write_ahead_log(db)
        self.apply_access()
        for component in self.components:
            self.restart(component)
        self.api.wait_for_dag(timeout=timeout)
        return self

    def _make_passwords(self) -> None:
        """A random password for each login that has none yet in ``<home>/passwords.json`` (mode 600)."""
        path = self.home / "passwords.json"
        passwords = self._passwords() if path.exists() else {}
        for login in self.logins(with_passwords=False):
            passwords.setdefault(login.username, secrets.token_hex(12))  # no leading "-" for a CLI
        path.touch(mode=0o600)
        path.chmod(0o600)
        path.write_text(json.dumps(passwords, indent=1))

    def apply_access(self) -> None:
        """The roles and logins (:mod:`ooo.access`), in this process: one FAB security manager session."""
        import sqlalchemy as sa
        from sqlalchemy.orm import Session
        from sqlalchemy.pool import NullPool

        from ooo.access import apply

        url = self.database_url()
        engine = sa.create_engine(url, poolclass=NullPool, connect_args=CONNECT_ARGS if sqlite_path(url) else {})
        try:
            with Session(engine) as session:
                applied = apply(session, self.logins())
            with open(self.logs / "access.log", "a") as log:
                print(f"{dt.datetime.now(dt.timezone.utc):%Y-%m-%dT%H:%M:%SZ} {applied}", file=log)
        finally:
            engine.dispose()

    def api_as(self, username: str) -> AirflowApi:
        """The REST API as one of the stack's logins: ``admin``, ``ooo-bot``, ``ops``, ``viewer`` or
        a roster manager's email (``stack.api_as("allison.reed@yellowstonelocal.com")``)."""
        if username not in self._apis:
            self._apis[username] = AirflowApi(self.url, username, self.password_of(username))
        return self._apis[username]

    def restart(self, component: str) -> None:
        """Start ``component`` (again, after :meth:`kill`): the same command, the same log file."""
        self._spawn(component, self.command(component))

    def command(self, component: str) -> list[str]:
        """The command line that runs ``component``."""
        return [airflow_cli(), component] + (["--port", str(self.port)] if component == "api-server" else [])

    def kill(self, component: str) -> None:
        """``kill -9`` the component's whole process group, as a crash or an OOM kill would."""
        proc = self.procs.pop(component)
        _signal_group(proc, signal.SIGKILL)
        proc.wait()

    def kill_task(self, ti_id: str) -> list[int]:
        """``kill -9`` a running task and the executor worker supervising it (a worker dying mid-task).

        Only this stack's scheduler's descendants are looked at: the task process is titled
        ``airflow worker -- <task instance id>`` and its parent is the LocalExecutor worker.
        """
        import psutil

        scheduler = self.procs["scheduler"].pid
        victims: list[psutil.Process] = []
        for child in psutil.Process(scheduler).children(recursive=True):
            try:
                if " ".join(child.cmdline()).strip() == f"airflow worker -- {ti_id}":
                    parent = child.parent()
                    victims += [child] + ([parent] if parent and parent.pid != scheduler else [])
            except psutil.NoSuchProcess:
                continue
        for victim in victims:
            with contextlib.suppress(psutil.NoSuchProcess):
                victim.kill()
        return [v.pid for v in victims]

    def stop_component(self, component: str, grace: float = 10) -> None:
        """Stop one component as a deployment's restart does (SIGTERM, SIGKILL after ``grace``); :meth:`restart`
        starts it again."""
        proc = self.procs.pop(component)
        _signal_group(proc, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=grace)
        _signal_group(proc, signal.SIGKILL)  # and whatever it left behind in its group
        proc.wait()

    @property
    def api(self) -> AirflowApi:
        if not hasattr(self, "_api"):
            self._api = AirflowApi(self.url, "admin", self.password)
        return self._api

    def stop(self, grace: float = 10) -> None:
        for proc in self.procs.values():
            _signal_group(proc, signal.SIGTERM)
        deadline = time.monotonic() + grace
        for proc in self.procs.values():
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        for proc in self.procs.values():  # whatever lingers, and every child of every group
            _signal_group(proc, signal.SIGKILL)
            proc.wait()
        for f in self._files:
            f.close()
        self.procs.clear()

    def __enter__(self) -> Stack:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _signal_group(proc: subprocess.Popen[bytes], sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, sig)


def end_group(proc: subprocess.Popen[bytes], sig: int, grace: float) -> None:
    """Ask a server's process group to end with ``sig``; after ``grace`` seconds, kill what is left."""
    _signal_group(proc, sig)
    try:
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        _signal_group(proc, signal.SIGKILL)
        proc.wait()
