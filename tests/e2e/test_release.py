"""A release lands while absences are in flight (design §8; README, "Releasing while absences are in flight").

Absences are filed under the checkout's code, deployed as a copy (``Stack(code=...)``), and left
waiting: a planned one whose approval is parked, a planned one approved and deferred on its team
notice, an unexpected one deferred on its return morning's SMS review. Then the next release
(:mod:`tests.e2e.next_release`: a changed template, a step inserted between two others, a plan field
read with a default, a changed retry setting) replaces the deployed dags/, plugins/ and include/, and
the API server, the one process that holds imports of the old package, is restarted. What is checked
afterwards is what people and ops see: the sandbox's channels, mailboxes and calendars, and the runs,
their task instances and XComs in Airflow's REST API.

A planned absence cannot reach its return digest within a test: its approval can wait at most until
its first day starts, and its digest is sent on the first working day after it ends, a local midnight
or more later. So the two planned absences go on under the new release to their next waits (the team
notice days ahead; the auto-reply on tomorrow) and ops then cancel them, which ends a run as a success;
the unexpected one filed before the release and one filed after it run to their digests.
"""

from __future__ import annotations

import datetime as dt
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from devstack.stack import Stack
from ooo.cli import main
from ooo.keys import run_key
from ooo.team import Team, load_team
from sandbox import SandboxServer
from tests.e2e.effects import effects_of
from tests.e2e.next_release import (
    DIGEST_RETRIES,
    DIGEST_SUBJECT,
    NEW_STEP,
    NOTICE_LINE,
    VERSION,
    copy_checkout,
    next_release,
    swap_in,
)
from tests.e2e.stack import answer, as_ops, by_task, finished, next_minute, planned, real_stack, state_of, write_team

pytestmark = [pytest.mark.e2e, pytest.mark.scheduler, pytest.mark.release]

DOMAIN = "@yellowstonelocal.com"
MAYA, JORDAN, PRIYA, SAM = (f"{n}{DOMAIN}" for n in ("maya.patel", "jordan.reyes", "priya.nair", "sam.okafor"))
ROSA, TOM = f"rosa.alvarez{DOMAIN}", f"tom.becker{DOMAIN}"
#: Whose absences wait for a moment a few minutes ahead: someone for whom that minute is still today.
WAITING = [MAYA, JORDAN, SAM, PRIYA]
#: How far ahead of the filing the two moments the runs wait for lie: time to reach the waits, release,
#: restart and re-parse first (about two minutes here), with room to spare on a loaded machine.
NOTICE_LEAD, DIGEST_LEAD = 270, 300
#: Every task instance of an absence run that must not be seen in any run.
BROKEN = ("failed", "upstream_failed")


@dataclass
class Release:
    """The absences and what happened around the release, for the tests to look at."""

    airflow: Stack
    sandbox: SandboxServer
    team: Team
    parked: str  # planned, its approval waiting when the release came
    noticed: str  # planned, approved, waiting for its team notice
    reviewed: str  # unexpected, waiting for its return morning's review
    after: str  # unexpected, filed after the release
    people: dict[str, str]  # run id -> employee
    notice_at: dt.datetime
    digest_at: dt.datetime
    released_at: dt.datetime
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def in_flight(self) -> tuple[str, str, str]:
        return self.parked, self.noticed, self.reviewed

    @property
    def runs(self) -> tuple[str, ...]:
        return (*self.in_flight, self.after)

    def tis(self, run_id: str) -> dict[str, dict[str, Any]]:
        return {t["task_id"] if t["map_index"] < 0 else f"{t['task_id']}[{t['map_index']}]": t
                for t in self.airflow.api.task_instances(run_id)}


def at(iso: str) -> dt.datetime:
    return dt.datetime.fromisoformat(iso.replace("Z", "+00:00"))


def task_log(airflow: Stack, ti: dict[str, Any]) -> str:
    """A task instance's log as the UI shows it (its last try)."""
    endpoint = airflow.api.task_endpoint(ti["dag_run_id"], ti["task_id"], ti["map_index"])
    log = airflow.api.call("GET", f"{endpoint}/logs/{ti['try_number']}", params={"full_content": "true"})
    return str(log["content"])


