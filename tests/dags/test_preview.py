"""The preview against what really happens: the DAG run through Airflow, the steps against the sandbox.

``ooo plan`` must show the moments the DAG waits for and the statuses its tasks end in; a dry run
must change nothing and wait for nothing; ``--services`` must list what the steps then really do.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import time

import pendulum
import pytest

from devstack.demo import sample_absences
from ooo.cli import main
from ooo.steps.auto_reply import auto_reply_on
from ooo.steps.calendar import calendar_cleanup
from ooo.steps.customer_notice import customer_notice
from ooo.steps.notices import team_notice
from ooo.steps.slack_status import slack_status_on
from tests.dags.runs import run_absence, run_plan, xcom

pytestmark = pytest.mark.e2e
JORDAN = "jordan.reyes@yellowstonelocal.com"
MAYA = "maya.patel@yellowstonelocal.com"


def state_dump(sandbox) -> str:
    return json.dumps(sandbox.state(), sort_keys=True, default=str)


def ooo_plan(*args: str) -> dict:
    """``python -m ooo plan ... --format json`` as a person would run it (no Airflow credentials)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("OOO_AIRFLOW_")}
    done = subprocess.run([sys.executable, "-m", "ooo", "plan", *args, "--format", "json"], env=env,
                          capture_output=True, text=True, timeout=60, check=True)
    return json.loads(done.stdout)


def options(params: dict) -> list[str]:
    return ["--employee", params["employee"], "--start", params["start_date"], "--end", params["end_date"],
            "--kind", params["kind"], "--note", params.get("note") or ""]


def test_the_cli_timeline_is_what_the_dag_waits_for_and_does(absence_dag, connections, team):
    # Out sick two days, two weeks ago, filed late as of that morning: the DAG runs every step now.
    params, filed = next((p, f) for p, f in sample_absences(dt.date.today()) if p["kind"] == "unexpected")
    params = {**params, "end_date": (dt.date.fromisoformat(params["start_date"]) + dt.timedelta(days=1)).isoformat()}
    run, tis = run_absence(absence_dag, params, dt.datetime.fromisoformat(filed))
    assert run.state == "success"
    shown = ooo_plan(*options(params), "--now", run.logical_date.isoformat())

    plan = run_plan(tis)
    at = dt.datetime.fromisoformat
    steps = [s for s in shown["steps"] if s["step"] != "sms_review"]
    reviews = [s for s in shown["steps"] if s["step"] == "sms_review"]
    # the moments the DAG's tasks waited for (its plan) are the preview's, to the second and offset
    assert {s["step"]: s["at"] for s in steps} == {n: m["at"] for n, m in plan["timeline"]["moments"].items()}
    assert [r["at"] for r in reviews] == [r["at"] for r in plan["timeline"]["reviews"]]
    assert all(at(s["at_utc"]) == at(s["at"]) for s in shown["steps"])
    assert shown["timezone"] == plan["timeline"]["timezone"] == "America/Chicago"
    assert shown["return_date"] == plan["timeline"]["return_day"]
    # ...and what the DAG then did with each step is what the preview said it would
    by_task = {t.task_id: t for t in tis if t.map_index < 0}
    for step in steps:
        if step["step"] in by_task:
            expected = "skipped" if step["status"] == "skipped" else "success"
            assert by_task[step["step"]].state == expected, step
    daily = sorted((t for t in tis if t.task_id == "sms_review"), key=lambda t: t.map_index)
    assert len(daily) == len(reviews) and {t.state for t in daily} == {"success"}
    cleanup = xcom(by_task["calendar_cleanup"])
    handover = next(s for s in steps if s["step"] == "handover_meeting")
    assert handover["status"] == "skipped" and cleanup["handover_event_id"] is None  # unexpected: no time


def test_a_dry_run_changes_nothing_waits_for_nothing_and_shows_the_preview(absence_dag, connections, capfd, caplog):
    # Maya's planned week next week: a real run would wait for Allison's approval, then for dates.
    params = next(p for p, _ in sample_absences(dt.date.today()) if p["kind"] == "planned")
    filed = pendulum.now("UTC").replace(microsecond=0)
    before = state_dump(connections.sandbox)
    began = time.monotonic()
    run, tis = run_absence(absence_dag, {**params, "dry_run": True}, filed)
    took = time.monotonic() - began

    assert run.state == "success"
    states = {t.task_id: t.state for t in tis}
    assert states.pop("validate") == "success"
    assert set(states.values()) == {"skipped"}, states  # approval included: nobody was asked
    assert state_dump(connections.sandbox) == before  # byte for byte
    assert list(connections.sandbox.requests) == []  # not one call to Google, Slack, JustCall, ...
    logs = capfd.readouterr().out  # the task runner's lines
    assert logs.count("reason='dry run: nothing changed'") == len(states) - 1  # sms_review: nothing to expand
    assert "Waiting until" not in logs and "deferred" not in logs.replace("(deferred)", "")
    assert took < 60  # the first real moment is days away: nothing waited for it

    plan = run_plan(tis)
    assert plan["dry_run"] is True
    shown = ooo_plan(*options(params), "--now", run.logical_date.isoformat())
    assert plan["preview"]["steps"] == shown["steps"]  # what the run's log shows is `ooo plan`'s preview
    team_notice_row = next(s for s in shown["steps"] if s["step"] == "team_notice")
    assert team_notice_row["status"] == "scheduled"
    local = dt.datetime.fromisoformat(team_notice_row["at"]).strftime("%a %Y-%m-%d %H:%M")
    shown_in_log = next(r.getMessage() for r in caplog.records if r.getMessage().startswith("Dry run: nothing"))
    assert any(line.startswith(local) and " team_notice " in line for line in shown_in_log.splitlines())


