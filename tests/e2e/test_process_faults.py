"""Process faults on real Airflow: ``kill -9`` a component at a chosen point, restart it, and
every absence still gets each effect once, read from the sandbox as people would see it.

* the scheduler dies while a manager's approval waits;
* the triggerer dies while the return morning's review waits deferred;
* the worker running ``calendar_cleanup`` dies with half the meetings declined (the sandbox's
  Google API is slowed so the kill lands mid-way); Airflow finds the task's heartbeat gone and
  retries it, and the retry declines the rest without a second decline, note or email.

All three are in the default run (``scripts/test.sh``); the two slow ones (about 3 min each) are
marked ``crash`` and can be run alone: ``scripts/test.sh -m crash``. The same kills on the production
shape (Celery workers, two triggerers, Redis) are in test_production_shape.py. Figures in
docs/RELIABILITY.md, "Process faults".
"""

from __future__ import annotations

import datetime as dt
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from devstack.stack import Stack
from ooo.team import Team, load_team
from sandbox import SandboxServer
from sandbox.core import Faults
from tests.e2e.effects import effects_of
from tests.e2e.stack import answer, by_task, next_minute, real_stack, state_of, triggers_for, wait_parked, write_team

pytestmark = [pytest.mark.e2e, pytest.mark.scheduler]

SAM = "sam.okafor@yellowstonelocal.com"
MAYA = "maya.patel@yellowstonelocal.com"
TOM = "tom.becker@yellowstonelocal.com"
#: A killed worker stops heartbeating: Airflow fails the try after this many seconds (default
#: 300) and retries it (the checkout's default is 3 retries from 60 s; here at once).
CRASH_SETTINGS = {
    "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT": "30",
    "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT_DETECTION_INTERVAL": "5",
    "AIRFLOW__TRIGGERER__TRIGGERER_HEALTH_CHECK_THRESHOLD": "15",
    "AIRFLOW__CORE__DEFAULT_TASK_RETRIES": "2",
    "AIRFLOW__CORE__DEFAULT_TASK_RETRY_DELAY": "1",
}


@pytest.fixture(scope="module")
def stack(tmp_path_factory, metadata_db) -> Iterator[tuple[Stack, SandboxServer]]:
    home = tmp_path_factory.mktemp("airflow")
    with real_stack(home, env={**CRASH_SETTINGS, **metadata_db}) as (airflow, sandbox):
        yield airflow, sandbox


def team_of(airflow: Stack, **times: str) -> Team:
    """The stack's roster with the step times a case needs (validate reads it when the run starts)."""
    return load_team(write_team(Path(airflow.extra_env["OOO_TEAM_FILE"]), **times))


def today_of(team: Team, employee: str) -> dt.date:
    return dt.datetime.now(ZoneInfo(team.person(employee).timezone)).date()


def ti_of(tis: list[dict[str, Any]], task_id: str, map_index: int = -1) -> dict[str, Any]:
    return next(t for t in tis if t["task_id"] == task_id and t["map_index"] == map_index)


def once_each(effects: Any) -> None:
    """One out-of-office block, team notice, buddy handover and digest (if due) each."""
    assert len(effects.ooo_events) == 1
    assert len(effects.team_notices) == 1
    assert len(effects.buddy_dms) == 1
    ids = Counter(m["message_id"] for m in effects.sent)
    assert all(n == 1 for n in ids.values()), f"an email went out twice: {ids.most_common(3)}"


