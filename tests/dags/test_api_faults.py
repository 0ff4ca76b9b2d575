"""API faults: with 30% of every API's calls failing (429, 5xx, timeouts, dropped connections,
some after the service applied the request), absences still do everything exactly once.

The real DAG runs through ``dag.test()`` against the sandbox; task retries are on (Airflow's own,
with a one-second delay for the test), and every client's timeout is set below how long the
sandbox holds a timed-out answer. The batch of 50+ on a real stack is bench/reliability_faults.py.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest

from devstack.demo import sample_absences
from ooo.keys import run_key
from ooo.timeline import local
from sandbox import connection_env
from sandbox.core import Faults
from tests.dags.runs import review_records, run_absence, xcom
from tests.e2e.fault_tally import Run, tally

pytestmark = pytest.mark.e2e
JORDAN = "jordan.reyes@yellowstonelocal.com"
MAYA = "maya.patel@yellowstonelocal.com"
ALLISON = "allison.reed@yellowstonelocal.com"
CLIENT_TIMEOUT, HOLD = 1, 1.5  # seconds: a timed-out answer is held past the clients' timeout


@pytest.fixture
def faulty(sandbox, monkeypatch):
    for name, value in connection_env(sandbox.sandbox.connections(timeout=CLIENT_TIMEOUT)).items():
        monkeypatch.setenv(name, value)
    sandbox.sandbox.set_faults(Faults(rate=0.3, hold_s=HOLD), seed=8)
    return sandbox


def retrying(dag):
    """Every step retried as Airflow's [core] default_task_retries would, one second apart."""
    for task in dag.tasks:
        if task.task_id not in ("validate", "approval"):  # a refusal or an answer is never retried
            task.retries, task.retry_delay, task.retry_exponential_backoff = 8, dt.timedelta(seconds=1), 0
    return dag


def test_faults_on_every_api_double_nothing_and_lose_nothing(absence_dag, faulty, team):
    today = dt.date.today()
    sick, filed_sick = next((p, f) for p, f in sample_absences(today) if p["kind"] == "unexpected")
    sick = {**sick, "end_date": team.next_working_day(dt.date.fromisoformat(sick["start_date"])).isoformat()}
    start = today - dt.timedelta(days=today.weekday() + 21)  # a Monday three weeks ago, pre-approved
    trip = {"employee": MAYA, "start_date": start.isoformat(), "end_date": (start + dt.timedelta(days=1)).isoformat(),
            "kind": "planned", "approved_by": ALLISON}
    filed_trip = local(start - dt.timedelta(days=7), dt.time(9), team.person(MAYA).timezone)
    runs = []
    for params, filed, buddy in ((sick, dt.datetime.fromisoformat(filed_sick), MAYA), (trip, filed_trip, JORDAN)):
        run, tis = run_absence(retrying(absence_dag), params, filed)
        states = {(t.task_id, t.map_index): t.state for t in tis}
        assert run.state == "success", states
        run_id = run.run_id  # dag.test() names its runs manual__...: the key comes from it
        records = {t.task_id: xcom(t) for t in tis if t.map_index < 0}
        runs.append(Run(run_id, run_key(run_id), params["employee"], buddy, records, review_records(tis)))

    counts = tally(faulty.sandbox, team, runs)
    report = faulty.sandbox.fault_report()["injected"]
    print(json.dumps({"faults": report, "counts": counts.rows()}, indent=1))
    assert sum(n for kinds in report.values() for n in kinds.values()) > 20  # the faults did strike
    assert any("_after" in kind for kinds in report.values() for kind in kinds)
    assert counts.where == [], counts.where  # nothing doubled, nothing missing
    assert counts.expected["reschedule email"] > 0 and counts.expected["SMS alert"] > 0
    assert counts.expected["customer notice"] > 0 and counts.expected["CC DM"] == 2
