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
from tests.dags.runs import run_absence
from tests.e2e.fault_tally import Run, expect, tally

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
        expected = expect(faulty.sandbox, team, params["employee"], dt.date.fromisoformat(params["start_date"]),
                          dt.date.fromisoformat(params["end_date"]), filed)  # from the world before it is filed
        run, tis = run_absence(retrying(absence_dag), params, filed)
        states = {(t.task_id, t.map_index): t.state for t in tis}
        assert run.state == "success", states
        run_id = run.run_id  # dag.test() names its runs manual__...: the key comes from it
        runs.append(Run(run_id, run_key(run_id), params["employee"], buddy, expected))

    counts = tally(faulty.sandbox, team, runs)
    report = faulty.sandbox.fault_report()["injected"]
    print(json.dumps({"faults": report, "counts": counts.rows()}, indent=1))
    assert sum(n for kinds in report.values() for n in kinds.values()) > 20  # the faults did strike
    assert any("_after" in kind for kinds in report.values() for kind in kinds)
    assert counts.where == [], counts.where  # nothing doubled, nothing missing
    assert counts.expected["reschedule email"] > 0 and counts.expected["SMS alert"] > 0
    assert counts.expected["customer notice"] > 0 and counts.expected["CC DM"] == 2


def test_the_tally_sees_a_decline_or_an_auto_reply_off_made_twice(sandbox, team):
    """The tally counts changes in the sandbox, not end states: a meeting declined, accepted again and
    declined again, or the responder switched off twice, is a double though the end state looks right."""
    world = sandbox.sandbox
    start = dt.date.today() + dt.timedelta(days=7 - dt.date.today().weekday())  # next Monday
    end = start + dt.timedelta(days=4)
    filed = local(dt.date.today(), dt.time(9), team.person(MAYA).timezone)
    expected = expect(world, team, MAYA, start, end, filed)
    assert len(expected.meetings) >= 2 and any(m["external"] for m in expected.meetings.values())
    google = world.api("google")
    first, *others = expected.meetings
    for event_id in expected.meetings:
        google.set_response(MAYA, event_id, MAYA, "declined")
    google.set_response(MAYA, first, MAYA, "accepted")
    google.set_response(MAYA, first, MAYA, "declined")
    google.set_response(MAYA, others[0], MAYA, "declined")  # the same answer again: no change, no double
    for enabled in (True, False, True, False):
        google.set_vacation(MAYA, {"enableAutoReply": enabled, "responseSubject": "Out"})

    counts = tally(world, team, [Run("r", run_key("absence__x"), MAYA, JORDAN, expected)])
    assert (counts.found["declined meeting"], counts.doubled["declined meeting"]) == (len(expected.meetings), 1)
    assert (counts.found["auto-reply off"], counts.doubled["auto-reply off"]) == (1, 1)
    assert counts.missing["reschedule email"] == sum(1 for m in expected.meetings.values() if m["external"])
