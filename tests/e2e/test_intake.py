"""Absences filed from people's own out-of-office events, on real Airflow (``ooo_intake``, issue 23).

The roster turns the intake on with a one-minute interval. Events are made, moved and deleted in
the sandbox's Calendar as people do in Google Calendar; what is checked is what ops and managers
see in Airflow afterwards (the absence's run and its approval, the change runs, the notes) and
what is left on the calendar. The intake's own rules, case by case, are tests/ooo/test_intake.py.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from devstack.stack import Stack
from ooo.absence import run_id_for
from ooo.airflow_api import cancel_run_id, shorten_run_id
from ooo.services.google import GoogleWorkspace
from ooo.team import load_team
from sandbox import SandboxServer, connection_env
from sandbox.scenario import own_out_of_office
from tests.e2e.stack import answer, by_task, finished, real_stack, state_of

pytestmark = [pytest.mark.e2e, pytest.mark.scheduler]

DOMAIN = "@yellowstonelocal.com"
LENA, TOM, SAM, JORDAN = (f"{n}{DOMAIN}" for n in ("lena.fischer", "tom.becker", "sam.okafor", "jordan.reyes"))
INTAKE = "ooo_intake"


@pytest.fixture(scope="module")
def stack(tmp_path_factory, metadata_db) -> Iterator[tuple[Stack, SandboxServer]]:
    with real_stack(tmp_path_factory.mktemp("airflow"), env=metadata_db,
                    intake={"enabled": True, "interval_minutes": 1}) as running:
        yield running


def own_event(airflow: Stack, who: str, in_days: int, days: int) -> dict[str, Any]:
    """An out-of-office event as Calendar's form makes it: local midnight to the midnight after its last day."""
    zone = load_team(airflow.extra_env["OOO_TEAM_FILE"]).person(who).timezone
    first = dt.datetime.now(ZoneInfo(zone)).date() + dt.timedelta(days=in_days)

    def midnight(day: dt.date) -> dict[str, str]:
        return {"dateTime": dt.datetime.combine(day, dt.time(), ZoneInfo(zone)).isoformat(), "timeZone": zone}
    return {"eventType": "outOfOffice", "summary": "Out of office", "start": midnight(first),
            "end": midnight(first + dt.timedelta(days=days)),
            "outOfOfficeProperties": {"autoDeclineMode": "declineAllConflictingInvitations",
                                      "declineMessage": "Declined because I am out of office"}}


def absence_of(event: dict[str, Any], who: str) -> str:
    first = dt.date.fromisoformat(event["start"]["dateTime"][:10])
    back = dt.date.fromisoformat(event["end"]["dateTime"][:10])
    return run_id_for(who, first, back - dt.timedelta(days=1))


def wait_for_run(airflow: Stack, run_id: str, dag_id: str = "ooo_absence", timeout: float = 240) -> None:
    """Until the run exists (filed by an intake run, at most an interval and a run's length away)."""
    deadline = time.monotonic() + timeout
    while airflow.api.run_state(run_id, dag_id) is None:
        assert time.monotonic() < deadline, f"{run_id} was never filed"
        time.sleep(2)


def intake_runs(airflow: Stack) -> list[dict[str, Any]]:
    """The intake's runs, oldest first, with their notes."""
    runs = airflow.api.call("GET", f"dags/{INTAKE}/dagRuns", params={"limit": 100, "order_by": "start_date"})
    return [r for r in runs["dag_runs"] if r.get("start_date")]


def wait_for_intake_note(airflow: Stack, text: str, timeout: float = 240) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        found = [r for r in intake_runs(airflow) if text in (r.get("note") or "")]
        if found:
            return found[0]
        assert time.monotonic() < deadline, f"no intake run says {text!r}"
        time.sleep(2)


def note(airflow: Stack, run_id: str) -> str:
    return (airflow.api.run(run_id).get("note") or "").replace("\\", "")


def absences_of(airflow: Stack, who: str) -> set[str]:
    states = ("queued", "running", "success", "failed")
    return {r for r in airflow.api.run_ids(states) if r.startswith(f"absence__{who}__")}


