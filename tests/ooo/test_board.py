"""The coverage board's rows: who is out, who covers, the state on each person's own today."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pendulum
import pytest

from ooo.absence import parse_absence
from ooo.board import RunFacts, board_rows, run_url
from ooo.timeline import plan_timeline

FILED = pendulum.datetime(2026, 11, 23, 16, 0, tz="UTC")
MAYA = "maya.patel@yellowstonelocal.com"  # America/Denver, buddy Jordan Reyes
PRIYA = "priya.nair@yellowstonelocal.com"  # Asia/Kolkata
APPROVED = {"chosen_options": ["Approve"], "params_input": {"reason": ""}}
REJECTED = {"chosen_options": ["Reject"], "params_input": {"reason": "Quarter end"}}


def plan(team, employee=MAYA, start="2026-12-07", end="2026-12-11", filed_by=None, **params):
    absence = parse_absence({"employee": employee, "start_date": start, "end_date": end, "kind": "planned",
                             "reachable": False, **params}, team, FILED, filed_by=filed_by)
    return {"absence": absence.to_dict(), "timeline": plan_timeline(absence, team, FILED).to_dict()}


def facts(team, state="running", answer=None, tasks=None, **params):
    p = plan(team, **params)
    run_id = f"absence__{p['absence']['employee']['email']}__{p['absence']['start']}__{p['absence']['end']}"
    return RunFacts(run_id, state, p, answer, tasks or {})


def utc(*args):
    return pendulum.datetime(*args, tz="UTC")


def states(runs, now):
    return [(r.absence.employee.email, r.state) for r in board_rows(runs, now)]


def test_an_absence_through_its_life(team):
    now = utc(2026, 11, 24, 17)  # Tue Nov 24, morning in Denver
    waiting = facts(team, tasks={"approval": "awaiting_input"})
    assert states([waiting], now) == [(MAYA, "awaiting approval")]
    approved = dataclasses.replace(waiting, answer=APPROVED, tasks={"approval": "success", "team_notice": "deferred"})
    assert states([approved], now) == [(MAYA, "approved")]
    announced = dataclasses.replace(approved, tasks={"approval": "success", "team_notice": "success"})
    assert states([announced], utc(2026, 12, 4, 23)) == [(MAYA, "announced")]
    assert states([announced], utc(2026, 12, 7, 8)) == [(MAYA, "out")]  # 1 AM on Dec 7 in Denver
    assert states([announced], utc(2026, 12, 12, 18)) == [(MAYA, "back")]  # Saturday; back Monday
    assert states([announced], utc(2026, 12, 14, 18)) == [(MAYA, "back")]  # the return day
    assert states([announced], utc(2026, 12, 15, 18)) == []  # over


def test_the_row_says_who_covers_and_links_the_run(team):
    [row] = board_rows([facts(team, answer=APPROVED)], utc(2026, 12, 8, 18), base_url="/airflow/")
    assert (row.absence.employee.name, row.absence.buddy.name) == ("Maya Patel", "Jordan Reyes")
    assert (row.absence.start, row.absence.end, row.return_day) == \
        (dt.date(2026, 12, 7), dt.date(2026, 12, 11), dt.date(2026, 12, 14))
    assert row.out_today and row.today == dt.date(2026, 12, 8)
    assert row.run_url == ("/airflow/dags/ooo_absence/runs/"
                           "absence__maya.patel%40yellowstonelocal.com__2026-12-07__2026-12-11")
    assert run_url("a b") == "/dags/ooo_absence/runs/a%20b"


def test_today_is_the_employees_own_date(team):
    runs = [facts(team, answer=APPROVED), facts(team, employee=PRIYA, answer=APPROVED)]
    # Sun Dec 6, 20:00 UTC: already Monday Dec 7 in Kolkata, still Sunday afternoon in Denver.
    assert states(runs, utc(2026, 12, 6, 20)) == [(MAYA, "approved"), (PRIYA, "out")]


def test_the_window_is_today_and_the_next_30_days(team):
    run = facts(team, answer=APPROVED)
    assert states([run], utc(2026, 11, 7, 18)) == [(MAYA, "approved")]  # starts in 30 days
    assert states([run], utc(2026, 11, 6, 18)) == []  # 31 days


@pytest.mark.parametrize("run, detail", [
    pytest.param(dict(answer=REJECTED, tasks={"approval": "success"}), "by Allison Reed", id="rejected"),
    pytest.param(dict(answer={"chosen_options": ["Reject"], "timedout": True}, tasks={"approval": "success"}),
                 "no answer by Dec 7", id="no-answer"),
    pytest.param(dict(state="success", tasks={"approval": "success"}), "not approved", id="ended-without-an-answer"),
])
def test_nobody_is_out_when_not_approved(team, run, detail):
    [row] = board_rows([facts(team, **run)], utc(2026, 12, 8, 18), team=team)
    assert (row.state, row.detail, row.out_today, row.happening) == ("rejected", detail, False, False)


def test_runs_that_are_not_absences_are_left_out(team):
    no_plan = RunFacts("absence__x@y.com__2026-12-07__2026-12-11", "failed", None)
    dry = facts(team, answer=APPROVED)
    dry = dataclasses.replace(dry, plan={**dry.plan, "dry_run": True})
    assert board_rows([no_plan, dry], utc(2026, 12, 8, 18)) == []


def test_unexpected_and_pre_approved_absences_need_no_answer(team):
    sick = facts(team, kind="unexpected", tasks={"approval": "skipped"})
    recorded = facts(team, employee=PRIYA, approved_by="allison.reed@yellowstonelocal.com", filed_by="hr-integration")
    assert states([sick, recorded], utc(2026, 12, 8, 18)) == [(MAYA, "out"), (PRIYA, "out")]


def test_a_broken_run_says_failed_and_a_cancelled_one_says_cancelled_and_by_whom(team):
    broken = facts(team, state="failed", answer=APPROVED)
    [row] = board_rows([broken], utc(2026, 12, 8, 18), team=team)
    assert (row.state, row.out_today) == ("failed", True)  # she may well be out: see the run
    cancelled = facts(team, state="success", answer=APPROVED)
    cancel = {"summary": "cancelled by ops on Tue Dec 1", "by": "allison.reed@yellowstonelocal.com",
              "at": "2026-12-01T18:00:00+00:00", "kind": "cancelled"}
    cancelled = dataclasses.replace(cancelled, plan={**cancelled.plan, "changes": [cancel]})
    [row] = board_rows([cancelled], utc(2026, 12, 8, 18), team=team)
    assert (row.state, row.detail, row.out_today) == ("cancelled", "by Allison Reed on Dec 1", False)


def test_an_awaiting_approval_says_by_whom_and_by_when(team):
    [row] = board_rows([facts(team, tasks={"approval": "awaiting_input"})], utc(2026, 11, 24, 17), team=team)
    assert (row.state, row.detail) == ("awaiting approval", "Allison Reed, by Dec 7")


def test_a_shortened_absence_shows_its_new_end(team):
    run = facts(team, answer=APPROVED)
    shorter = plan(team, end="2026-12-08")
    run = dataclasses.replace(run, plan={**shorter, "changes": [{"summary": "back early"}]})
    [row] = board_rows([run], utc(2026, 12, 9, 18))
    assert (row.state, row.absence.end, row.return_day) == ("back", dt.date(2026, 12, 8), dt.date(2026, 12, 9))


def test_rows_come_by_first_day_out(team):
    runs = [facts(team, employee=PRIYA, start="2026-12-09", end="2026-12-10", answer=APPROVED),
            facts(team, answer=APPROVED)]
    assert [r.absence.start.day for r in board_rows(runs, utc(2026, 12, 1, 18))] == [7, 9]
