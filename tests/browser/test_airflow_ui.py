"""The Airflow UI as people use it, in a real browser: ops file an absence in the trigger form and see a
bad one refused; only the employee's manager can answer its approval (another manager is refused), whose
subject shows the days and whose Slack link opens it with Approve as the primary button; the run's note says
where the absence stands, a waiting step says until when, and its dated daily reviews show in the grid; a
cancelled absence is an outcome, not a failure; the coverage board says who is out and who covers."""

from __future__ import annotations

import datetime as dt
import html
import re
from typing import Any
from urllib.parse import quote, unquote
from zoneinfo import ZoneInfo

import pytest

from ooo.absence import run_id_for
from ooo.team import load_team
from ooo.templates import day_range, month_day
from tests.browser.conftest import log_in, log_in_as, paint, shown
from tests.e2e.effects import effects_of
from tests.e2e.stack import by_task, finished, state_of

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

#: Twelve and a half hours apart: at any moment one of them has hours of today left.
PEOPLE_BY_ZONE = ["maya.patel@yellowstonelocal.com", "priya.nair@yellowstonelocal.com"]
ROSA, TOM = "rosa.alvarez@yellowstonelocal.com", "tom.becker@yellowstonelocal.com"
LENA, CASEY = "lena.fischer@yellowstonelocal.com", "casey.morgan@yellowstonelocal.com"
FIELDS = {  # param: its title, as the form labels it, and (part of) its description shown under it
    "employee": ("Employee", "Work email of the person going out"),
    "start_date": ("First day out", "In the employee's time zone."),
    "end_date": ("Last day out", "Inclusive; on or after the first day."),
    "start_half": ("First day: whole or afternoon", "Out the whole first day, or only its afternoon"),
    "end_half": ("Last day: whole or morning", "Out the whole last day, or only its morning"),
    "kind": ("Kind", None),
    "client_company": ("Client visited", "For a client visit only"),
    "backup_buddy": ("Backup buddy", "empty = the employee's buddy in the roster"),
    "approved_by": ("Approved by", "skips the wait for approval"),
    "reachable": ("Reachable", "checking email while out, or not"),
    "note": ("Note", "Free text for the team notice"),
    "dry_run": ("Dry run: preview only, change nothing", "nothing is changed anywhere"),
}


def someone_with_a_day_ahead() -> tuple[str, dt.date]:
    """An employee whose local day has at least two hours left (the approval is due by its end)."""
    team = load_team()
    now = dt.datetime.now(dt.timezone.utc)
    for email in PEOPLE_BY_ZONE:
        local = now.astimezone(ZoneInfo(team.person(email).timezone))
        if 1 <= local.hour < 22:
            return email, local.date()
    raise AssertionError("nobody's day has room for the test")


def run_page(run_id: str) -> str:
    return f"/dags/ooo_absence/runs/{quote(run_id, safe='')}"


def task_page(run_id: str, task_id: str, map_index: int = -1) -> str:
    return f"{run_page(run_id)}/tasks/{task_id}" + (f"/mapped/{map_index}" if map_index >= 0 else "")


def slack_link_for(sandbox: Any, manager: str, run_id: str) -> str:
    """The "Open the approval in Airflow" link of the manager's Slack DM about this absence, as clicked."""
    slack = sandbox.sandbox.api("slack")
    links = [html.unescape(m) for text in (d["text"] for d in slack.dm_messages(slack.user_id(manager)))
             for m in re.findall(r"<(http[^|>]+)\|Open the approval in Airflow>", text)]
    mine = [link for link in links if f"/runs/{run_id}/" in unquote(link)]
    assert len(mine) == 1, links
    return mine[0]


def failed_runs_counted(page: Any, airflow: Any) -> int:
    """The DAG page's failed runs count (its overview, last 24 hours: a link "1 Failed Run"), as ops read it."""
    page.goto(airflow.url + "/dags/ooo_absence")
    count = shown(page, page.get_by_role("link", name=re.compile(r"^\d+ Failed Runs?$")))
    return int(count.inner_text().split()[0])


def run_header(page: Any, run_id: str) -> str:
    """The top of the run's page: its id and the state badge beside it (Success, Failed, Running...)."""
    heading = page.get_by_role("heading", name=run_id).first
    shown(page, heading)
    return heading.locator("xpath=..").inner_text()


def open_trigger_form(page: Any, airflow: Any) -> Any:
    page.goto(airflow.url + "/dags/ooo_absence")
    page.get_by_role("button", name="Trigger").first.click()
    form = page.get_by_role("dialog")
    form.get_by_text("Run Parameters").wait_for()
    return form