def test_an_out_of_office_event_becomes_an_absence_awaiting_approval_at_the_next_intake(stack):
    airflow, sandbox = stack
    google = sandbox.sandbox.api("google")
    event = google.add_event(TOM, own_event(airflow, TOM, in_days=21, days=3))
    made = dt.datetime.fromisoformat(event["created"].replace("Z", "+00:00"))
    run_id = absence_of(event, TOM)

    wait_for_run(airflow, run_id)
    airflow.api.wait_for(run_id, lambda tis: state_of("approval")(tis) == "awaiting_input", timeout=120)

    assert airflow.api.run(run_id)["conf"]["kind"] == "planned"
    assert "waiting for Casey Morgan" in note(airflow, run_id)
    runs = intake_runs(airflow)
    filing = next(r for r in runs if f"filed: {run_id}" in (r.get("note") or ""))
    next_after = next((r for r in runs if dt.datetime.fromisoformat(r["start_date"]) > made), None)
    # the run under way when the event was made, or the next one: within one interval (none after it
    # yet: the one under way filed it)
    assert next_after is None or runs.index(filing) <= runs.index(next_after)
    assert absences_of(airflow, TOM) == {run_id}

    # the sample scenario's own event (Lena Fischer's, two weeks out) was filed the same way
    [lenas] = own_out_of_office(sandbox.sandbox.anchor, sandbox.sandbox.team)
    lena_id = run_id_for(LENA, lenas["first_day"], lenas["last_day"])
    airflow.api.wait_for(lena_id, lambda tis: state_of("approval")(tis) == "awaiting_input", timeout=120)


@pytest.mark.long  # three intakes of the calendar, a minute apart on the real clock
def test_approved_then_cut_short_then_deleted_the_absence_follows_the_event(stack, monkeypatch):
    airflow, sandbox = stack
    for name, value in connection_env(sandbox.sandbox.connections()).items():
        monkeypatch.setenv(name, value)  # Sam's own Calendar client, as his browser is
    sam = GoogleWorkspace("ooo_google", subject=SAM)
    google = sandbox.sandbox.api("google")
    event = google.add_event(SAM, own_event(airflow, SAM, in_days=21, days=5))
    run_id = absence_of(event, SAM)
    wait_for_run(airflow, run_id)
    answer(airflow, run_id, approve=True)
    airflow.api.wait_for(run_id, lambda tis: state_of("calendar_cleanup")(tis) == "success", timeout=180)

    # his own event is the absence's block: no second one
    assert [e["id"] for e in google.list_events(SAM) if e.get("eventType") == "outOfOffice"] == [event["id"]]
    assert airflow.api.xcom(run_id, "calendar_cleanup")["ooo_event_adopted"] is True

    shorter = own_event(airflow, SAM, in_days=21, days=3)
    sam.patch_event(event["id"], {"end": shorter["end"]})
    new_end = (dt.date.fromisoformat(shorter["end"]["dateTime"][:10]) - dt.timedelta(days=1)).isoformat()
    shorten = shorten_run_id(run_id, new_end)
    wait_for_run(airflow, shorten, "ooo_shorten")
    airflow.api.wait_for(shorten, finished(airflow, shorten, "ooo_shorten"), dag_id="ooo_shorten", timeout=180)

    assert airflow.api.run(shorten, "ooo_shorten")["state"] == "success"
    assert "back early" in note(airflow, run_id) and airflow.api.run(run_id)["state"] == "running"
    assert google.get_event(SAM, event["id"])["end"] == shorter["end"]  # as he left it

    assert sam.delete_event(event["id"])
    cancel = cancel_run_id(run_id)
    wait_for_run(airflow, cancel, "ooo_cancel")
    airflow.api.wait_for(cancel, finished(airflow, cancel, "ooo_cancel"), dag_id="ooo_cancel", timeout=180)

    assert airflow.api.run(cancel, "ooo_cancel")["state"] == "success"
    assert airflow.api.run(run_id)["state"] == "success"  # a cancelled absence is an outcome, not a failure
    assert "Cancelled: by " in note(airflow, run_id)
    assert [e for e in google.list_events(SAM) if e.get("eventType") == "outOfOffice"] == []
    assert absences_of(airflow, SAM) == {run_id}
    assert by_task(airflow.api.task_instances(cancel, "ooo_cancel")) == {"stop_absence": "success",
                                                                           "undo_absence": "success"}


def test_an_absence_filed_by_hand_first_is_not_filed_again(stack):
    airflow, sandbox = stack
    event = own_event(airflow, JORDAN, in_days=24, days=2)
    run_id = absence_of(event, JORDAN)
    first, last = run_id.split("__")[2:]
    by_hand = {"employee": JORDAN, "start_date": first, "end_date": last, "kind": "planned", "reachable": True,
               "note": "Filed by ops from the HR tool"}
    airflow.api.trigger_absence(by_hand)
    sandbox.sandbox.api("google").add_event(JORDAN, event)

    told = wait_for_intake_note(airflow, f"filed already: {run_id} exists")

    assert "not filed twice" in told["note"]
    assert absences_of(airflow, JORDAN) == {run_id}
    assert airflow.api.run(run_id)["conf"]["note"] == "Filed by ops from the HR tool"
