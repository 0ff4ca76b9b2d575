"""The DAG folder imports cleanly and ooo_absence keeps its contract (id, params, steps)."""

from __future__ import annotations

import dataclasses
import warnings
from pathlib import Path

import pytest
from airflow.dag_processing.dagbag import DagBag

DAGS = Path(__file__).resolve().parents[2] / "dags"


@pytest.fixture(scope="module")
def dagbag():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        bag = DagBag(dag_folder=str(DAGS))  # not include_examples=: TypeError on 3.3.2 (Airflow #70283)
    bag.caught_warnings = [w for w in caught if str(DAGS) in (w.filename or "") or "ooo" in (w.filename or "")]
    return bag


def test_no_import_errors(dagbag):
    assert dagbag.import_errors == {}
    assert sorted(dagbag.dags) == ["ooo_absence", "ooo_cancel", "ooo_intake", "ooo_shorten"]


def test_no_warnings_from_our_code(dagbag):
    assert [f"{w.category.__name__}: {w.message} ({w.filename})" for w in dagbag.caught_warnings] == []


def test_every_run_follows_the_release_deployed_now(dagbag):
    """No run is pinned to the DAG file it started with, even under a versioned bundle: plugins/ooo and the
    templates are outside any bundle, so a pinned DAG would run on another release's package."""
    assert all(dag.disable_bundle_versioning for dag in dagbag.dags.values())


def test_params_are_the_contract(dagbag):
    params = dagbag.dags["ooo_absence"].params
    contract = {"employee", "start_date", "end_date", "kind", "backup_buddy", "reachable", "note"}
    assert contract <= set(params)
    for added in set(params) - contract:  # additions must not break forms and scripts written to the contract
        assert params[added] in (None, False, "full"), f"{added} must be optional"  # "full": a whole day
    schema = {name: params.get_param(name).schema for name in params}
    assert schema["employee"]["format"] == "email"
    assert schema["start_date"]["format"] == schema["end_date"]["format"] == "date"
    assert schema["kind"]["enum"] == ["planned", "unexpected", "client_visit"]  # design §9 adds client_visit
    assert (schema["start_half"]["enum"], schema["end_half"]["enum"]) == (["full", "afternoon"], ["full", "morning"])
    assert "null" in schema["client_company"]["type"]
    assert "null" in schema["backup_buddy"]["type"] and "null" in schema["note"]["type"]
    assert schema["reachable"]["type"] == "boolean"


def test_steps_run_in_the_procedures_order(dagbag):
    dag = dagbag.dags["ooo_absence"]
    order = ["validate", "approval", "calendar_cleanup", "team_notice", "customer_notice", "buddy_handover",
             "voicemail_reminder", "auto_reply_on", "slack_status_on", "visit_requests", "sms_review",
             "auto_reply_off", "slack_status_off", "return_digest"]
    assert set(dag.task_ids) == set(order)
    for before, after in zip(order, order[1:], strict=False):
        upstream = dag.get_task(after).upstream_task_ids
        # the daily reviews also read their days from validate's return value
        assert upstream - {"validate"} == {before} if after == "sms_review" else upstream == {before}, after


def test_a_step_added_since_an_absence_was_planned_skips_in_that_run(dagbag, make_absence, team):
    from ooo.timeline import plan_timeline

    absence = make_absence()
    planned = plan_timeline(absence, team, absence.requested_at)  # as a release without the step planned it
    old = dataclasses.replace(planned, moments={k: m for k, m in planned.moments.items() if k != "customer_notice"})
    step = dagbag.dags["ooo_absence"].get_task("customer_notice")
    assert step._due(old) == (old.back_at, "not in this absence's plan: it was planned before customer_notice existed")
    assert step._due(planned) == (planned["team_notice"].at, None)


def test_waits_hold_no_timeout_and_reviews_go_one_at_a_time(dagbag):
    dag = dagbag.dags["ooo_absence"]
    for task in dag.tasks:
        assert task.execution_timeout is None, task.task_id
    assert dag.get_task("sms_review").max_active_tis_per_dagrun == 1
    assert dag.max_active_runs >= 1000  # every absence in flight is an active run, for weeks


def test_the_intake_runs_on_the_rosters_interval_one_run_at_a_time(dagbag):
    import datetime as dt

    from airflow.sdk.definitions.timetables.trigger import DeltaTriggerTimetable

    from ooo.team import load_team

    dag = dagbag.dags["ooo_intake"]
    every = load_team().intake.interval  # the roster's team.intake.interval_minutes
    assert every == dt.timedelta(minutes=5)
    assert dag.timetable == DeltaTriggerTimetable(every)
    assert dag.timetable != DeltaTriggerTimetable(every * 2)
    assert (dag.catchup, dag.max_active_runs) == (False, 1)
    assert dag.task_ids == ["read_calendars"]
    assert dag.get_task("read_calendars").retries == 0  # the next run picks up where one stopped


@pytest.mark.parametrize("dag_file", sorted(p.name for p in DAGS.glob("*.py")))
def test_dag_file_parses_quickly_without_heavy_imports(dag_file):
    import subprocess
    import sys

    code = ("import sys, runpy; runpy.run_path(sys.argv[1]); "
            "print(','.join(m for m in ('googleapiclient', 'slack_sdk', 'google.oauth2') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code, str(DAGS / dag_file)],
                         capture_output=True, text=True, check=True).stdout.strip().splitlines()[-1:]
    assert out in ([], [""]), f"heavy modules imported at DAG top level: {out}"
