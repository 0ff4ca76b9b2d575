"""The production shape on one machine, without Docker: docker-compose.yaml's processes and settings.

PostgreSQL for the metadata (:mod:`devstack.postgres`), Redis as Celery's broker
(:mod:`devstack.redis`), and Airflow with the CeleryExecutor: the api-server, the scheduler, the
dag-processor, two triggerers and two Celery workers, each a process group of its own (so each can
be killed alone). The Airflow settings are the compose file's own (``x-airflow-common``), read from
it: only what names the compose file's machines, secrets and logins is the stack's
(:data:`MACHINE_SPECIFIC`). ``scripts/demo.sh --production`` runs the demo on it;
``tests/e2e/test_production_shape.py`` runs absences and kills components on it.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml

from devstack.redis import Redis
from devstack.stack import ROOT, Stack, airflow_cli, free_port

COMPOSE = ROOT / "docker-compose.yaml"

#: Compose settings that name its containers, its secrets or its logins: the stack has its own
#: (the database and broker it started, its URL, the checkout's logins; Airflow makes the keys).
MACHINE_SPECIFIC = frozenset({
    "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", "AIRFLOW__CELERY__RESULT_BACKEND", "AIRFLOW__CELERY__BROKER_URL",
    "AIRFLOW__CORE__FERNET_KEY", "AIRFLOW__API_AUTH__JWT_SECRET", "AIRFLOW__CORE__EXECUTION_API_SERVER_URL",
    "AIRFLOW__API__BASE_URL",
})


def compose_settings() -> dict[str, str]:
    """The Airflow settings every component gets in docker-compose.yaml, less :data:`MACHINE_SPECIFIC`
    and any taken from ``.env`` (``${...}``: a deployment's own secret or address)."""
    env = yaml.safe_load(COMPOSE.read_text())["x-airflow-common"]["environment"]
    return {key: str(value) for key, value in env.items()
            if key.startswith("AIRFLOW__") and key not in MACHINE_SPECIFIC and "${" not in str(value)}


class ProductionStack(Stack):
    """:class:`Stack` in the compose file's shape. ``database`` is a PostgreSQL ``sql_alchemy_conn``
    (Airflow refuses SQLite with Celery); ``redis`` a started :class:`~devstack.redis.Redis`.

    Components are named ``worker-1``, ``worker-2``, ``triggerer-1``, ``triggerer-2``; each log
    server (a worker's, a triggerer's) gets a free port of its own, as each container has its own.
    """

    def __init__(self, home: Path, airflow_port: int, database: str, redis: Redis,
                 env: dict[str, str] | None = None, workers: int = 2, triggerers: int = 2):
        super().__init__(home, airflow_port, env={**(env or {}), "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": database})
        self.redis = redis
        self.workers = tuple(f"worker-{n}" for n in range(1, workers + 1))
        self.triggerers = tuple(f"triggerer-{n}" for n in range(1, triggerers + 1))
        self.components = ("api-server", "scheduler", "dag-processor", *self.triggerers, *self.workers)
        self._ports = {name: free_port() for name in ("scheduler", *self.workers, *self.triggerers)}
        self.triggerer_jobs: dict[str, int] = {}  # triggerer -> its job id (``trigger.triggerer_id``)
        self._ready_before: dict[str, int] = {}  # worker -> "ready" lines in its log before its last start

    def env(self) -> dict[str, str]:
        env = super().env()
        database = env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]
        env.update({key: value for key, value in compose_settings().items() if key not in self.extra_env})
        env.update({
            "AIRFLOW__CELERY__BROKER_URL": self.redis.url,
            "AIRFLOW__CELERY__RESULT_BACKEND": f"db+{database}",  # as compose: the results in PostgreSQL
            "AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_PORT": str(self._ports["scheduler"]),
        })
        return env

    def component_env(self, component: str) -> dict[str, str]:
        env = super().component_env(component)
        if component in self.workers:
            env["AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT"] = str(self._ports[component])
        elif component in self.triggerers:
            env["AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT"] = str(self._ports[component])
        return env

    def command(self, component: str) -> list[str]:
        if component in self.workers:  # a Celery node name of its own: both run on this host
            return [airflow_cli(), "celery", "worker", "--celery-hostname", f"{component}@%h"]
        if component in self.triggerers:
            return [airflow_cli(), "triggerer"]
        return super().command(component)

    def worker_running(self, ti_id: str) -> str | None:
        """The Celery worker whose processes run task instance ``ti_id`` (its process is titled
        ``airflow worker -- <id>`` by the Task SDK's supervisor), or None."""
        import psutil

        for name in self.workers:
            proc = self.procs.get(name)
            if proc is None:
                continue
            try:
                children = psutil.Process(proc.pid).children(recursive=True)
            except psutil.NoSuchProcess:
                continue
            for child in children:
                try:
                    if " ".join(child.cmdline()).strip() == f"airflow worker -- {ti_id}":
                        return name
                except psutil.NoSuchProcess:
                    continue
        return None

    def start(self, timeout: float = 180) -> ProductionStack:
        """As :meth:`Stack.start`, then until each Celery worker says it is ready (a worker that cannot
        reach its broker exits: better said at once than found when no task runs)."""
        super().start(timeout)
        for name in self.workers:
            self.wait_ready(name, timeout)
        return self

    def wait_ready(self, worker: str, timeout: float = 180) -> None:
        """Until ``worker``, (re)started, logs Celery's "<name>@<host> ready."."""
        deadline = time.monotonic() + timeout
        while self._readies(worker) <= self._ready_before.get(worker, 0):
            if time.monotonic() > deadline or self.procs[worker].poll() is not None:
                raise RuntimeError(f"{worker} is not running: see {self.logs / worker}.log")
            time.sleep(0.5)

    def restart(self, component: str, timeout: float = 120) -> None:
        """As :meth:`Stack.restart`; a triggerer is started alone, until its job is in the database,
        so that which triggerer holds a trigger can be told (:meth:`triggerer_holding`)."""
        if component in self.workers:
            self._ready_before[component] = self._readies(component)
        if component not in self.triggerers:
            return super().restart(component)
        latest = "select coalesce(max(id), 0) from job where job_type = 'TriggererJob'"
        before = self.query(latest)[0][0]
        super().restart(component)
        deadline = time.monotonic() + timeout
        while (job := self.query(latest)[0][0]) == before:
            if time.monotonic() > deadline or self.procs[component].poll() is not None:
                raise RuntimeError(f"{component} did not start: see {self.logs / component}.log")
            time.sleep(0.5)
        self.triggerer_jobs[component] = job

    def triggerer_holding(self, trigger_id: int) -> str | None:
        """The triggerer that trigger ``trigger_id`` is assigned to (None: to none of this stack's)."""
        rows = self.query("select triggerer_id from trigger where id = :id", id=trigger_id)
        job = rows[0][0] if rows else None
        return next((name for name, j in self.triggerer_jobs.items() if j == job and name in self.procs), None)

    def log_of(self, component: str) -> str:
        log = self.logs / f"{component}.log"
        return log.read_text(errors="replace") if log.exists() else ""

    def _readies(self, worker: str) -> int:
        return len(re.findall(rf"{re.escape(worker)}@\S+ ready\.", self.log_of(worker)))



@contextmanager
def production_stack(home: Path, airflow_port: int, env: dict[str, str] | None = None,
                     **shape: Any) -> Iterator[ProductionStack]:
    """A :class:`ProductionStack` on a throwaway PostgreSQL and Redis, started; all stopped at the end."""
    from devstack.postgres import Postgres

    with Postgres() as postgres, Redis() as redis:
        stack = ProductionStack(home, airflow_port, postgres.database(), redis, env=env, **shape)
        try:
            yield stack.start()
        finally:
            stack.stop()
