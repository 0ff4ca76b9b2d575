"""Long absences and odd calendars on real Airflow (issue 8, item 5).

Maya (America/Denver) is out from the last working day of the year to the Monday after the
clocks go forward in March: New Year's Day, two more holidays, weekends and a DST change inside.
No 60-day window from here crosses both a US DST change and New Year (the nearest change after
New Year is the second Sunday of March), so the absence runs about 75 days.

What the scheduler does with it is read back through the REST API: the plan XCom, and, for the
waits around each calendar oddity, the trigger the waiting task deferred to. The other tasks are
marked done through the API (as ops would), which walks the run to the next wait in seconds
instead of weeks. The stack's ``[sensors] default_timeout`` is 5 s; the waits and an approval
asked weeks ahead outlive it many times over.
"""

from __future__ import annotations

import configparser
import datetime as dt
import json
import time
from typing import Any
from zoneinfo import ZoneInfo

import pendulum
import pytest

from devstack.stack import Stack
from ooo.team import Team
from tests.e2e.audit.conftest import extra_holidays, sam_start
from tests.e2e.stack import state_of, triggers_for

pytestmark = [pytest.mark.e2e, pytest.mark.scheduler, pytest.mark.xdist_group("audit")]  # one stack for the package

DENVER = ZoneInfo("America/Denver")
SENSOR_TIMEOUT = 5  # real_stack's AIRFLOW__SENSORS__DEFAULT_TIMEOUT
OUTLIVE = 12 * SENSOR_TIMEOUT  # how long the waits must last before they count as not cut off


@pytest.fixture(scope="module")
def filed(audit_stack) -> dict[str, Any]:
    """The stack's long absences (filed when it started), once both wait."""
    airflow, _, _, long = audit_stack
    airflow.api.wait_for(long["maya"], lambda tis: "deferred" in {t["state"] for t in tis}, timeout=240, every=2)
    airflow.api.wait_for(long["sam"], lambda tis: state_of("approval")(tis) == "awaiting_input", timeout=120,
                         every=2)
    return long


def expected_reviews(team: Team, start: dt.date, end: dt.date) -> list[dt.date]:
    """Weekdays of the absence that are not the roster's holidays (the rule, written out again)."""
    days = (start + dt.timedelta(days=n) for n in range((end - start).days + 1))
    return [d for d in days if d.weekday() < 5 and d not in team.holidays]


def at_local(day: dt.date, hhmm: str) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.fromisoformat(hhmm), DENVER)


def test_every_daily_review_is_planned_at_its_local_time(audit_stack, filed):
    airflow, _, team, _ = audit_stack
    plan = airflow.api.xcom(filed["maya"], "validate", key="plan")
    reviews = plan["timeline"]["reviews"]
    days = expected_reviews(team, filed["start"], filed["end"])
    assert [r["day"] for r in reviews[:-1]] == [d.isoformat() for d in days]
    skipped = set(extra_holidays(filed["year"]))
    assert skipped <= {filed["start"] + dt.timedelta(days=n) for n in range((filed["end"] - filed["start"]).days)}
    assert not skipped & {dt.date.fromisoformat(r["day"]) for r in reviews}
    for review, day in zip(reviews, days, strict=False):
        assert dt.datetime.fromisoformat(review["at"]) == at_local(day, "17:00"), review
    offsets = [dt.datetime.fromisoformat(r["at"]).utcoffset() for r in reviews[:-1]]
    assert offsets[0] == dt.timedelta(hours=-7) and offsets[-1] == dt.timedelta(hours=-6)
    switch = next(i for i, o in enumerate(offsets) if o == dt.timedelta(hours=-6))
    assert days[switch - 1] < filed["dst"] < days[switch]  # the hour moves with the clocks, 17:00 stays
    final = reviews[-1]
    return_day = team.next_working_day(filed["end"])
    assert final["final"] and dt.datetime.fromisoformat(final["at"]) == at_local(return_day, "08:30")
    print(f"\nlong absence: {filed['start']} to {filed['end']} ({(filed['end'] - filed['start']).days + 1} days), "
          f"{len(days)} daily reviews + the return morning; first {reviews[0]['at']}, last before the change "
          f"{reviews[switch - 1]['at']}, first after {reviews[switch]['at']}, return {final['at']}")


