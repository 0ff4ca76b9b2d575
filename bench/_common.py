"""Shared by the benchmarks: the machine, a real stack against a sandbox, the metadata DB, results.

The real-stack benchmarks start what the end-to-end tests start (``devstack.stack.Stack``: api-server,
scheduler, dag-processor, triggerer; LocalExecutor on SQLite, the checkout's ``config/airflow.env``)
in a temporary AIRFLOW_HOME, against an in-process sandbox whose request log is made long enough
to keep every request of the run. ``metadata_db="postgres"`` puts the metadata DB on a throwaway
PostgreSQL (``devstack.postgres``, production's database) instead; :class:`Metadata` reads either.
"""

from __future__ import annotations

import collections
import datetime as dt
import json
import os
import platform
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
REQUEST_LOG = 200_000  # the sandbox keeps 500 by default; a benchmark wants every request
FILING_RETRIES = [0]  # REST filings answered 500 "database is locked" (or timed out) and retried


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    mem = ""
    try:
        kb = int(next(line for line in Path("/proc/meminfo").read_text().splitlines()
                      if line.startswith("MemTotal")).split()[1])
        mem = f"{kb / 1024 / 1024:.1f} GiB"
    except (OSError, StopIteration, ValueError):
        pass
    try:
        load = os.getloadavg()
    except OSError:
        load = (0.0, 0.0, 0.0)
    import airflow

    return {"cpus": os.cpu_count(), "ram": mem, "python": platform.python_version(),
            "airflow": airflow.__version__, "platform": platform.platform(terse=True),
            "loadavg_at_start": [round(x, 2) for x in load], "commit": commit(),
            "at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")}


def commit() -> str:
    """The code measured: ``OOO_BENCH_COMMIT`` (a run from an exported copy), else the checkout's HEAD,
    ``+changes`` when it has uncommitted ones."""
    if os.environ.get("OOO_BENCH_COMMIT"):
        return os.environ["OOO_BENCH_COMMIT"]
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT, capture_output=True,
                           text=True)
    return (head.stdout.strip() or "unknown") + ("+changes" if dirty.stdout.strip() else "")


def print_machine(info: dict[str, Any]) -> None:
    print(f"machine: {info['cpus']} CPUs, {info['ram']} RAM, Python {info['python']}, Airflow {info['airflow']}, "
          f"load average at start {info['loadavg_at_start']}, {info['at']}, code {info['commit']}")


def save(name: str, result: dict[str, Any]) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(result, indent=2, default=str) + "\n")
    print(f"(written to {path.relative_to(ROOT)})")
    return path