def fill_absence(form: Any, employee: str, start: dt.date, end: dt.date) -> str:
    form.locator("input[name=element_employee]").fill(employee)
    form.locator("input[name=element_start_date]").fill(start.isoformat())
    form.locator("input[name=element_end_date]").fill(end.isoformat())
    run_id = run_id_for(employee, start, end)  # the contract's run id: the same absence twice is refused
    form.get_by_text("Advanced Options").click()
    form.locator("input[name=dagRunId]").fill(run_id)
    return run_id


def submit(form: Any) -> None:
    form.get_by_role("button", name="Trigger", exact=True).click()
    form.wait_for(state="hidden")


def test_the_trigger_form_shows_the_params_as_labelled_fields(page, ui, shots):
    airflow, _ = ui
    form = open_trigger_form(page, airflow)
    labels = [label.inner_text().removesuffix("*").strip() for label in form.locator("label").all()]
    assert [title for title, _ in FIELDS.values()] == [label for label in labels if label in
                                                       {title for title, _ in FIELDS.values()}]
    for param, (_, description) in FIELDS.items():
        assert form.locator(f"input[name=element_{param}]").count() == 1, param  # the field itself
        if description:
            assert form.get_by_text(description).first.is_visible(), description
    assert form.locator("input[name=element_start_date]").get_attribute("type") == "date"
    assert form.get_by_text("Planned (PTO: needs approval)").is_visible()  # the kind's default, as worded
    form.locator("input[name=element_employee]").fill("maya.patel@yellowstonelocal.com")
    form.locator("input[name=element_start_date]").fill("2026-12-07")
    form.locator("input[name=element_end_date]").fill("2026-12-11")
    form.locator("input[name=element_note]").fill("Family trip. Jordan has the Big Sky account.")
    page.set_viewport_size({"width": 1400, "height": 1400})  # the README's picture: every field, from the top
    form.get_by_text("Run Parameters").evaluate("e => e.scrollIntoView({block: 'start'})")
    page.screenshot(path=shots / "airflow-trigger-form.png")


def test_a_bad_absence_is_refused_with_a_clear_error_in_its_log(page, ui):
    airflow, sandbox = ui
    employee, today = someone_with_a_day_ahead()
    form = open_trigger_form(page, airflow)
    run_id = fill_absence(form, employee, today + dt.timedelta(days=9), today + dt.timedelta(days=7))
    submit(form)
    page.goto(airflow.url + run_page(run_id))
    shown(page, page.get_by_text("Rejected", exact=True))  # the run's note
    page.locator("table").get_by_role("link", name="validate", exact=True).click()  # its task instance
    message = (f"end_date {today + dt.timedelta(days=7)} is before start_date {today + dt.timedelta(days=9)}: "
               "the end is the last day out.")
    shown(page, page.get_by_text(f"Rejected: {message}"))  # the validate task's log
    airflow.api.wait_for(run_id, finished(airflow, run_id), timeout=60)
    assert airflow.api.run(run_id)["state"] == "failed"
    assert effects_of(sandbox.sandbox, load_team(), employee, "jordan.reyes@yellowstonelocal.com").ooo_events == []


