"""The notifiers against the sandbox's Slack: the ops alert names the absence, the step and a link."""

from __future__ import annotations

import html
import json
import re
from types import SimpleNamespace
from urllib.parse import parse_qs, quote, urlsplit

from ooo.notifiers import OpsAlert, failure_alert

OPS = "#ooo-ops"


# -- the failure alert -----------------------------------------------------------------------------
def test_failure_alert_tells_ops_which_absence_step_and_link(connections, slack):
    run_id = "absence__maya.patel@yellowstonelocal.com__2027-01-14__2027-01-19"
    ti = SimpleNamespace(task_id="sms_review", run_id=run_id, dag_id="ooo_absence", map_index=2,
                         rendered_map_index="2027-01-18", try_number=2,
                         log_url=f"http://airflow.example:8080/dags/ooo_absence/runs/{run_id}/tasks/sms_review/mapped/2")
    context = {"ti": ti, "params": {"employee": "maya.patel@yellowstonelocal.com", "start_date": "2027-01-14",
                                    "end_date": "2027-01-19"},
               "exception": RuntimeError("The Slack bot is not a member of #support-sms-queue: invite it <now>")}
    failure_alert(context)
    message = slack.messages(OPS)[-1]
    text = message["text"]
    assert text.startswith(":rotating_light: *OOO step failed: sms_review* for maya.patel@yellowstonelocal.com's "
                           "absence 2027-01-14 to 2027-01-19")
    assert f"*Run:* {run_id}" in text and "*Task:* sms_review (2027-01-18), try 2" in text
    assert "*Error:* The Slack bot is not a member of #support-sms-queue: invite it &lt;now&gt;" in text
    assert f"<{ti.log_url}|Open the task and its log in Airflow>" in text
    assert message["metadata"]["event_payload"]["task_id"] == "sms_review"


def test_failure_alert_builds_the_link_and_never_raises(connections, slack, monkeypatch):
    run_id = "absence__sam.okafor@yellowstonelocal.com__2027-02-01__2027-02-03"
    ti = SimpleNamespace(task_id="team_notice", run_id=run_id, dag_id="ooo_absence", map_index=-1, try_number=1)
    OpsAlert(channel=OPS)({"ti": ti, "dag_run": SimpleNamespace(run_id=run_id, conf={})})
    text = slack.messages(OPS)[-1]["text"]
    assert "for sam.okafor@yellowstonelocal.com's absence 2027-02-01 to 2027-02-03" in text
    assert re.search(rf"<https?://[^|>]+/dags/ooo_absence/runs/{re.escape(quote(run_id))}/tasks/team_notice\|", text)
    assert "*Task:* team_notice, try 1" in text
    # Slack failing must not raise out of the callback
    OpsAlert(channel="#no-such-channel")({"ti": ti})


# -- the manager's approval request ----------------------------------------------------------------
def test_the_manager_is_asked_in_slack_with_a_link_to_the_request_and_a_slack_outage_asks_nothing_more(
        connections, slack, team, monkeypatch):
    import pendulum

    from ooo import run as run_module
    from ooo.absence import parse_absence
    from ooo.notifiers import ManagerAskedToApprove
    from ooo.operators import ManagerApproval
    from ooo.plan import Plan
    from ooo.run import AbsenceRun
    from ooo.timeline import plan_timeline
    from sandbox.core import Faults

    now = pendulum.datetime(2026, 11, 23, 16, tz="UTC")
    absence = parse_absence({"employee": "maya.patel@yellowstonelocal.com", "start_date": "2026-12-07",
                             "end_date": "2026-12-11", "kind": "planned", "reachable": False}, team, now)
    plan = Plan(absence, plan_timeline(absence, team, now))
    ti = SimpleNamespace(task_id="approval", dag_id="ooo_absence", run_id=absence.run_id, map_index=-1,
                         xcom_pull=lambda **_: plan.to_dict())
    context = {"ti": ti, "task_instance": ti, "task": ManagerApproval(task_id="approval"),
               "dag_run": SimpleNamespace(run_id=absence.run_id)}
    monkeypatch.setattr(run_module, "team_for_run", lambda: team)
    monkeypatch.setenv("AIRFLOW__API__BASE_URL", "https://airflow.example")

    ManagerAskedToApprove(AbsenceRun.from_context(context))(context)

    dm = slack.dm_messages(slack.user_id("allison.reed@yellowstonelocal.com"))
    assert len(dm) == 1 and dm[0]["metadata"]["event_type"] == "ooo_approval_request"
    assert (f"https://airflow.example/dags/ooo_absence/runs/{absence.run_id}/tasks/approval/required_actions"
            in dm[0]["text"])
    # Approve preselected as the UI reads it (a JSON list: the request opens with Approve as its primary button).
    link = html.unescape(re.search(r"<(https://[^|>]+)\|", dm[0]["text"]).group(1))
    assert json.loads(parse_qs(urlsplit(link).query)["_options"][0]) == ["Approve"]
    connections.sandbox.faults["slack"] = Faults(error_rate=1.0, fail_status=400)  # Slack refuses: nothing raised
    ManagerAskedToApprove(AbsenceRun.from_context(context))(context)
    assert len(slack.dm_messages(slack.user_id("allison.reed@yellowstonelocal.com"))) == 1
