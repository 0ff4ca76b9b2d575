"""The real ooo_absence DAG run through Airflow (``dag.test``) against the sandbox."""

from __future__ import annotations

import datetime as dt

import pendulum
import pytest

from tests.e2e.conftest import run_absence

pytestmark = pytest.mark.e2e
JORDAN = "jordan.reyes@yellowstonelocal.com"
ORDER = ["validate", "calendar_cleanup", "team_notice", "buddy_handover", "voicemail_reminder",
         "auto_reply_on", "sms_review", "auto_reply_off", "return_digest"]


def states(tis) -> dict[str, str]:
    return {t.task_id if t.map_index < 0 else f"{t.task_id}[{t.map_index}]": t.state for t in tis}


def test_a_backfilled_absence_runs_every_step_in_timeline_order(absence_dag, connections):
    # Out sick Mon 2026-11-02..Fri 11-06, filed as of that morning: every moment has passed.
    filed = pendulum.datetime(2026, 11, 2, 7, 45, tz="America/Chicago")
    run, tis = run_absence(absence_dag, {"employee": JORDAN, "start_date": "2026-11-02",
                                         "end_date": "2026-11-06", "kind": "unexpected"}, filed)
    assert run.state == "success", states(tis)
    by_id = states(tis)
    assert by_id.pop("approval") == "skipped"  # unexpected: no approval
    assert set(by_id.values()) == {"success"}, by_id
    reviews = sorted((t for t in tis if t.task_id == "sms_review"), key=lambda t: t.map_index)
    assert [t.rendered_map_index for t in reviews] == [
        "2026-11-02", "2026-11-03", "2026-11-04", "2026-11-05", "2026-11-06", "2026-11-09 (return morning)"]
    # each step started after the one before it had finished
    ends = {}
    for t in tis:
        ends[t.task_id] = max(ends.get(t.task_id, t.end_date), t.end_date)
    starts = {}
    for t in tis:
        starts[t.task_id] = min(starts.get(t.task_id, t.start_date), t.start_date)
    for before, after in zip(ORDER, ORDER[1:]):
        assert ends[before] <= starts[after], f"{after} started before {before} ended"


def test_a_rejected_absence_runs_nothing_after_validate(absence_dag, connections):
    filed = pendulum.datetime(2026, 11, 20, 15, 0, tz="UTC")
    run, tis = run_absence(absence_dag, {"employee": JORDAN, "start_date": "2026-12-07", "end_date": "2026-12-04",
                                         "backup_buddy": JORDAN}, filed)
    assert run.state == "failed"
    by_id = states(tis)
    assert by_id.pop("validate") == "failed"
    assert set(by_id.values()) == {"upstream_failed"}, by_id
    assert list(connections.sandbox.requests) == []  # no calendar, mailbox or channel was touched


def test_an_absence_filed_after_it_ended_skips_what_has_lapsed(absence_dag, connections):
    filed = pendulum.datetime(2026, 11, 20, 16, 0, tz="UTC")  # after the absence was over
    run, tis = run_absence(absence_dag, {"employee": JORDAN, "start_date": "2026-11-02",
                                         "end_date": "2026-11-06", "kind": "unexpected"}, filed)
    by_id = states(tis)
    assert run.state == "success", by_id
    for step in ("team_notice", "buddy_handover", "voicemail_reminder", "auto_reply_on"):
        assert by_id[step] == "skipped", step
    assert by_id["calendar_cleanup"] == by_id["auto_reply_off"] == by_id["return_digest"] == "success"