def test_a_bad_absence_gives_the_same_messages_from_the_cli_and_the_dag(absence_dag, connections, capfd):
    bad = {"employee": JORDAN, "start_date": "2026-12-07", "end_date": "2026-12-04", "backup_buddy": JORDAN,
           "kind": "planned", "note": "Out\u200b"}  # a zero-width space: the form takes it, validate does not
    filed = pendulum.datetime(2026, 11, 20, 15, 0, tz="UTC")
    run, _ = run_absence(absence_dag, bad, filed)
    assert run.state == "failed"
    logs = capfd.readouterr().out.splitlines()
    start = logs.index("ooo.absence.AbsenceRejected: The absence was rejected:")
    dag_says = []
    for line in logs[start + 1:]:
        if not line.startswith("- "):
            break
        dag_says.append(line)

    with pytest.raises(subprocess.CalledProcessError) as rejected:
        ooo_plan(*options(bad), "--buddy", JORDAN, "--now", filed.isoformat())
    assert rejected.value.returncode == 2
    cli_says = rejected.value.stderr.splitlines()
    assert cli_says[0] == "The absence was rejected:"
    assert cli_says[1:] == dag_says and len(dag_says) == 3
    assert json.loads(rejected.value.stdout) == {"rejected": [line[2:] for line in dag_says]}


def test_services_preview_is_what_the_steps_then_do_and_only_reads(connections, make_absence, step_context,
                                                                   monkeypatch, capsys, team):
    # Nothing configured but the sandbox's URL: `ooo plan --services` reads the sandbox's connections.
    for name in [n for n in os.environ if n.startswith("AIRFLOW_CONN_OOO_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("OOO_SANDBOX_URL", connections.url)
    monkeypatch.delenv("OOO_AIRFLOW_PASSWORD", raising=False)
    params = next(p for p, _ in sample_absences(dt.date.today()) if p["kind"] == "planned")
    now = pendulum.now("UTC").replace(microsecond=0)
    before = json.loads(state_dump(connections.sandbox))
    assert main(["plan", *options(params), "--now", now.isoformat(), "--services", "--format", "json"]) == 0
    would = json.loads(capsys.readouterr().out)["services"]
    after = json.loads(state_dump(connections.sandbox))
    # Reading needs an access token: the sandbox's count of tokens issued is all that may move.
    assert after["google"].pop("tokens_issued") >= before["google"].pop("tokens_issued")
    assert after == before
    methods = {(r["api"], r["method"], r["path"].split("/")[-1]) for r in connections.sandbox.requests}
    assert methods <= {("google", "POST", "token"), ("google", "GET", "events"),
                       ("slack", "POST", "users.lookupByEmail"), ("hubspot", "POST", "search"),
                       ("hubspot", "GET", "contacts"), ("hubspot", "POST", "read")}  # searches, associations, reads

    # Now the steps, for real, on the same calendars.
    absence = make_absence(employee=params["employee"], start=params["start_date"], end=params["end_date"],
                           note=params["note"], requested_at=now)
    ctx = step_context(absence, now=now)
    done = calendar_cleanup(ctx)
    cleanup = would["calendar_cleanup"]
    assert len(cleanup["decline"]) >= 3 and {m["kind"] for m in cleanup["decline"]} == {"internal", "external"}
    assert [(m["summary"], m["kind"]) for m in cleanup["decline"]] == [(d.summary, d.kind) for d in done.declined]
    assert [(m["summary"], m["reschedule_to"], m["reschedule_subject"])
            for m in cleanup["decline"] if m["reschedule_to"]] \
        == [(e.event, e.to, e.subject) for e in done.reschedule_emails]
    assert [(m["summary"], m["reason"]) for m in cleanup["left_alone"]] == [(s.summary, s.reason) for s in done.skipped]
    block = next(e for e in connections.sandbox.api("google").list_events(MAYA) if e.get("eventType") == "outOfOffice")
    assert block["outOfOfficeProperties"]["declineMessage"] == cleanup["ooo_block"]["decline_message"]

    posted = team_notice(ctx)
    channel = connections.sandbox.api("slack").messages(team.channels["team_notice"])
    text = next(m["text"] for m in channel if m["ts"] == posted.ts)
    assert text.strip() == would["team_notice"]["text"]
    assert "&lt;b&gt;no laptop&lt;/b&gt;" in text  # the note as text, as posted

    customers = would["customer_notice"]
    told = customer_notice(ctx)
    assert [r["address"] for r in customers["to"]] == [t.address for t in told.told] and len(told.told) >= 3
    assert [(o["company"], o["reason"]) for o in customers["left_out"]] == [(o.company, o.reason)
                                                                           for o in told.left_out]
    sent = connections.sandbox.api("google").sent(MAYA)
    assert customers["subject"] == next(m["subject"] for m in sent if m["to"] == [told.told[0].address])
    assert customers["cc"]["email"] == team.person(MAYA).cc

    auto_reply_on(ctx)
    vacation = connections.sandbox.api("google").vacation(MAYA)
    assert vacation["responseSubject"] == would["auto_reply_on"]["subject"]
    assert vacation["responseBodyPlainText"].strip() == would["auto_reply_on"]["text"]

    slack_status_on(ctx)
    slack = connections.sandbox.api("slack")
    status = slack.status(slack.user_id(MAYA))
    assert would["slack_status_on"]["skipped"] is None  # the sandbox has the ooo_slack_user connection
    assert (status["emoji"], status["text"]) == (would["slack_status_on"]["emoji"], would["slack_status_on"]["text"])