def waiting(airflow: Stack, run_id: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The run's one deferred task instance, with its trigger's moment and the instance's trigger
    timeout, read from the tables the triggerer and the scheduler work from."""
    tis = [t for t in airflow.api.task_instances(run_id) if t["state"] == "deferred"]
    assert len(tis) == 1, [(t["task_id"], t["map_index"]) for t in tis]
    ti = tis[0]
    [(timeout, stored)] = airflow.query(
        "select ti.trigger_timeout, t.kwargs from task_instance ti join trigger t on t.id = ti.trigger_id "
        "where ti.run_id = :r and ti.task_id = :t and ti.map_index = :m",
        r=run_id, t=ti["task_id"], m=ti["map_index"])
    return ti, {"timeout": timeout, "moment": trigger_kwargs(airflow, stored)["moment"],
                "created": ti["trigger"]["created_date"]}


def trigger_kwargs(airflow: Stack, stored: str) -> dict[str, Any]:
    """A trigger row's kwargs (the REST API shows ``{}``): JSON, Fernet-encrypted when a key is set."""
    from airflow.sdk.serde import deserialize

    if not stored.startswith("{"):
        from cryptography.fernet import Fernet

        config = configparser.ConfigParser(interpolation=None)
        config.read(airflow.home / "airflow.cfg")
        key = airflow.env().get("AIRFLOW__CORE__FERNET_KEY") or config.get("core", "fernet_key")
        stored = Fernet(key.encode()).decrypt(stored.encode()).decode()
    return deserialize(json.loads(stored))


def test_weeks_long_waits_and_approvals_outlive_the_sensor_timeout(audit_stack, filed):
    """``[sensors] default_timeout`` (5 s here) is a sensor's own ``timeout``; these waits have none."""
    airflow, _, _, _ = audit_stack
    ti, trigger = waiting(airflow, filed["maya"])
    assert ti["task_id"] == "team_notice" and trigger["timeout"] is None  # no trigger_timeout: never timed out
    [(sam_timeout,)] = airflow.query("select trigger_timeout from task_instance where run_id = :r "
                                     "and task_id = 'approval'", r=filed["sam"])
    first_day = dt.datetime.combine(sam_start(filed), dt.time(0), ZoneInfo("Europe/London"))
    late = pendulum.parse(str(sam_timeout), tz="UTC") - first_day
    assert dt.timedelta(0) <= late < dt.timedelta(seconds=2), late  # the approval waits until the first day out

    def waited(since: str) -> float:
        return (dt.datetime.now(dt.timezone.utc) - dt.datetime.fromisoformat(since)).total_seconds()

    approval = next(t for t in airflow.api.task_instances(filed["sam"]) if t["task_id"] == "approval")
    deferred_since = trigger["created"]
    time.sleep(max(0.0, OUTLIVE - min(waited(deferred_since), waited(approval["start_date"]))))
    ti_now, _ = waiting(airflow, filed["maya"])
    approval = next(t for t in airflow.api.task_instances(filed["sam"]) if t["task_id"] == "approval")
    assert ti_now["id"] == ti["id"] and approval["state"] == "awaiting_input"
    assert airflow.api.run(filed["maya"])["state"] == airflow.api.run(filed["sam"])["state"] == "running"
    scheduler_log = (airflow.logs / "scheduler.log").read_text(errors="replace")
    assert "Timed out" not in scheduler_log and "AWAITING_INPUT timeout sweep" not in scheduler_log
    print(f"\nsensor timeout {SENSOR_TIMEOUT}s: team_notice deferred {waited(deferred_since):.0f}s "
          f"(due {ti['task_id']} in weeks), approval awaiting input {waited(approval['start_date']):.0f}s "
          f"(deadline {first_day.isoformat()}): neither cut off")


def mark_done(airflow: Stack, run_id: str, tasks: list[tuple[str, int]]) -> None:
    """Mark task instances done through the REST API, as ops would, in one request (one
    transaction: the scheduler cannot start one of them half-way through the list)."""
    entities = [{"task_id": t, "map_index": m if m >= 0 else None, "new_state": "success"} for t, m in tasks]
    answer = airflow.api.call("PATCH", f"dags/ooo_absence/dagRuns/{run_id}/taskInstances",
                              json={"actions": [{"action": "update", "entities": entities}]})
    assert not answer["update"]["errors"], answer


def test_each_wait_defers_to_its_local_moment_across_new_year_and_dst(audit_stack, filed):
    airflow, _, team, _ = audit_stack
    run_id, start = filed["maya"], filed["start"]
    reviews = airflow.api.xcom(run_id, "validate", key="plan")["timeline"]["reviews"]
    days = [dt.date.fromisoformat(r["day"]) for r in reviews]
    before_dst = max(i for i, d in enumerate(days[:-1]) if d < filed["dst"])
    final = len(reviews) - 1
    return_day = days[-1]
    # (what to mark done first, the task that must then wait, its local moment)
    walk = [
        ([], ("team_notice", -1), at_local(team.previous_working_day(start), "15:00")),
        ([("team_notice", -1), ("customer_notice", -1), ("buddy_handover", -1), ("voicemail_reminder", -1),
          ("auto_reply_on", -1), ("slack_status_on", -1)],
         ("sms_review", 0), at_local(days[0], "17:00")),
        ([("sms_review", 0)], ("sms_review", 1), at_local(days[1], "17:00")),  # after New Year's Day
        ([("sms_review", i) for i in range(1, before_dst)], ("sms_review", before_dst),
         at_local(days[before_dst], "17:00")),
        ([("sms_review", before_dst)], ("sms_review", before_dst + 1), at_local(days[before_dst + 1], "17:00")),
        ([("sms_review", i) for i in range(before_dst + 1, final)], ("sms_review", final),
         at_local(return_day, "08:30")),
    ]
    seen = []
    for n, (done, (task_id, map_index), due) in enumerate(walk):
        mark_done(airflow, run_id, done)
        airflow.api.wait_for(run_id, lambda tis, k=(task_id, map_index): any(
            (t["task_id"], t["map_index"]) == k and t["state"] == "deferred" for t in tis), timeout=180, every=1)
        ti, trigger = waiting(airflow, run_id)
        assert (ti["task_id"], ti["map_index"]) == (task_id, map_index)
        assert trigger["timeout"] is None and triggers_for(airflow, run_id) == 1
        assert trigger["moment"] == due, (task_id, map_index, trigger["moment"], due)
        if n == 1:  # the reviews are expanded once their turn comes: one mapped instance a day
            assert sum(t["task_id"] == "sms_review" for t in airflow.api.task_instances(run_id)) == len(reviews)
        seen.append(f"{task_id}[{map_index}] {due:%a %Y-%m-%d %H:%M %Z} = {due.astimezone(dt.timezone.utc):%H:%M} UTC")
    print("\nwaits on the scheduler:\n  " + "\n  ".join(seen))