def filed_days_ago(airflow: Stack, employee: str, days: int) -> str:
    """An unexpected absence of one day, ``days`` ago, filed by ops that morning: its return is ``days - 1`` ago."""
    zone = ZoneInfo(load_team(airflow.extra_env["OOO_TEAM_FILE"]).person(employee).timezone)
    day = dt.datetime.now(zone).date() - dt.timedelta(days=days)
    params = {"employee": employee, "start_date": day.isoformat(), "end_date": day.isoformat(), "kind": "unexpected"}
    filed = dt.datetime.combine(day, dt.time(8, 0), zone).isoformat()
    return airflow.api.trigger_absence(params, logical_date=filed)["dag_run_id"]


def starting_tomorrow(airflow: Stack, employee: str) -> dict[str, Any]:
    zone = ZoneInfo(load_team(airflow.extra_env["OOO_TEAM_FILE"]).person(employee).timezone)
    tomorrow = dt.datetime.now(zone).date() + dt.timedelta(days=1)
    return {"employee": employee, "start_date": tomorrow.isoformat(), "end_date": tomorrow.isoformat(),
            "kind": "planned"}


def release(airflow: Stack, code: Path, staging: Path) -> None:
    """The next release replaces the deployed code; the processes that hold the old package's imports restart.

    The dag-processor is stopped first, so that no run meets the new DAG before the API server (which tasks
    report to) serves again; tasks import the package afresh, and the scheduler and triggerer never import it.
    """
    next_release(staging)
    airflow.stop_component("dag-processor")
    swap_in(staging, code)
    airflow.stop_component("api-server")
    airflow.restart("api-server")
    airflow.api.wait_for_dag(timeout=120)
    airflow.restart("dag-processor")