def test_scheduler_killed_while_an_approval_waits(stack):
    """kill -9 of the scheduler (and its executor's workers) with a manager's approval parked."""
    airflow, sandbox = stack
    team = team_of(airflow, sms_review="00:00")  # all but the return morning is due once approved
    # Out today: the manager has until midnight, so take someone whose day has an hour left.
    employee = SAM if dt.datetime.now(ZoneInfo(team.person(SAM).timezone)).hour < 23 else TOM
    today = today_of(team, employee).isoformat()
    params = {"employee": employee, "start_date": today, "end_date": today, "kind": "planned", "reachable": False}
    run_id = airflow.api.trigger_absence(params)["dag_run_id"]
    wait_parked(airflow, run_id)

    airflow.kill("scheduler")
    assert state_of("approval")(airflow.api.task_instances(run_id)) == "awaiting_input"
    airflow.restart("scheduler")
    answer(airflow, run_id, approve=True)

    tis = airflow.api.wait_for(run_id, lambda tis: by_task(tis).get("sms_review[1]") == "deferred", timeout=300)
    states = by_task(tis)
    assert [t for t, s in states.items() if s not in ("success", "skipped", None)] == ["sms_review[1]"], states
    assert states["approval"] == states["calendar_cleanup"] == states["auto_reply_on"] == "success"
    assert ti_of(tis, "approval")["try_number"] == ti_of(tis, "calendar_cleanup")["try_number"] == 1
    assert triggers_for(airflow, run_id) == 1
    slack = sandbox.sandbox.api("slack")
    person = team.person(employee)
    asked = [m for m in slack.dm_messages(slack.user_id(person.manager))
             if person.name in m["text"] or f"<@{slack.user_id(employee)}>" in m["text"]]
    assert len(asked) == 1
    effects = effects_of(sandbox.sandbox, team, employee, person.buddy)
    once_each(effects)
    assert effects.auto_reply_on
    print(f"\n[scheduler] killed with the approval parked, restarted, approved: {len(asked)} ask, "
          f"{len(effects.ooo_events)} block, {len(effects.team_notices)} notice, {len(effects.sent)} emails; "
          f"waits for the return morning on {triggers_for(airflow, run_id)} trigger")


@pytest.mark.crash
def test_triggerer_killed_while_the_return_morning_waits(stack):
    """kill -9 of the triggerer holding the absence's one trigger; the new one fires it, once."""
    airflow, sandbox = stack
    people = ["lena.fischer@yellowstonelocal.com", "rosa.alvarez@yellowstonelocal.com",
              "priya.nair@yellowstonelocal.com"]
    employee, moment, hhmm = next_minute(people, lead=150)
    team = team_of(airflow, return_digest=hhmm)
    zone = ZoneInfo(team.person(employee).timezone)
    yesterday = moment.date() - dt.timedelta(days=1)
    params = {"employee": employee, "start_date": yesterday.isoformat(), "end_date": yesterday.isoformat(),
              "kind": "unexpected"}
    filed = dt.datetime.combine(yesterday, dt.time(8, 0), zone)
    run_id = airflow.api.trigger_absence(params, logical_date=filed.isoformat())["dag_run_id"]
    airflow.api.wait_for(run_id, lambda tis: by_task(tis).get("sms_review[1]") == "deferred", timeout=150)
    assert triggers_for(airflow, run_id) == 1

    airflow.kill("triggerer")
    airflow.restart("triggerer")

    tis = airflow.api.wait_for(run_id, lambda tis: airflow.api.run(run_id)["state"] in ("success", "failed"),
                               timeout=400)
    assert airflow.api.run(run_id)["state"] == "success", by_task(tis)
    review = ti_of(tis, "sms_review", 1)
    assert review["try_number"] == 1  # resumed from the trigger, not retried
    # A resumed task keeps the start of its first try (when it deferred): it ends after its moment.
    assert dt.datetime.fromisoformat(review["end_date"]) >= moment
    assert dt.datetime.fromisoformat(ti_of(tis, "return_digest")["start_date"]) >= moment
    effects = effects_of(sandbox.sandbox, team, employee, team.person(employee).buddy)
    once_each(effects)
    assert len(effects.digests) == 1 and not effects.auto_reply_on
    print(f"\n[triggerer] killed holding the return-morning wait, restarted: the review ran at "
          f"{review['end_date']} (due {moment.isoformat()}), try {review['try_number']}; "
          f"{len(effects.digests)} digest; run {airflow.api.run(run_id)['state']}")


def half_way_through_cleanup(airflow: Any, sandbox: Any, run_id: str, due: Any) -> str:
    """Wait until ``calendar_cleanup`` runs and has declined half the ``due`` meetings: its task instance id."""
    tis = airflow.api.wait_for(run_id, lambda tis: state_of("calendar_cleanup")(tis) == "running", timeout=150)
    deadline = time.monotonic() + 180
    while sum(patches(sandbox).values()) < len(due) // 2:
        assert time.monotonic() < deadline, "calendar_cleanup never declined half the meetings"
        time.sleep(0.2)
    return str(ti_of(tis, "calendar_cleanup")["id"])


