"""Against real Airflow: api-server, scheduler, dag-processor and triggerer, started by the test.

What ``dag.test()`` cannot show: the manager's answer through the REST API, a wait that really
defers to the triggerer (and outlives the sensors' default timeout), one trigger per absence.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from devstack.stack import Stack
from ooo.cli import main
from ooo.team import load_team
from sandbox import SandboxServer, connection_env
from tests.e2e.effects import effects_of
from tests.e2e.stack import (
    answer,
    as_ops,
    by_task,
    finished,
    next_minute,
    planned,
    real_stack,
    state_of,
    triggers_for,
    wait_until_no_trigger,
    write_team,
)

pytestmark = [pytest.mark.e2e, pytest.mark.scheduler, pytest.mark.metadata_dbs("sqlite", "postgres")]

SAM = "sam.okafor@yellowstonelocal.com"
PEOPLE_BY_ZONE = ["maya.patel@yellowstonelocal.com", "sam.okafor@yellowstonelocal.com",
                  "priya.nair@yellowstonelocal.com"]


@pytest.fixture(scope="module")
def stack(tmp_path_factory, metadata_db) -> Iterator[tuple[Stack, SandboxServer, dt.datetime, str]]:
    home = tmp_path_factory.mktemp("airflow")
    employee, moment, hhmm = next_minute(PEOPLE_BY_ZONE)
    with real_stack(home, env=metadata_db, return_digest=hhmm) as (airflow, sandbox):
        yield airflow, sandbox, moment, employee


def test_an_approved_absence_waits_deferred_with_one_trigger_until_cancelled(stack):
    airflow, sandbox, _, _ = stack
    params = planned(SAM, in_days=20, days=5)
    run_id = airflow.api.trigger_absence(params)["dag_run_id"]
    answer(airflow, run_id, approve=True)
    slack = sandbox.sandbox.api("slack")
    asked = [m["text"] for m in slack.dm_messages(slack.user_id("allison.reed@yellowstonelocal.com"))
             if "Sam Okafor" in m["text"] or "<@U02SAMOK0>" in m["text"]]
    assert len(asked) == 1 and f"/dags/ooo_absence/runs/{run_id}/tasks/approval/required_actions" in asked[0]
    tis = airflow.api.wait_for(run_id, lambda tis: state_of("team_notice")(tis) == "deferred", timeout=120)
    states = by_task(tis)
    assert states["calendar_cleanup"] == "success"
    assert [t for t, s in states.items() if s == "deferred"] == ["team_notice"]
    assert triggers_for(airflow, run_id) == 1
    with pytest.raises(Exception, match="exists already"):
        airflow.api.trigger_absence(params)  # the same absence twice is refused
    google = sandbox.sandbox.api("google")
    assert [e for e in google.list_events(SAM) if e.get("eventType") == "outOfOffice"]

    # Sam's plans change: ops cancel (an ooo_cancel run). The run stops waiting, the block comes off.
    assert main(["cancel", "--run-id", run_id, *as_ops(airflow)]) == 0
    airflow.api.wait_for(run_id, finished(airflow, run_id), timeout=120)
    assert airflow.api.run(run_id)["state"] == "success"  # cancelled is an outcome, not a failure
    assert [e for e in google.list_events(SAM) if e.get("eventType") == "outOfOffice"] == []
    airflow.api.wait_for(run_id, lambda tis: "deferred" not in by_task(tis).values(), timeout=60)
    wait_until_no_trigger(airflow, run_id)


def test_a_wait_defers_to_the_triggerer_and_runs_on_time(stack, monkeypatch, tmp_path):
    airflow, sandbox, moment, employee = stack
    # A slow start (a loaded machine) can leave the run too little time to reach its wait before the
    # moment: then the moment moves later. Each run reads the team file anew.
    if moment - dt.datetime.now(dt.timezone.utc) < dt.timedelta(seconds=75):
        employee, moment, hhmm = next_minute(PEOPLE_BY_ZONE, lead=135)
        write_team(Path(airflow.extra_env["OOO_TEAM_FILE"]), return_digest=hhmm)
    zone = ZoneInfo(load_team().person(employee).timezone)
    yesterday = (moment - dt.timedelta(days=1)).date()
    filed = dt.datetime.combine(yesterday, dt.time(8, 0), zone)
    params = {"employee": employee, "start_date": yesterday.isoformat(), "end_date": yesterday.isoformat(),
              "kind": "unexpected"}
    run_id = airflow.api.trigger_absence(params, logical_date=filed.isoformat())["dag_run_id"]
    # Everything before the return morning has passed and runs at once; the last review waits.
    tis = airflow.api.wait_for(run_id, lambda tis: by_task(tis).get("sms_review[1]") == "deferred", timeout=120)
    states = by_task(tis)
    assert states["sms_review[0]"] == states["auto_reply_on"] == states["team_notice"] == "success"
    assert [t for t, s in states.items() if s == "deferred"] == ["sms_review[1]"]
    assert triggers_for(airflow, run_id) == 1
    tis = airflow.api.wait_for(run_id, lambda tis: airflow.api.run(run_id)["state"] in ("success", "failed"),
                               timeout=240)
    states = by_task(tis)
    assert airflow.api.run(run_id)["state"] == "success", states
    digest = next(t for t in tis if t["task_id"] == "return_digest")
    assert dt.datetime.fromisoformat(digest["start_date"]) >= moment  # not before its moment
    reviews = sorted((t for t in tis if t["task_id"] == "sms_review"), key=lambda t: t["map_index"])
    assert [t["rendered_map_index"] for t in reviews] == [yesterday.isoformat(), f"{moment.date()} (return morning)"]

    # Ops clear the whole run and it runs again: nothing is booked, posted or mailed twice.
    team = load_team(airflow.extra_env["OOO_TEAM_FILE"])
    buddy = team.person(employee).buddy
    before = effects_of(sandbox.sandbox, team, employee, buddy)
    assert len(before.ooo_events) == len(before.digests) == len(before.team_notices) == 1
    assert len(before.buddy_dms) == 1 and not before.auto_reply_on
    airflow.api.call("POST", "dags/ooo_absence/clearTaskInstances",
                     json={"dag_run_id": run_id, "dry_run": False, "only_failed": False, "reset_dag_runs": True})
    # Every step ran again (approval and visit_requests skip: an unexpected absence, not a client visit).
    skipping = ("approval", "visit_requests")
    airflow.api.wait_for(run_id, lambda tis: all(t["state"] == "success" or t["task_id"] in skipping
                                                 for t in tis) and airflow.api.run(run_id)["state"] == "success",
                         timeout=240)
    after = effects_of(sandbox.sandbox, team, employee, buddy)
    assert (len(after.ooo_events), len(after.sent), len(after.team_notices), len(after.buddy_dms),
            len(after.employee_dms), len(after.support_alerts)) == (
        len(before.ooo_events), len(before.sent), len(before.team_notices), len(before.buddy_dms),
        len(before.employee_dms), len(before.support_alerts))
    assert not after.auto_reply_on

    # Ops preview the digest of the run: the same email, from the run's records, not sent again.
    for name, value in connection_env(sandbox.sandbox.connections()).items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("OOO_TEAM_FILE", airflow.extra_env["OOO_TEAM_FILE"])
    out = tmp_path / "digest.html"
    assert main(["digest-preview", "--run-id", run_id, *as_ops(airflow), "--out", str(out)]) == 0
    assert out.with_suffix(".txt").read_text().splitlines()[0] == f"Subject: {after.digests[0]['subject']}"
    assert len(effects_of(sandbox.sandbox, team, employee, buddy).sent) == len(after.sent)


def test_no_secret_reaches_a_log_or_an_xcom(stack):
    airflow, sandbox, _, _ = stack
    secrets = []
    for conn in sandbox.sandbox.connections().values():
        secrets += [conn[k] for k in ("password",) if conn.get(k)]
        keyfile = (conn.get("extra") or {}).get("keyfile_dict")
        if keyfile:
            key = json.loads(keyfile)["private_key"]
            secrets.append(key.splitlines()[1])  # a line of the private key
    secrets.append(airflow.password_of("ooo-bot"))  # the ooo_airflow connection's, which tasks use for run notes
    kept = list((airflow.home / ".ooo-tokens").glob("*.jwt"))  # the login tasks keep for the next task
    assert len(kept) == 1 and oct(kept[0].stat().st_mode & 0o777) == "0o600"
    secrets.append(kept[0].read_text())
    assert len(secrets) >= 6
    logs = [p for p in (airflow.home / "logs").rglob("*") if p.is_file()]
    assert any("dag_id=ooo_absence" in str(p) for p in logs)
    for path in logs:
        text = path.read_text(errors="replace")
        for secret in secrets:
            assert secret not in text, f"a connection secret is in {path}"
    values = " ".join(str(v) for (v,) in airflow.query("select cast(value as text) from xcom"))
    assert values and not any(secret in values for secret in secrets)