def table(rows: list[tuple[Any, ...]], header: tuple[str, ...]) -> None:
    cells = [tuple(str(c) for c in header)] + [tuple(str(c) for c in r) for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    for n, r in enumerate(cells):
        print("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip())
        if n == 0:
            print("  ".join("-" * w for w in widths))


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * p // 100))
    return ordered[int(rank) - 1]


# -- the team --------------------------------------------------------------------------------
def write_team(path: Path, people: int = 0, timezone: str = "Europe/London", **times: str) -> Path:
    """The sample team working every day, no holidays, plus ``people`` CSMs (``csmNNN@``) in one
    time zone, paired as each other's buddies, managed by the sample team's first manager."""
    from ooo.team import SAMPLE_TEAM_FILE

    raw = yaml.safe_load(SAMPLE_TEAM_FILE.read_text())
    raw["team"]["working_days"] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
    raw["team"]["holidays"] = []
    raw["team"]["times"].update(times)
    raw["team"]["intake"] = {**raw["team"].get("intake", {}), "enabled": False}  # benchmarks file their own
    manager = next(p["email"] for p in raw["people"] if p["role"] == "manager")
    domain = raw["team"]["email_domain"]
    for i in range(people):
        raw["people"].append({
            "email": f"csm{i:03d}@{domain}", "name": f"Bench Csm{i:03d}", "role": "csm", "timezone": timezone,
            "manager": manager, "buddy": f"csm{i ^ 1:03d}@{domain}" if (i ^ 1) < people else manager,
            "slack_id": f"UB{i:07d}", "justcall_number": f"+1307556{i:04d}", "hubspot_owner_id": str(42000000 + i),
        })
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    return path


def set_times(path: Path, **times: str) -> None:
    raw = yaml.safe_load(path.read_text())
    raw["team"]["times"].update(times)
    path.write_text(yaml.safe_dump(raw, sort_keys=False))


def bench_people(n: int) -> list[str]:
    from ooo.team import load_team

    domain = load_team().email_domain
    return [f"csm{i:03d}@{domain}" for i in range(n)]


def seed_meetings(google: Any, employee: Any, manager: str, day: dt.date, count: int, zone: str) -> None:
    """``count`` half-hour meetings on ``employee``'s ``day`` from 8:00, two in five with a client (the
    employee organises those: their clients get the reschedule note), the rest internal (the manager's)."""
    from zoneinfo import ZoneInfo

    for k in range(count):
        at = dt.datetime.combine(day, dt.time(8), ZoneInfo(zone)) + dt.timedelta(minutes=30 * k)
        external = k % 5 in (0, 3)
        organiser = employee.email if external else manager
        guests = [employee.email, f"client{k}@example-client.com"] if external else \
            [employee.email, manager, employee.buddy]
        google.add_event(organiser, {
            "summary": f"{'Client check-in' if external else 'Account review'} {k}",
            "start": {"dateTime": at.isoformat(), "timeZone": zone},
            "end": {"dateTime": (at + dt.timedelta(minutes=25)).isoformat(), "timeZone": zone},
            "attendees": [{"email": g, "responseStatus": "accepted"} for g in dict.fromkeys([organiser, *guests])],
        })


# -- a real stack ----------------------------------------------------------------------------
@contextmanager
def real_stack(name: str, team_file_people: int = 40, dags: Path | None = None, dag_id: str = "ooo_absence",
               env: dict[str, str] | None = None, timezone: str = "Europe/London",
               client_timeout: int | None = None, metadata_db: str = "sqlite",
               **times: str) -> Iterator[tuple[Any, Any, Path]]:
    """(stack, sandbox server, team file): Airflow as the demo runs it, in a temp AIRFLOW_HOME, its
    metadata DB on SQLite (the embedded default) or a throwaway PostgreSQL."""
    from devstack.postgres import Postgres
    from devstack.stack import Stack, free_port
    from ooo.airflow_api import AirflowApi
    from ooo.team import load_team
    from sandbox import connection_env, start_sandbox

    postgres = Postgres().start() if metadata_db == "postgres" else None
    home = Path(tempfile.mkdtemp(prefix=f"ooo-bench-{name}-"))
    team_file = write_team(home / "team.yaml", team_file_people, timezone, **times)
    server = start_sandbox(load_team(team_file))
    server.sandbox.requests = collections.deque(server.sandbox.requests, maxlen=REQUEST_LOG)
    stack_env = {
        **connection_env(server.sandbox.connections(timeout=client_timeout)),
        "OOO_TEAM_FILE": str(team_file),
        "AIRFLOW__CORE__DEFAULT_TASK_RETRIES": "0",
        # SQLite has one writer: at the default 32 (16 per DAG) concurrent tasks, the scheduler and
        # the dag-processor died of "database is locked" while 200 absences started (a longer
        # SQLite busy timeout only turned that into execution-API timeouts). 4 task processes
        # is what 2 cores run anyway. OOO_BENCH_PARALLELISM changes it.
        "AIRFLOW__CORE__PARALLELISM": os.environ.get("OOO_BENCH_PARALLELISM", "4"),
        # [core] max_active_runs_per_dag is 16 and ooo_absence passes max_active_runs=None, which
        # means that default: the 17th absence in flight would sit queued (not even validated)
        # until one of the 16 ends. See docs/BENCHMARKS.md; OOO_BENCH_MAX_ACTIVE_RUNS=16 shows it.
        "AIRFLOW__CORE__MAX_ACTIVE_RUNS_PER_DAG": os.environ.get("OOO_BENCH_MAX_ACTIVE_RUNS", "100000"),
        **(env or {}),
    }
    if dags is not None:
        stack_env["AIRFLOW__CORE__DAGS_FOLDER"] = str(dags)
    if postgres is not None:
        stack_env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] = postgres.database()
    stack = Stack(home, free_port(), env=stack_env)
    if dag_id != "ooo_absence":  # Stack.start waits for ooo_absence; wait for the bench's DAG instead
        home.mkdir(parents=True, exist_ok=True)
        (home / "passwords.json").write_text(json.dumps({"admin": "bench-" + os.urandom(6).hex()}))
        api = AirflowApi(stack.url, "admin", stack.password)
        wait = api.wait_for_dag
        api.wait_for_dag = lambda timeout=120: wait(dag_id, timeout=timeout)  # type: ignore[method-assign]
        stack._api = api
    keep = bool(os.environ.get("OOO_BENCH_KEEP"))
    try:
        t0 = time.monotonic()
        stack.start(timeout=300)
        print(f"[{name}] stack up in {time.monotonic() - t0:.0f} s (AIRFLOW_HOME {home})", flush=True)
        yield stack, server, team_file
    except BaseException:
        keep = True  # the logs say why
        print(f"[{name}] failed: logs kept in {stack.logs}", flush=True)
        raise
    finally:
        stack.stop()
        server.stop()
        if postgres is not None:
            postgres.stop()
        if not keep:
            shutil.rmtree(home, ignore_errors=True)


def db(stack: Any) -> sqlite3.Connection:
    """The SQLite metadata DB (bench_naive's stack; the others read through :class:`Metadata`)."""
    conn = sqlite3.connect(stack.home / "airflow.db", timeout=30)
    return conn


class Metadata:
    """The stack's metadata DB, SQLite or PostgreSQL, for reading: named parameters, a list or
    tuple parameter expanded for ``in :name``."""

    def __init__(self, stack: Any):
        import sqlalchemy as sa
        from sqlalchemy.pool import NullPool

        from ooo.embedded_db import CONNECT_ARGS, sqlite_path

        url = stack.database_url()
        self.sqlite = sqlite_path(url) is not None
        self.engine = sa.create_engine(url, **({"poolclass": NullPool, "connect_args": CONNECT_ARGS}
                                               if self.sqlite else {"pool_size": 2}))

    def rows(self, sql: str, **params: Any) -> list[tuple[Any, ...]]:
        import sqlalchemy as sa

        statement = sa.text(sql)
        lists = [sa.bindparam(k, expanding=True) for k, v in params.items() if isinstance(v, (list, tuple))]
        if lists:
            statement = statement.bindparams(*lists)
        with self.engine.connect() as conn:
            return [tuple(row) for row in conn.execute(statement, params)]

    def one(self, sql: str, **params: Any) -> Any:
        found = self.rows(sql, **params)
        return found[0][0] if found else None


_METADATA: dict[int, Metadata] = {}


def metadata(stack: Any) -> Metadata:
    if id(stack) not in _METADATA:
        _METADATA[id(stack)] = Metadata(stack)
    return _METADATA[id(stack)]


def utc(stored: Any) -> dt.datetime:
    """A timestamp as the metadata DB gives it (SQLite: text, with or without its offset; PostgreSQL:
    an aware datetime), in UTC."""
    at = stored if isinstance(stored, dt.datetime) else dt.datetime.fromisoformat(str(stored))
    return at.astimezone(dt.timezone.utc) if at.tzinfo else at.replace(tzinfo=dt.timezone.utc)


def ti_states(stack: Any, dag_id: str = "ooo_absence", run_ids: list[str] | None = None) -> dict[str, int]:
    sql = "select coalesce(state, 'none'), count(*) from task_instance where dag_id = :dag"
    if run_ids is None:
        rows = metadata(stack).rows(sql + " group by state", dag=dag_id)
    else:
        rows = [r for chunk in _chunks(run_ids) for r in
                metadata(stack).rows(sql + " and run_id in :ids group by state", dag=dag_id, ids=chunk)]
    out: dict[str, int] = collections.Counter()
    for state, count in rows:
        out[state] += count
    return dict(out)


def _chunks(items: list[str], size: int = 500) -> Iterator[list[str]]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


def triggers(stack: Any) -> tuple[int, int]:
    """(rows in the trigger table, the most triggers any one run's task instances point at)."""
    total = metadata(stack).one("select count(*) from trigger")
    most = metadata(stack).one("select coalesce(max(c), 0) from (select run_id, count(distinct trigger_id) c "
                               "from task_instance where trigger_id is not null group by run_id) per_run")
    return total, most


def run_states(stack: Any, dag_id: str = "ooo_absence") -> dict[str, int]:
    return dict(stack.query("select state, count(*) from dag_run where dag_id = :d group by state", d=dag_id))


def config(stack: Any, *keys: str) -> dict[str, str]:
    """Effective Airflow settings, as the stack's processes see them."""
    airflow = str(Path(sys.executable).with_name("airflow"))
    out = {}
    for key in keys:
        section, option = key.split(".")
        r = subprocess.run([airflow, "config", "get-value", section, option], env=stack.env(),
                           capture_output=True, text=True)
        out[key] = r.stdout.strip() or r.stderr.strip().splitlines()[-1:]
    return out


def file_all(api: Any, absences: list[tuple[dict[str, Any], str | None]], workers: int = 1) -> list[str]:
    """File the absences through the REST API, one after another (SQLite has one writer)."""
    from concurrent.futures import ThreadPoolExecutor

    from ooo.absence import run_id_for

    def one(item: tuple[dict[str, Any], str | None]) -> str:
        params, logical = item
        run_id = run_id_for(params["employee"], params["start_date"], params["end_date"])
        trigger(api, "ooo_absence", run_id, {"reachable": False, "note": "", **params}, logical)
        return run_id

    with ThreadPoolExecutor(workers) as pool:
        return list(pool.map(one, absences))


def stack_pss_mb(stack: Any) -> int:
    """Memory of every process in the stack's process groups (MB, proportional set size: pages
    shared between forked workers counted once)."""
    import psutil

    groups = {proc.pid for proc in stack.procs.values()}
    total = 0
    for p in psutil.process_iter(["pid"]):
        try:
            if os.getpgid(p.pid) in groups:
                total += p.memory_full_info().pss
        except (psutil.Error, ProcessLookupError, OSError):
            pass
    return round(total / 1024 / 1024)


def trigger(api: Any, dag_id: str, run_id: str, conf: dict[str, Any], logical: str | None = None) -> None:
    """Trigger a run; SQLite answers "database is locked" (500) or stalls past the client's
    timeout when busy: retry (a retry that finds the run filed means the first try went through)."""
    from ooo.airflow_api import AirflowApiError, AirflowUnreachable

    for attempt in range(20):
        try:
            api.trigger(dag_id, run_id, conf, logical)
            return
        except AirflowApiError as exc:
            if "exists already" in str(exc) and attempt:
                return
            if not (" 500 " in str(exc) or isinstance(exc, AirflowUnreachable)) or attempt == 19:
                raise
        FILING_RETRIES[0] += 1
        time.sleep(0.5 + attempt * 0.5)
