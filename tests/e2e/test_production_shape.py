"""The production shape, run for real: docker-compose.yaml's processes and settings without Docker.

PostgreSQL, Redis, the CeleryExecutor with two Celery workers, two triggerers, the scheduler, the
dag-processor and the api-server (``devstack.production``), against a sandbox. The sample absences
run to their digests; then components die and the absences do not:

* a triggerer is killed (``kill -9``) while absences wait in it: the other takes their triggers over
  and every moment fires, once (how late each fired is printed);
* the Celery worker running ``calendar_cleanup`` is killed half-way through the meetings: Airflow
  fails the try for its missing heartbeat and the retry runs on the other worker; every effect once;
* Redis is restarted while tasks wait in its queue: nothing lost, nothing doubled.

Effects are counted with ``tests/e2e/fault_tally.py`` (expected from the sandbox's seeded world).
Figures in docs/RELIABILITY.md, "The production shape".
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from devstack.demo import sample_absences
from devstack.production import ProductionStack
from ooo.keys import run_key
from ooo.team import Team
from ooo.timeline import local
from sandbox import SandboxServer
from sandbox.core import Faults
from tests.e2e.fault_tally import Run, expect, seed_window, tally
from tests.e2e.stack import by_task, next_minute, real_stack
from tests.e2e.test_process_faults import (
    CRASH_SETTINGS,
    half_way_through_cleanup,
    patches,
    slowed_calendar,
    team_of,
    ti_of,
    today_of,
)

pytestmark = [pytest.mark.e2e, pytest.mark.scheduler]

ALLISON = "allison.reed@yellowstonelocal.com"
MAYA = "maya.patel@yellowstonelocal.com"
ROSA = "rosa.alvarez@yellowstonelocal.com"
#: How long Redis is gone in the restart case: a container's restart, about.
REDIS_DOWN = 5
#: Two task slots per worker (compose: 16), so that a handful of absences leaves tasks waiting in Redis.
SETTINGS = {**CRASH_SETTINGS, "AIRFLOW__CELERY__WORKER_CONCURRENCY": "2"}


@pytest.fixture(scope="module")
def stack(tmp_path_factory) -> Iterator[tuple[ProductionStack, SandboxServer]]:
    home = tmp_path_factory.mktemp("airflow")
    with real_stack(home, env=SETTINGS, production=True) as (airflow, sandbox):
        yield airflow, sandbox  # type: ignore[misc]


def file(airflow: ProductionStack, sandbox: SandboxServer, team: Team,
         absences: list[tuple[dict[str, Any], str]]) -> list[Run]:
    """File each absence (params, logical date), its effects expected from the sandbox as it is now."""
    runs = []
    for params, filed in absences:
        start, end = dt.date.fromisoformat(params["start_date"]), dt.date.fromisoformat(params["end_date"])
        expected = expect(sandbox.sandbox, team, params["employee"], start, end, dt.datetime.fromisoformat(filed))
        filer = airflow.api_as("hr-integration") if params.get("approved_by") else airflow.api  # the HR tool
        run_id = filer.trigger_absence({"reachable": False, "note": "", **params}, filed)["dag_run_id"]
        runs.append(Run(run_id, run_key(run_id), params["employee"], team.person(params["employee"]).buddy, expected))
    return runs


def finish(airflow: ProductionStack, runs: list[Run], timeout: float = 600) -> dict[str, float]:
    """Wait until every run is over; each one's seconds from now until it was."""
    t0, took = time.monotonic(), {}
    while len(took) < len(runs):
        assert time.monotonic() - t0 < timeout, f"runs still going: {[r.run_id for r in runs if r.run_id not in took]}"
        for run in runs:
            if run.run_id not in took and airflow.api.run(run.run_id)["state"] in ("success", "failed"):
                took[run.run_id] = time.monotonic() - t0
        time.sleep(2)
    for run in runs:
        assert airflow.api.run(run.run_id)["state"] == "success", by_task(airflow.api.task_instances(run.run_id))
    return took


def once_each(sandbox: SandboxServer, team: Team, runs: list[Run]) -> str:
    counts = tally(sandbox.sandbox, team, runs)
    assert counts.where == [], counts.where  # nothing doubled, nothing missing
    return ", ".join(f"{found} {kind}" for kind, _, found, _, _ in counts.rows() if found)


