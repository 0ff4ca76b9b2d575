"""An absence run as a task reads it: the plan, the records, the approval and the roster, each once."""

from __future__ import annotations

import dataclasses
import json
from collections import Counter
from types import SimpleNamespace
from typing import Any

import pendulum
import pytest

from ooo import run as run_module
from ooo.absence import parse_absence
from ooo.plan import Plan
from ooo.procedure import Step
from ooo.records import SlackPost
from ooo.run import AbsenceRun, NotPlanned
from ooo.timeline import plan_timeline
from tests.ooo.test_airflow_api import server  # noqa: F401 - the fake API server fixture

RUN_ID = "absence__maya.patel@yellowstonelocal.com__2026-12-07__2026-12-11"
NOW = pendulum.datetime(2026, 11, 23, 16, tz="UTC")


class FakeTaskInstance:
    """The Task SDK's ``ti`` as far as a run reads it: XComs by task id and key, each pull counted."""

    def __init__(self, task_id: str, xcoms: dict[tuple[str, str], Any]):
        self.task_id, self.dag_id, self.xcoms, self.pulls = task_id, "ooo_absence", xcoms, Counter()

    def xcom_pull(self, task_ids: str, key: str = "return_value", **_: Any) -> Any:
        self.pulls[(task_ids, key)] += 1
        return self.xcoms.get((task_ids, key))


@pytest.fixture
def plan(team) -> Plan:
    absence = parse_absence({"employee": "maya.patel@yellowstonelocal.com", "start_date": "2026-12-07",
                             "end_date": "2026-12-11", "kind": "planned", "reachable": False}, team, NOW)
    return Plan(absence, plan_timeline(absence, team, NOW), code="ooo-pipelines test")


def context(task_id: str, xcoms: dict[tuple[str, str], Any]) -> dict[str, Any]:
    return {"ti": FakeTaskInstance(task_id, xcoms), "dag_run": SimpleNamespace(run_id=RUN_ID)}


def test_a_task_reads_each_part_of_its_run_once(team, plan, monkeypatch):
    rosters = []
    monkeypatch.setattr(run_module, "team_for_run", lambda: rosters.append(1) or team)
    ctx = context("team_notice", {
        ("validate", "plan"): plan.to_dict(),
        ("calendar_cleanup", "return_value"): {"ooo_event_id": "x", "declined": [{"id": "m1"}]},
        ("approval", "return_value"): {"chosen_options": ["Approve"], "responded_by_user": {"name": "Allison Reed"}},
        ("sms_review", "return_value"): [{"day": "2026-12-07"}, None],
    })
    run = AbsenceRun.from_context(ctx)

    step = run.step_context()
    again = run.step_context()
    note = run.note(current=(Step.TEAM_NOTICE, SlackPost(channel="C1", ts="1.2", posted=True)))

    assert step.absence == plan.absence and step.timeline == plan.timeline and step.team is team
    assert step.records.calendar_cleanup is not None and step.records.calendar_cleanup.declined[0].id == "m1"
    assert [r.day for r in step.records.reviews] == ["2026-12-07"]
    assert again.records is step.records
    assert "approved by Allison Reed" in note and "team notice" in note and "1 meeting declined" in note
    pulls = ctx["ti"].pulls
    assert max(pulls.values()) == 1, pulls  # the plan, each record, the approval: once each
    assert len(rosters) == 1


def test_a_run_without_a_plan_says_so(plan):
    run = AbsenceRun.from_context(context("team_notice", {}))
    with pytest.raises(NotPlanned, match="was not validated"):
        run.plan  # noqa: B018 - reading it is the test


def test_the_note_is_written_through_the_api_and_never_fails_the_step(server, team, plan, monkeypatch):  # noqa: F811
    monkeypatch.setattr(run_module, "team_for_run", lambda: team)
    monkeypatch.setenv("AIRFLOW_CONN_OOO_AIRFLOW", json.dumps(
        {"conn_type": "http", "host": server.url, "login": "ooo-bot", "password": "pw"}))
    run = AbsenceRun.from_context(context("calendar_cleanup", {("validate", "plan"): plan.to_dict()}))
    run.keep_note(waiting=False)
    assert server.notes[RUN_ID].startswith(
        "**Maya Patel · Dec 7–11 · waiting for Allison Reed's approval until Dec 7**")

    monkeypatch.setenv("AIRFLOW_CONN_OOO_AIRFLOW", json.dumps(
        {"conn_type": "http", "host": "http://127.0.0.1:9", "login": "ooo-bot", "password": "pw"}))
    AbsenceRun.from_context(context("calendar_cleanup", {("validate", "plan"): plan.to_dict()})).keep_note()


class TaskOnItsTry(FakeTaskInstance):
    def __init__(self, task_id: str, xcoms: dict[tuple[str, str], Any], try_number: int):
        super().__init__(task_id, xcoms)
        self.try_number = try_number


def test_a_first_try_reads_only_the_records_of_the_steps_before_it(team, plan, monkeypatch):
    monkeypatch.setattr(run_module, "team_for_run", lambda: team)
    xcoms = {("validate", "plan"): plan.to_dict(),
             ("calendar_cleanup", "return_value"): {"ooo_event_id": "x", "declined": [{"id": "m1"}]},
             ("auto_reply_on", "return_value"): {"enabled": True}}  # as after a clear of team_notice
    first = TaskOnItsTry("team_notice", xcoms, try_number=1)
    step = AbsenceRun.from_context({"ti": first, "dag_run": SimpleNamespace(run_id=RUN_ID)}).step_context()

    assert step.first_try and step.records.calendar_cleanup is not None and step.records.auto_reply_on is None
    assert {task for task, _ in first.pulls} == {"validate", "calendar_cleanup"}  # not the 7 after it

    again = TaskOnItsTry("team_notice", xcoms, try_number=2)  # a retry, or a clear: anything may have run
    step = AbsenceRun.from_context({"ti": again, "dag_run": SimpleNamespace(run_id=RUN_ID)}).step_context()
    assert not step.first_try and step.records.auto_reply_on is not None
    assert {"auto_reply_on", "sms_review", "return_digest"} <= {task for task, _ in again.pulls}


def test_a_step_released_after_the_run_was_planned_reads_every_record(team, plan, monkeypatch):
    """A release's new step runs at once in a run already past its place (design §8): to tell that it came
    too late it must see the records of the steps after it, so its first try reads them all."""
    monkeypatch.setattr(run_module, "team_for_run", lambda: team)
    before_the_step = dataclasses.replace(plan.timeline, moments={k: m for k, m in plan.timeline.moments.items()
                                                                   if k != "customer_notice"})
    xcoms = {("validate", "plan"): dataclasses.replace(plan, timeline=before_the_step).to_dict(),
             ("buddy_handover", "return_value"): {"channel": "D1", "ts": "1.2", "posted": True}}
    late = TaskOnItsTry("customer_notice", xcoms, try_number=1)
    step = AbsenceRun.from_context({"ti": late, "dag_run": SimpleNamespace(run_id=RUN_ID)}).step_context()
    assert step.records.buddy_handover is not None  # the step after it: done before it ran

    planned = TaskOnItsTry("customer_notice", {**xcoms, ("validate", "plan"): plan.to_dict()}, try_number=1)
    step = AbsenceRun.from_context({"ti": planned, "dag_run": SimpleNamespace(run_id=RUN_ID)}).step_context()
    assert step.records.buddy_handover is None  # in its plan: only the steps before it
