"""Security on real Airflow (issue 8, item 4): what the product shows people and keeps in Airflow.

One absence filed late (every moment past, so it all runs at once) meets hostile content: a
client's meeting titled with a script, a text with one, a note with one. Then a service answers
its final review with an error that echoes the credentials it was sent. Afterwards the connection
secrets are looked for in every place a person or a log reader can see: task and component log
files, XComs, rendered template fields, the run note, the REST API and the UI's pages, Slack.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from devstack.stack import Stack
from ooo.team import Team
from sandbox import SandboxServer
from sandbox.core import ApiError
from tests.e2e.stack import by_task, finished

pytestmark = [pytest.mark.e2e, pytest.mark.scheduler, pytest.mark.xdist_group("audit")]  # one stack for the package

JORDAN = "jordan.reyes@yellowstonelocal.com"
MAYA = "maya.patel@yellowstonelocal.com"
CLIENT = "pat.doe@hostile-client.example"
SCRIPT = '<script>alert("x")</script>'
ESCAPED = "&lt;script&gt;"


def working_day_on_or_after(team: Team, day: dt.date) -> dt.date:
    return day if team.is_working_day(day) else team.next_working_day(day)


@pytest.fixture(scope="module")
def absence(audit_stack) -> Iterator[dict[str, Any]]:
    """Jordan's sick day ten days ago, filed late with hostile content around it, run to the end;
    then its final review run again against a JustCall that echoes the credentials in its error."""
    airflow, sandbox, team, _ = audit_stack
    zone = ZoneInfo(team.person(JORDAN).timezone)
    day = working_day_on_or_after(team, dt.datetime.now(zone).date() - dt.timedelta(days=10))
    google, justcall = sandbox.sandbox.api("google"), sandbox.sandbox.api("justcall")

    def at(hour: int, minutes: int = 0) -> dict[str, str]:
        return {"dateTime": dt.datetime.combine(day, dt.time(hour, minutes), zone).isoformat(),
                "timeZone": str(zone)}

    google.add_event(CLIENT, {"id": "hostileclient01", "summary": f"Renewal {SCRIPT} & pricing",
                              "start": at(11), "end": at(11, 30),
                              "attendees": [{"email": CLIENT, "responseStatus": "accepted"},
                                            {"email": JORDAN, "responseStatus": "accepted"}]})
    google.add_event(MAYA, {"id": "hostileinternal01", "summary": "<img src=x onerror=alert(1)> CSM planning",
                            "description": f"Agenda: {SCRIPT}", "start": at(14), "end": at(14, 30),
                            "attendees": [{"email": MAYA, "responseStatus": "accepted"},
                                          {"email": JORDAN, "responseStatus": "accepted"}]})
    justcall.add_text(team.person(JORDAN).justcall_number, "+13075559999", f"{SCRIPT} call me back",
                      dt.datetime.combine(day, dt.time(10), zone), contact_name="<b>Eve</b>")
    params = {"employee": JORDAN, "start_date": day.isoformat(), "end_date": day.isoformat(),
              "kind": "unexpected", "reachable": False, "note": f"Out sick {SCRIPT}"}
    filed = dt.datetime.combine(day, dt.time(7, 45), zone).isoformat()
    run_id = airflow.api.trigger_absence(params, logical_date=filed)["dag_run_id"]
    tis = airflow.api.wait_for(run_id, finished(airflow, run_id), timeout=420, every=2)
    assert airflow.api.run(run_id)["state"] == "success", by_task(tis)

    # A service (or a proxy before it) that puts the request's credentials in its error message.
    handle = justcall.handle

    def echoing(req: Any) -> Any:
        sent = next((v for k, v in req.headers.items() if k.lower() == "authorization"), "")
        raise ApiError(401, f"Invalid credentials: {sent}")

    justcall.handle = echoing
    final = max(t["map_index"] for t in tis if t["task_id"] == "sms_review")
    try:
        airflow.api.clear(run_id, [("sms_review", final)], rerun=True)  # the run had finished
        airflow.api.wait_for(run_id, lambda tis: by_task(tis).get(f"sms_review[{final}]") == "failed",
                             timeout=180, every=2)
    finally:
        justcall.handle = handle
    yield {"run_id": run_id, "day": day, "final": final}


def secrets_of(airflow: Stack, sandbox: SandboxServer) -> dict[str, str]:
    """Every credential the stack holds, by name: the connections' secrets and what Google issued."""
    conns = sandbox.sandbox.connections()
    keyfile = json.loads(conns["ooo_google"]["extra"]["keyfile_dict"])
    key_lines = keyfile["private_key"].splitlines()[1:-1]
    found = {
        "Slack bot token": conns["ooo_slack"]["password"],
        "Google private key (a line)": key_lines[len(key_lines) // 2],
        "Google private key id": keyfile["private_key_id"],
        "JustCall API key": conns["ooo_justcall"]["login"],
        "JustCall API secret": conns["ooo_justcall"]["password"],
        "HubSpot token": conns["ooo_hubspot"]["password"],
        "Fathom API key": conns["ooo_fathom"]["password"],
        "ooo_airflow password": airflow.password_of("ooo-bot"),
    }
    for n, token in enumerate(sandbox.sandbox.api("google").tokens):  # the access tokens it handed out
        found[f"Google access token {n}"] = token
    return found


def test_every_email_is_auto_submitted_and_the_digest_goes_to_the_employee_alone(audit_stack, absence):
    _, sandbox, _, _ = audit_stack
    sent = sandbox.sandbox.api("google").sent(sender=JORDAN)
    reschedule = [m for m in sent if CLIENT in m["to"]]
    digests = [m for m in sent if m["subject"].startswith("Welcome back")]
    assert len(reschedule) == 1 and len(digests) == 1
    assert all(m["headers"].get("Auto-Submitted") == "auto-generated" for m in sent), [m["subject"] for m in sent]
    assert (digests[0]["to"], digests[0]["cc"], digests[0]["bcc"]) == ([JORDAN], [], [])
    assert (reschedule[0]["to"], reschedule[0]["cc"], reschedule[0]["bcc"]) == ([CLIENT], [], [])


def test_nothing_reads_a_received_email_so_nothing_answers_one(audit_stack, absence):
    """The product replies to no mail (auto-replies are Gmail's own responder): its Gmail calls are
    sends, look-ups of its own Message-IDs and the vacation setting, never a message read."""
    _, sandbox, _, _ = audit_stack
    gmail = {(r["method"], r["path"].split("?")[0].rsplit("/", 1)[-1])
             for r in sandbox.sandbox.requests if r["api"] == "google" and "/gmail/" in r["path"]}
    assert gmail and gmail <= {("POST", "send"), ("GET", "messages"), ("GET", "vacation"), ("PUT", "vacation")}, gmail


def test_what_people_read_is_escaped(audit_stack, absence):
    airflow, sandbox, team, _ = audit_stack
    sent = sandbox.sandbox.api("google").sent(sender=JORDAN)
    reschedule = next(m for m in sent if CLIENT in m["to"])
    digest = next(m for m in sent if m["subject"].startswith("Welcome back"))
    for html in (reschedule["html"], digest["html"]):
        assert "<script" not in html and "<img" not in html and "<b>Eve" not in html
    assert ESCAPED in reschedule["html"] and "&amp; pricing" in reschedule["html"]
    assert ESCAPED in digest["html"] and "&lt;img src=x" in digest["html"]  # the text and the meeting, shown as text
    slack = sandbox.sandbox.api("slack")
    notices = [m["text"] for m in slack.messages(team.channels["team_notice"]) if "Out sick" in m["text"]]
    assert len(notices) == 1 and "<script" not in notices[0] and ESCAPED in notices[0]
    note = airflow.api.run(absence["run_id"])["note"]
    assert "<" not in note.replace("\\<", "")  # Markdown in the UI: every value escaped, no raw tag


def test_a_secret_in_an_error_is_masked_in_the_log_and_the_ops_alert(audit_stack, absence):
    airflow, sandbox, team, _ = audit_stack
    secret = sandbox.sandbox.connections()["ooo_justcall"]["password"]
    run_id, final = absence["run_id"], absence["final"]
    log = airflow.api.call("GET", f"dags/ooo_absence/dagRuns/{run_id}/taskInstances/sms_review/logs/2",
                           params={"map_index": final, "full_content": "true"})
    text = json.dumps(log)
    assert "Invalid credentials" in text and secret not in text
    assert "Invalid credentials: ***" in text  # the echoed "key:secret", scrubbed by the client
    slack = sandbox.sandbox.api("slack")
    alerts = [m["text"] for m in slack.messages(team.channels["ops"]) if run_id in m["text"]]
    assert len(alerts) == 1 and "Invalid credentials" in alerts[0] and secret not in alerts[0], alerts
    assert "***" in alerts[0]


def test_no_secret_is_in_a_log_an_xcom_a_rendered_field_the_note_or_a_page(audit_stack, absence):
    airflow, sandbox, _, _ = audit_stack
    secrets = secrets_of(airflow, sandbox)
    run_id = absence["run_id"]
    assert sum(name.startswith("Google access token") for name in secrets) >= 1  # the steps did call Google

    places: dict[str, str] = {}
    logs = [p for p in (airflow.home / "logs").rglob("*") if p.is_file()]
    assert any("sms_review" in str(p) for p in logs) and any(p.name == "scheduler.log" for p in logs)
    for path in logs:
        places[str(path.relative_to(airflow.home))] = path.read_text(errors="replace")
    api = airflow.api
    tis = api.call("GET", "dags/ooo_absence/dagRuns/~/taskInstances", params={"limit": 1000})["task_instances"]
    places["REST taskInstances (rendered_fields)"] = json.dumps(tis)
    assert all("rendered_fields" in t for t in tis)
    entries = api.call("GET", "dags/ooo_absence/dagRuns/~/taskInstances/~/xcomEntries",
                       params={"limit": 1000})["xcom_entries"]
    assert len(entries) >= 10
    for e in entries:
        value = api.call("GET", f"dags/ooo_absence/dagRuns/{e['run_id']}/taskInstances/{e['task_id']}/"
                                f"xcomEntries/{e['key']}", params={"map_index": e["map_index"], "stringify": "true"})
        places[f"XCom {e['run_id']} {e['task_id']}[{e['map_index']}] {e['key']}"] = json.dumps(value)
    for t in tis:
        if t["dag_run_id"] == run_id:
            log = api.call("GET", f"dags/ooo_absence/dagRuns/{run_id}/taskInstances/{t['task_id']}/logs/"
                                  f"{max(t['try_number'], 1)}", params={"map_index": t["map_index"]}, ok=(200, 404))
            places[f"REST log {t['task_id']}[{t['map_index']}]"] = json.dumps(log)
    for path in ("dags/ooo_absence/dagRuns?limit=100", "dags/ooo_absence/details", "eventLogs?limit=1000",
                 "connections?limit=100", "variables?limit=100", "dags/ooo_absence/dagRuns/~/hitlDetails",
                 "importErrors", "pools"):
        places[f"REST {path}"] = json.dumps(api.call("GET", path))
    places["run note"] = api.run(run_id)["note"] or ""
    session = api._session
    for page in ("/", "/dags/ooo_absence", f"/dags/ooo_absence/runs/{run_id}", "/api/v2/config"):
        r = session.get(airflow.url + page, headers=api._auth(), timeout=30)
        places[f"page {page} ({r.status_code})"] = r.text
    slack = sandbox.sandbox.api("slack").state()
    places["Slack (every channel and DM)"] = json.dumps(slack)

    leaks = [(name, place) for place, text in places.items() for name, value in secrets.items() if value in text]
    assert leaks == [], leaks
    print(f"\nsecurity: {len(secrets)} secrets looked for in {len(places)} places "
          f"({len(logs)} log files, {len(entries)} XComs, {len(tis)} task instances): none found")