def test_the_sample_absences_run_to_their_digests(stack):
    """The demo's two absences, dated a month back so that both reach their digests now."""
    airflow, sandbox = stack
    team = team_of(airflow)
    month_ago = dt.date.today() - dt.timedelta(days=28)
    absences = []
    for params, filed in sample_absences(month_ago):
        if params["kind"] == "client_visit":  # the demo's third: half days and visits have their own module
            continue
        if params["kind"] == "planned":  # approved by Allison in the HR tool before it was filed
            params = {**params, "approved_by": ALLISON}
            filed = local(month_ago, dt.time(9), team.person(params["employee"]).timezone).isoformat()
        absences.append((params, filed))
    runs = file(airflow, sandbox, team, absences)
    took = finish(airflow, runs)
    workers = {h for (h,) in airflow.query("select distinct hostname from task_instance where run_id in :ids",
                                           ids=tuple(r.run_id for r in runs))}
    summary = once_each(sandbox, team, runs)
    print(f"\n[production] the sample absences on Celery ({len(airflow.workers)} workers, "
          f"{len(airflow.triggerers)} triggerers, PostgreSQL, Redis): "
          + "; ".join(f"{r.run_id} success in {took[r.run_id]:.0f} s" for r in runs) + f"; {summary}")
    assert workers  # ran on the Celery workers (their host name), not in the scheduler


@pytest.mark.crash
def test_a_triggerer_killed_while_absences_wait_in_it(stack):
    """kill -9 of the triggerer holding the absences' return-morning waits; the other fires them, once."""
    airflow, sandbox = stack
    people = [MAYA, ROSA]  # both in Denver: one local minute is one moment for both
    _, moment, hhmm = next_minute(people, lead=240)
    team = team_of(airflow, return_digest=hhmm)
    yesterday = moment.date() - dt.timedelta(days=1)
    zone = ZoneInfo(team.person(MAYA).timezone)
    runs = file(airflow, sandbox, team, [({"employee": e, "start_date": yesterday.isoformat(),
                                           "end_date": yesterday.isoformat(), "kind": "unexpected"},
                                          dt.datetime.combine(yesterday, dt.time(8, i), zone).isoformat())
                                         for i, e in enumerate(people)])  # logical dates are unique
    for run in runs:
        airflow.api.wait_for(run.run_id, lambda tis: by_task(tis).get("sms_review[1]") == "deferred", timeout=180)
    waits = trigger_rows(airflow, runs)
    assert len(waits) == len(runs) and moment > dt.datetime.now(dt.timezone.utc), (waits, moment)
    holders = {}
    deadline = time.monotonic() + 60
    while len(holders) < len(waits):  # a triggerer takes a new trigger within its loop (a second or so)
        assert time.monotonic() < deadline, f"no triggerer took {waits}"
        holders = {run_id: h for run_id, (trigger_id, _) in waits.items()
                   if (h := airflow.triggerer_holding(trigger_id))}
        time.sleep(1)
    victim = max(set(holders.values()), key=list(holders.values()).count)
    survivor = next(t for t in airflow.triggerers if t != victim)
    airflow.kill(victim)
    killed_at = dt.datetime.now(dt.timezone.utc)
    in_victim = [run_id for run_id, h in holders.items() if h == victim]
    taken_over: dict[str, float] = {}  # run id -> seconds after the kill its trigger was the survivor's
    while len(taken_over) < len(in_victim) and dt.datetime.now(dt.timezone.utc) < moment:
        for run_id in in_victim:
            if run_id not in taken_over and airflow.triggerer_holding(waits[run_id][0]) == survivor:
                taken_over[run_id] = (dt.datetime.now(dt.timezone.utc) - killed_at).total_seconds()
        time.sleep(0.5)

    took = finish(airflow, runs, timeout=420)
    late = {}
    for run in runs:
        tis = airflow.api.task_instances(run.run_id)
        review = ti_of(tis, "sms_review", 1)
        assert review["try_number"] == 1, review  # resumed from its trigger, not retried
        assert dt.datetime.fromisoformat(review["end_date"]) >= moment
        late[run.run_id] = (dt.datetime.fromisoformat(review["end_date"]) - moment).total_seconds()
    assert set(taken_over) == set(in_victim), (taken_over, in_victim)  # the survivor took the dead one's triggers
    summary = once_each(sandbox, team, runs)
    airflow.restart(victim)
    print(f"\n[triggerer] killed {victim} holding {len(in_victim)} of {len(runs)} waits "
          f"{(moment - killed_at).total_seconds():.0f} s before their moment ({moment:%H:%M %Z}); {survivor} took "
          f"them over {max(taken_over.values()):.0f} s after the kill; each return-morning review ended (try 1) "
          f"after its moment by: "
          + ", ".join(f"{run_id.split('__')[1]} {late[run_id]:.1f} s" for run_id in late)
          + f"; runs finished in {max(took.values()):.0f} s; {summary}")


