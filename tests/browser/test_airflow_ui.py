"""The Airflow UI as people use it, in a real browser: file an absence in the trigger form, see a
bad one refused, approve a good one in the approval view, watch its steps and its dated daily
reviews in the grid, read a task's log, and see who is out on the coverage board."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import quote, unquote
from zoneinfo import ZoneInfo

import pytest

from ooo.absence import run_id_for
from ooo.team import load_team
from tests.browser.conftest import log_in, shown
from tests.e2e.effects import effects_of
from tests.e2e.stack import by_task, finished, state_of

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

#: Twelve and a half hours apart: at any moment one of them has hours of today left.
PEOPLE_BY_ZONE = ["maya.patel@yellowstonelocal.com", "priya.nair@yellowstonelocal.com"]
ROSA, TOM = "rosa.alvarez@yellowstonelocal.com", "tom.becker@yellowstonelocal.com"
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


def test_a_good_absence_approved_in_the_ui_runs_on_with_its_dated_reviews(page, ui, shots):
    airflow, sandbox = ui
    team = load_team()
    employee, today = someone_with_a_day_ahead()
    person = team.person(employee)
    tomorrow = today + dt.timedelta(days=1)
    form = open_trigger_form(page, airflow)
    run_id = fill_absence(form, employee, today, tomorrow)
    submit(form)
    airflow.api.wait_for(run_id, lambda tis: state_of("approval")(tis) == "awaiting_input", timeout=120)

    page.context.clear_cookies()  # the approval is the manager's to give: log in as them
    log_in(page, airflow, username=person.manager)
    page.goto(airflow.url + "/required_actions")  # Browse > Required Actions
    page.get_by_text(f"{person.name} out ").first.click()
    approval = page.get_by_role("button", name="Approve")
    shown(page, approval)
    assert page.get_by_text(f"Backup buddy: {team.person(person.buddy).name}").is_visible()
    page.screenshot(path=shots / "airflow-approval.png")
    approval.click()
    shown(page, page.get_by_text("approval response successful"), timeout=30)

    # The run moves on: everything due today is done, tomorrow's review waits (deferred).
    tis = airflow.api.wait_for(run_id, lambda tis: by_task(tis).get("sms_review[1]") == "deferred", timeout=150)
    states = by_task(tis)
    assert states["approval"] == states["calendar_cleanup"] == states["team_notice"] == "success"
    assert states["auto_reply_on"] == states["sms_review[0]"] == "success"
    done = effects_of(sandbox.sandbox, team, employee, person.buddy)
    assert len(done.ooo_events) == 1 and len(done.team_notices) == 1 and done.auto_reply_on
    assert done.buddy_dms  # the buddy's handover DM

    page.goto(airflow.url + run_page(run_id))
    for step in ("validate", "approval", "calendar_cleanup", "team_notice", "auto_reply_on", "return_digest"):
        shown(page, page.get_by_text(step, exact=True).first)
    shown(page, page.get_by_role("link", name=today.isoformat(), exact=True))  # the reviews, by their dates
    shown(page, page.get_by_role("link", name=tomorrow.isoformat(), exact=True))
    page.screenshot(path=shots / "airflow-run.png")

    page.locator("table").get_by_role("link", name="team_notice", exact=True).click()  # a task's log
    shown(page, page.get_by_text("team notice posted").first)


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