def new_dag_parsed(airflow: Stack, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while NEW_STEP not in [t["task_id"] for t in airflow.api.call("GET", "dags/ooo_absence/tasks")["tasks"]]:
        assert time.monotonic() < deadline, "the dag-processor never parsed the release"
        time.sleep(2)
    errors = airflow.api.call("GET", "importErrors")["import_errors"]
    assert errors == [], errors


@pytest.fixture(scope="module")
def released(tmp_path_factory, metadata_db) -> Iterator[Release]:
    base = tmp_path_factory.mktemp("release")
    code = copy_checkout(base / "deployed")
    began = time.monotonic()
    timings: dict[str, float] = {}
    with real_stack(base / "airflow", env=metadata_db, code=code) as (airflow, sandbox):
        timings["stack up"] = time.monotonic() - began
        team_file = Path(airflow.extra_env["OOO_TEAM_FILE"])
        noticed_by, notice_at, notice_hhmm = next_minute(WAITING, team_file, lead=NOTICE_LEAD)
        reviewed_by, digest_at, digest_hhmm = next_minute([p for p in WAITING if p != noticed_by], team_file,
                                                          lead=DIGEST_LEAD)
        # The planned absence's notice, and the unexpected one's return morning, a few minutes from now.
        write_team(team_file, team_notice=notice_hhmm, return_digest=digest_hhmm)

        # Under the checkout's code: three absences, each left waiting.
        reviewed = filed_days_ago(airflow, reviewed_by, days=1)
        noticed = airflow.api.trigger_absence(starting_tomorrow(airflow, noticed_by))["dag_run_id"]
        parked = airflow.api.trigger_absence(planned(ROSA, in_days=20, days=3))["dag_run_id"]
        answer(airflow, noticed, approve=True)
        airflow.api.wait_for(parked, lambda tis: state_of("approval")(tis) == "awaiting_input", timeout=120)
        airflow.api.wait_for(noticed, lambda tis: state_of("team_notice")(tis) == "deferred", timeout=180)
        airflow.api.wait_for(reviewed, lambda tis: by_task(tis).get("sms_review[1]") == "deferred", timeout=240)
        timings["filed and waiting"] = time.monotonic() - began

        release(airflow, code, base / "staging")
        new_dag_parsed(airflow)
        released_at = dt.datetime.now(dt.timezone.utc)
        timings["released"] = time.monotonic() - began
        assert released_at < min(notice_at, digest_at), (
            f"the release came at {released_at:%H:%M:%S}, after the moments the runs wait for "
            f"({notice_at:%H:%M}, {digest_at:%H:%M} local): raise NOTICE_LEAD and DIGEST_LEAD")

        # After the release: the manager answers the parked approval; an absence is filed under the new code.
        answer(airflow, parked, approve=True)
        after = filed_days_ago(airflow, TOM, days=2)
        for run_id in (reviewed, after):
            airflow.api.wait_for(run_id, finished(airflow, run_id), timeout=600)
        airflow.api.wait_for(noticed, lambda tis: state_of("auto_reply_on")(tis) == "deferred", timeout=300)
        airflow.api.wait_for(parked, lambda tis: state_of("team_notice")(tis) == "deferred", timeout=180)
        timings["digests sent"] = time.monotonic() - began

        # The planned absences' next moments are tomorrow and later: ops cancel them, under the new code.
        for run_id in (parked, noticed):
            assert main(["cancel", "--run-id", run_id, *as_ops(airflow)]) == 0
            airflow.api.wait_for(run_id, finished(airflow, run_id), timeout=180)
        timings["cancelled"] = time.monotonic() - began
        print("release under absences in flight: " + ", ".join(f"{k} at {v:.0f}s" for k, v in timings.items()))
        yield Release(airflow, sandbox, load_team(team_file), parked, noticed, reviewed, after,
                      {parked: ROSA, noticed: noticed_by, reviewed: reviewed_by, after: TOM},
                      notice_at, digest_at, released_at, timings)


def test_no_absence_fails_and_every_one_finishes(released):
    airflow = released.airflow
    for run_id in released.runs:
        assert airflow.api.run(run_id)["state"] == "success", run_id
        broken = {k: t["state"] for k, t in released.tis(run_id).items() if t["state"] in BROKEN}
        assert broken == {}, (run_id, broken)
    alerts = [m["text"] for m in released.sandbox.sandbox.api("slack").messages(released.team.channels["ops"])]
    assert not [a for a in alerts if any(run_id in a for run_id in released.runs)], alerts


def test_each_run_moves_to_the_release_and_gets_the_inserted_step(released):
    """The local bundle pins nothing: a run in flight runs its next steps from the new DAG, on the new
    package, and the scheduler's ``verify_integrity`` gives it an instance of the step the release inserted."""
    airflow = released.airflow
    for run_id in released.runs:
        run = airflow.api.run(run_id)
        assert run["bundle_version"] is None
        assert max(v["version_number"] for v in run["dag_versions"]) >= 2, run_id
        assert NEW_STEP in released.tis(run_id), run_id
    # The team notice: posted before the release by one run, after it by another (each log names its release).
    before, after = released.tis(released.reviewed)["team_notice"], released.tis(released.noticed)["team_notice"]
    assert before["dag_version"]["version_number"] < after["dag_version"]["version_number"]
    assert f"ooo-pipelines {VERSION}" not in task_log(airflow, before)
    assert f"ooo-pipelines {VERSION}" in task_log(airflow, after)


def test_the_inserted_step_runs_in_its_place_or_says_it_came_too_late(released):
    airflow, slack = released.airflow, released.sandbox.sandbox.api("slack")
    support = released.team.channels["support"]
    heads_ups = Counter(m["metadata"]["event_payload"]["key"] for m in slack.messages(support)
                        if (m.get("metadata") or {}).get("event_type") == "ooo_support_heads_up")

    # Waiting for its notice when the release came: the new step ran between the notice and the handover.
    tis = released.tis(released.noticed)
    notice, heads_up, handover = tis["team_notice"], tis[NEW_STEP], tis["buddy_handover"]
    assert heads_up["state"] == "success"
    assert at(notice["end_date"]) <= at(heads_up["start_date"])
    assert at(heads_up["end_date"]) <= at(handover["start_date"])
    assert heads_ups[run_key(released.noticed)] == 1
    assert airflow.api.xcom(released.noticed, NEW_STEP)["posted"] is True

    # Past its place (the buddy told the day before): Airflow ran it at once, and it posted nothing, saying why.
    tis = released.tis(released.reviewed)
    assert tis[NEW_STEP]["state"] == "success"
    assert at(tis[NEW_STEP]["start_date"]) > at(tis["buddy_handover"]["end_date"])
    assert airflow.api.xcom(released.reviewed, NEW_STEP)["skipped"] == "released after this absence's notices went out"
    assert heads_ups[run_key(released.reviewed)] == 0

    # Filed after the release: posted in its place.
    assert heads_ups[run_key(released.after)] == 1
    # Approved after the release, cancelled before its notice: its instance was skipped with the cancellation.
    parked = released.tis(released.parked)[NEW_STEP]
    assert parked["state"] == "skipped" and parked["note"].startswith("Skipped: the absence was cancelled")
    assert heads_ups[run_key(released.parked)] == 0


def test_nothing_is_done_twice(released):
    sandbox = released.sandbox.sandbox
    slack, google = sandbox.api("slack"), sandbox.api("google")
    keys = {run_key(run_id) for run_id in released.runs}
    posts: Counter[str] = Counter()
    for channel in list(slack.channels):
        for m in slack.messages(channel):
            meta = m.get("metadata") or {}
            payload = meta.get("event_payload") or {}
            if payload.get("key", "").split("-")[0] in keys:
                posts[f"{meta['event_type']} {sorted(payload.items())} {m.get('thread_ts')}"] += 1
    assert posts and max(posts.values()) == 1, [p for p, n in posts.items() if n > 1]
    sent = Counter(m["message_id"] for m in google.sent())
    assert sent and max(sent.values()) == 1, [i for i, n in sent.items() if n > 1]
    for run_id in (released.reviewed, released.after):
        employee = released.people[run_id]
        done = effects_of(sandbox, released.team, employee, released.team.person(employee).buddy)
        assert (len(done.ooo_events), len(done.team_notices), len(done.buddy_dms), len(done.digests)) == (1, 1, 1, 1)
    for run_id in (released.parked, released.noticed):  # cancelled: their blocks deleted, once
        assert effects_of(sandbox, released.team, released.people[run_id], "").ooo_events == []


def test_texts_sent_after_the_release_are_the_new_ones(released):
    sandbox = released.sandbox.sandbox
    notices = {run_id: [m for m in effects_of(sandbox, released.team, released.people[run_id], "").team_notices
                        if not m.get("thread_ts")]  # not the cancellation's reply
               for run_id in released.runs if run_id != released.parked}
    # Posted before the release: the old words, and not posted again.
    [before] = notices[released.reviewed]
    assert NOTICE_LINE not in before["text"] and "by ooo-pipelines" in before["text"]
    for run_id in (released.noticed, released.after):
        [notice] = notices[run_id]
        assert NOTICE_LINE in notice["text"], notice["text"]
    # Every digest sent, once, in the new words; the one filed before the release too.
    for run_id in (released.reviewed, released.after):
        employee = released.people[run_id]
        [digest] = effects_of(sandbox, released.team, employee, "").digests
        assert DIGEST_SUBJECT in digest["subject"], digest["subject"]


def test_a_plan_from_before_the_release_reads_with_the_new_field_left_at_its_default(released):
    airflow = released.airflow
    for run_id in released.in_flight:
        plan = airflow.api.xcom(run_id, "validate", key="plan")
        assert "support_channel" not in plan and not plan["code"].startswith(f"ooo-pipelines {VERSION}")
    plan = airflow.api.xcom(released.after, "validate", key="plan")
    assert plan["support_channel"] == released.team.channels["support"]
    assert plan["code"].startswith(f"ooo-pipelines {VERSION}")


def test_a_changed_retry_setting_holds_for_instances_created_after_the_release(released):
    """Airflow fixes an instance's tries when it creates it (``max_tries``): the digest of the run filed
    after the release may retry 5 times; the digest of one filed before keeps the tries it was filed with."""
    assert released.tis(released.after)["return_digest"]["max_tries"] == DIGEST_RETRIES
    assert released.tis(released.reviewed)["return_digest"]["max_tries"] == 0  # the stack's default_task_retries