def slowed_calendar(sandbox: SandboxServer, team: Team, employee: str, start: dt.datetime,
                    end: dt.datetime) -> list[dict[str, Any]]:
    """The employee's meetings from ``start`` to ``end`` (four at least), with Google slowed to ~1.5 s a
    call from now: room for a kill to land half-way through their declines."""
    due = meetings(sandbox.sandbox.api("google"), team, employee, start, end)
    assert len(due) >= 4, due
    with sandbox.sandbox.lock:
        sandbox.sandbox.requests.clear()
        sandbox.sandbox.faults["google"] = Faults(latency_ms=1500)
    return due


def meetings(google: Any, team: Team, employee: str, start: dt.datetime, end: dt.datetime) -> list[dict[str, Any]]:
    """The employee's meetings from ``start`` to ``end``: events with guests they attend."""
    return [e for e in google.list_events(employee, start, end)
            if e.get("eventType", "default") == "default" and e.get("status") != "cancelled"
            and any(a.get("self") for a in e.get("attendees") or [])
            and any(not a.get("self") for a in e.get("attendees") or [])]


def patches(sandbox: SandboxServer) -> Counter[str]:
    """Event id -> PATCHes of it (declines) in the sandbox's request log."""
    with sandbox.sandbox.lock:
        log = list(sandbox.sandbox.requests)
    return Counter(r["path"].rsplit("/", 1)[-1] for r in log
                   if r["api"] == "google" and r["method"] == "PATCH" and "/events/" in r["path"])


@pytest.mark.crash
def test_worker_killed_in_calendar_cleanup_with_half_the_meetings_declined(stack):
    """kill -9 of the task and its LocalExecutor worker mid-cleanup; Airflow retries; nothing twice."""
    airflow, sandbox = stack
    team = team_of(airflow, return_digest="00:00")  # the whole absence is due at once
    zone = ZoneInfo(team.person(MAYA).timezone)
    start = today_of(team, MAYA) - dt.timedelta(days=7)  # a week: seven meetings or so
    filed = dt.datetime.combine(start, dt.time(7, 0), zone)
    back = dt.datetime.combine(today_of(team, MAYA), dt.time(0, 0), zone)
    google = sandbox.sandbox.api("google")
    due = slowed_calendar(sandbox, team, MAYA, filed, back)
    params = {"employee": MAYA, "start_date": start.isoformat(),
              "end_date": (back.date() - dt.timedelta(days=1)).isoformat(), "kind": "unexpected"}
    run_id = airflow.api.trigger_absence(params, logical_date=filed.isoformat())["dag_run_id"]

    ti_id = half_way_through_cleanup(airflow, sandbox, run_id, due)
    killed = airflow.kill_task(ti_id)
    declined_at_kill = sum(patches(sandbox).values())
    assert len(killed) == 2, killed  # the task and its worker
    with sandbox.sandbox.lock:
        sandbox.sandbox.faults["google"] = Faults()

    tis = airflow.api.wait_for(run_id, lambda tis: airflow.api.run(run_id)["state"] in ("success", "failed"),
                               timeout=400, every=2)
    assert airflow.api.run(run_id)["state"] == "success", by_task(tis)
    assert ti_of(tis, "calendar_cleanup")["try_number"] == 2  # the killed try, then the retry
    assert 0 < declined_at_kill < len(due)

    # Every meeting is declined on Maya's copy, each with one decline (one PATCH) only.
    after = {e["id"]: e for e in meetings(google, team, MAYA, filed, back)}
    mine = {e_id: next(a for a in e["attendees"] if a.get("self")) for e_id, e in after.items()}
    assert {e_id: a["responseStatus"] for e_id, a in mine.items()} == {e_id: "declined" for e_id in after}
    assert patches(sandbox) == Counter(dict.fromkeys(after, 1))
    # One reschedule note per meeting with clients, no email twice, one notice, one digest.
    clients = [e for e in after.values() if any(not team.is_internal(a["email"]) for a in e["attendees"])]
    effects = effects_of(sandbox.sandbox, team, MAYA, team.person(MAYA).buddy)
    notes = [m for m in effects.sent if m["subject"].startswith("Rescheduling ")]  # not her customers' notices
    assert len(notes) == len(clients) > 0
    once_each(effects)
    assert len(effects.digests) == 1
    print(f"\n[worker] killed pids {killed} with {declined_at_kill}/{len(due)} meetings declined; try 2 "
          f"declined the rest: {sum(patches(sandbox).values())} declines, {len(notes)} reschedule notes, "
          f"{len(effects.sent)} emails, each once; run {airflow.api.run(run_id)['state']}")