def test_only_the_manager_approves_and_approve_is_the_obvious_click(page, ui, shots):
    """Ops file an absence; another manager sees the request but is refused; the employee's manager finds it
    in Required Actions by its days and approves it from their Slack link, where Approve is the primary button."""
    airflow, sandbox = ui
    team = load_team()
    employee, today = someone_with_a_day_ahead()
    person = team.person(employee)
    manager = team.person(person.manager)
    tomorrow = today + dt.timedelta(days=1)
    form = open_trigger_form(page, airflow)
    run_id = fill_absence(form, employee, today, tomorrow)
    submit(form)
    airflow.api.wait_for(run_id, lambda tis: state_of("approval")(tis) == "awaiting_input", timeout=120)
    subject = f"{person.name} out {day_range(today, tomorrow)}: approve?"

    # Another team's manager: Airflow lists the request and offers its buttons, and refuses the answer.
    assert manager.email != CASEY
    log_in_as(page, airflow, CASEY)
    page.goto(airflow.url + "/required_actions")
    page.get_by_text(subject, exact=True).first.click()
    page.get_by_role("button", name="Approve", exact=True).click()
    shown(page, page.get_by_text("You do not have permission to perform this action.").first, timeout=30)
    assert page.get_by_text("Access Denied").first.is_visible()
    detail = airflow.api.hitl_detail(run_id, "approval")
    assert not detail["response_received"] and detail["chosen_options"] in (None, [])
    assert state_of("approval")(airflow.api.task_instances(run_id)) == "awaiting_input"

    # The manager: Required Actions shows the days in the subject; the request says until when.
    log_in_as(page, airflow, manager.email)
    page.goto(airflow.url + "/required_actions")  # Browse > Required Actions
    page.get_by_text(subject, exact=True).first.click()
    approve = page.get_by_role("button", name="Approve", exact=True)
    shown(page, approve)
    assert page.get_by_text("Answer by ").first.is_visible()
    assert page.get_by_text(f"Backup buddy: {team.person(person.buddy).name}").is_visible()
    assert paint(approve) == "filled"  # no defaults: nothing makes Reject the primary one any more
    # The Slack link preselects Approve: it is the one filled button, Reject the pale one.
    page.goto(slack_link_for(sandbox, manager.email, run_id))
    approve, reject = (page.get_by_role("button", name=name, exact=True) for name in ("Approve", "Reject"))
    shown(page, approve)
    assert (paint(approve), paint(reject)) == ("filled", "pale")
    page.screenshot(path=shots / "airflow-approval.png")
    approve.click()
    shown(page, page.get_by_text("approval response successful"), timeout=30)
    answered = airflow.api.hitl_detail(run_id, "approval")
    assert answered["chosen_options"] == ["Approve"] and answered["responded_by_user"]["name"] == manager.email

    # The run moves on: everything due today is done, tomorrow's review waits (deferred).
    tis = airflow.api.wait_for(run_id, lambda tis: by_task(tis).get("sms_review[1]") == "deferred", timeout=150)
    states = by_task(tis)
    assert states["approval"] == states["calendar_cleanup"] == states["team_notice"] == "success"
    assert states["auto_reply_on"] == states["sms_review[0]"] == "success"
    done = effects_of(sandbox.sandbox, team, employee, person.buddy)
    assert len(done.ooo_events) == 1 and len(done.team_notices) == 1 and done.auto_reply_on
    assert done.buddy_dms  # the buddy's handover DM

    # Ops: the run's note says where the absence stands, first; its steps and dated reviews are in the grid.
    log_in_as(page, airflow, "ops")
    page.goto(airflow.url + run_page(run_id))
    back = month_day(tomorrow + dt.timedelta(days=1))
    shown(page, page.get_by_text(f"{person.name} · {day_range(today, tomorrow)} · out · back {back}", exact=True).first)
    for step in ("validate", "approval", "calendar_cleanup", "team_notice", "auto_reply_on", "return_digest"):
        shown(page, page.get_by_text(step, exact=True).first)
    shown(page, page.get_by_role("link", name=today.isoformat(), exact=True))  # the reviews, by their dates
    shown(page, page.get_by_role("link", name=tomorrow.isoformat(), exact=True))
    page.screenshot(path=shots / "airflow-run.png")

    # The waiting review says, in its task note, what it waits for and until when (midnight, the team's time).
    page.goto(airflow.url + task_page(run_id, "sms_review", 1))
    shown(page, page.get_by_text(re.compile(rf"^Waits until {tomorrow:%a %Y-%m-%d} 00:00 \S+ "
                                            r"\(\d{4}-\d\d-\d\d \d\d:\d\d UTC\) to review the texts")).first)

    page.goto(airflow.url + run_page(run_id))
    page.locator("table").get_by_role("link", name="team_notice", exact=True).click()  # a task's log, as ops
    shown(page, page.get_by_text("team notice posted").first)