def trigger_rows(airflow: ProductionStack, runs: list[Run]) -> dict[str, tuple[int, int | None]]:
    """Run id -> (trigger id, triggerer job id) of each run's wait."""
    rows = airflow.query("select ti.run_id, t.id, t.triggerer_id from task_instance ti join trigger t "
                         "on ti.trigger_id = t.id where ti.run_id in :ids", ids=tuple(r.run_id for r in runs))
    return {run_id: (trigger_id, triggerer) for run_id, trigger_id, triggerer in rows}


@pytest.mark.crash
def test_a_celery_worker_killed_in_calendar_cleanup(stack):
    """kill -9 of the Celery worker running calendar_cleanup, half the meetings declined; the retry runs
    on the other worker and declines the rest; every effect once."""
    airflow, sandbox = stack
    team = team_of(airflow, return_digest="00:00")  # the whole absence is due at once
    zone = ZoneInfo(team.person(MAYA).timezone)
    start = today_of(team, MAYA) - dt.timedelta(days=14)  # a week two weeks back: clear of Maya's others
    end = start + dt.timedelta(days=6)
    filed = dt.datetime.combine(start, dt.time(7, 0), zone)
    back = dt.datetime.combine(end + dt.timedelta(days=1), dt.time(0, 0), zone)
    due = slowed_calendar(sandbox, team, MAYA, filed, back)
    params = {"employee": MAYA, "start_date": start.isoformat(), "end_date": end.isoformat(), "kind": "unexpected"}
    [run] = file(airflow, sandbox, team, [(params, filed.isoformat())])

    ti_id = half_way_through_cleanup(airflow, sandbox, run.run_id, due)
    victim = airflow.worker_running(ti_id)
    assert victim, "no Celery worker runs calendar_cleanup"
    airflow.kill(victim)
    declined_at_kill = sum(patches(sandbox).values())
    with sandbox.sandbox.lock:
        sandbox.sandbox.faults["google"] = Faults()

    took = finish(airflow, [run], timeout=420)
    cleanup = ti_of(airflow.api.task_instances(run.run_id), "calendar_cleanup")
    assert cleanup["try_number"] == 2, cleanup  # the killed try, then the retry
    assert 0 < declined_at_kill < len(due)
    survivor = next(w for w in airflow.workers if w != victim)
    # A retry is a new task instance id (Airflow 3): the worker's log names the try's log file.
    assert f"run_id={run.run_id}/task_id=calendar_cleanup/attempt=2" in airflow.log_of(survivor)
    summary = once_each(sandbox, team, [run])
    airflow.restart(victim)
    airflow.wait_ready(victim)
    print(f"\n[celery worker] killed {victim} with {declined_at_kill}/{len(due)} meetings declined; try 2 ran on "
          f"{survivor}; the run succeeded {took[run.run_id]:.0f} s after the kill; {summary}")


@pytest.mark.crash
def test_redis_restarted_while_tasks_wait_in_its_queue(stack):
    """A burst of absences on four task slots: Redis restarts (SIGTERM, start) with tasks in its queue."""
    airflow, sandbox = stack
    team = team_of(airflow, return_digest="00:00")
    people = [p.email for p in team.people if p.role != "manager"]
    absences = []
    for i, email in enumerate(people):  # two days each, long past, clear of every other absence here
        start = dt.date.today() - dt.timedelta(days=90 - 3 * i)
        filed = local(start, dt.time(6, i), team.person(email).timezone).isoformat()
        absences.append(({"employee": email, "start_date": start.isoformat(),
                          "end_date": (start + dt.timedelta(days=1)).isoformat(), "kind": "unexpected"}, filed))
    for params, _ in absences:
        seed_window(sandbox.sandbox, team, params)  # a client meeting, an internal one, texts
    redis = airflow.redis
    runs = file(airflow, sandbox, team, absences)
    deadline = time.monotonic() + 120
    while (queued := redis.queued()) == 0:
        assert time.monotonic() < deadline, "no task ever waited in Redis"
        time.sleep(0.1)
    t0 = time.monotonic()
    redis.restart(down=REDIS_DOWN)
    down = time.monotonic() - t0
    after = redis.queued()

    took = finish(airflow, runs, timeout=600)
    retried = airflow.query("select run_id, task_id, map_index, try_number from task_instance "
                            "where run_id in :ids and try_number > 1", ids=tuple(r.run_id for r in runs))
    summary = once_each(sandbox, team, runs)  # nothing lost, nothing doubled
    print(f"\n[redis] restarted with {queued} task(s) in its queue ({after} after the restart, {down:.1f} s down); "
          f"{len(runs)} absences success in {max(took.values()):.0f} s; tasks retried: {len(retried)} {retried}; "
          f"{summary}")