def test_a_cancelled_absence_is_an_outcome_not_a_failure(page, ui):
    """An absence the HR tool filed approved waits for its team notice (its note says until when); ops cancel
    it: the run ends a success, not counted as failed, its steps skipped with the reason, the board says so."""
    airflow, _ = ui
    team = load_team()
    today = dt.datetime.now(ZoneInfo(team.person(LENA).timezone)).date()
    start = today + dt.timedelta(days=5)
    end = start + dt.timedelta(days=1)
    run_id = airflow.api_as("hr-integration").trigger_absence(
        {"employee": LENA, "start_date": start.isoformat(), "end_date": end.isoformat(), "kind": "planned",
         "approved_by": CASEY})["dag_run_id"]
    airflow.api.wait_for(run_id, lambda tis: state_of("team_notice")(tis) == "deferred", timeout=120)

    page.goto(airflow.url + task_page(run_id, "team_notice"))  # the team's notice goes out the day before, at 00:00
    shown(page, page.get_by_text(re.compile(rf"^Waits until {start - dt.timedelta(days=1):%a %Y-%m-%d} 00:00 \S+ "
                                            r"\(\d{4}-\d\d-\d\d \d\d:\d\d UTC\) to post the team notice\.$")).first)
    failed_before = failed_runs_counted(page, airflow)

    cancel = airflow.api_as("ops").trigger_cancel(run_id)["dag_run_id"]
    airflow.api.wait_for(cancel, finished(airflow, cancel, "ooo_cancel"), timeout=180, dag_id="ooo_cancel")
    assert airflow.api.run(cancel, "ooo_cancel")["state"] == "success"
    airflow.api.wait_for(run_id, finished(airflow, run_id), timeout=60)

    page.goto(airflow.url + run_page(run_id))
    shown(page, page.get_by_text(f"Lena Fischer · {day_range(start, end)} · cancelled by ops on "
                                 f"{month_day(dt.datetime.now(dt.timezone.utc))}", exact=True).first)
    header = run_header(page, run_id)
    assert "Success" in header and "Failed" not in header, header
    page.goto(airflow.url + task_page(run_id, "team_notice"))
    shown(page, page.get_by_text("Skipped: the absence was cancelled by ops on ").first)
    assert failed_runs_counted(page, airflow) == failed_before

    page.goto(airflow.url + "/coverage/")
    cancelled = page.locator(f"#not-happening tr[data-run-id='{run_id}']")
    shown(page, cancelled)
    assert cancelled.locator(".state").inner_text() == "cancelled"
    assert cancelled.locator(".detail").inner_text().startswith("by ops on ")
    assert page.locator(f"#board tr[data-run-id='{run_id}']").count() == 0  # not among who is out


def test_the_coverage_board_says_who_is_out_and_who_covers(page, ui, browser, shots):
    airflow, _ = ui
    team = load_team()
    today = dt.datetime.now(ZoneInfo(team.person(ROSA).timezone)).date()
    sick = airflow.api.trigger_absence({"employee": ROSA, "start_date": today.isoformat(),
                                        "end_date": (today + dt.timedelta(days=1)).isoformat(),
                                        "kind": "unexpected"})["dag_run_id"]
    later = today + dt.timedelta(days=10)
    pto = airflow.api.trigger_absence({"employee": TOM, "start_date": later.isoformat(),
                                       "end_date": (later + dt.timedelta(days=2)).isoformat(),
                                       "kind": "planned"})["dag_run_id"]
    airflow.api.wait_for(sick, lambda tis: by_task(tis).get("validate") == "success", timeout=120)
    airflow.api.wait_for(pto, lambda tis: by_task(tis).get("approval") == "awaiting_input", timeout=120)

    page.goto(airflow.url + "/")
    page.get_by_role("button", name="Browse").click()
    page.get_by_role("menuitem", name="Coverage board").click()
    board = page.frame_locator("iframe").first
    rosa = board.locator(f"tr[data-run-id='{sick}']")
    shown(page, rosa)
    assert rosa.locator(".who").inner_text().startswith("Rosa Alvarez")
    assert rosa.locator(".buddy").inner_text().startswith(team.person(team.person(ROSA).buddy).name)
    assert rosa.locator(".state").inner_text() == "out"
    tom = board.locator(f"tr[data-run-id='{pto}']")
    assert tom.locator(".buddy").inner_text().startswith("Lena Fischer")
    assert tom.locator(".state").inner_text() == "awaiting approval"
    assert tom.locator(".detail").inner_text() == f"Casey Morgan, by {month_day(later)}"  # by whom, by when
    page.screenshot(path=shots / "coverage-board.png")

    rosa.get_by_role("link", name="the run").click()  # opens the run in the whole window
    page.wait_for_url(lambda url: unquote(url).endswith(f"/dags/ooo_absence/runs/{sick}"))
    shown(page, page.get_by_text(sick, exact=True).first)

    stranger = browser.new_context()  # not logged in: sent to the login page, the board unseen
    try:
        visit = stranger.new_page()
        visit.goto(airflow.url + "/coverage/")
        visit.wait_for_url("**/auth/login**")
        assert "Rosa Alvarez" not in visit.content()
        log_in(visit, airflow, "/coverage/")
        assert visit.locator(f"tr[data-run-id='{sick}'] .state").inner_text() == "out"
    finally:
        stranger.close()
