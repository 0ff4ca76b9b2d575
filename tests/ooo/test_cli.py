"""``ooo plan``: the DAG's validation and the timeline's preview, from a shell."""

from __future__ import annotations

import datetime as dt
import json
import os

import pytest

from ooo import cli
from ooo.absence import AbsenceRejected, parse_absence
from ooo.cli import main
from ooo.preview import preview
from ooo.timeline import plan_timeline
from tests.ooo.test_airflow_api import server  # noqa: F401 - the fake API server fixture

MAYA = "maya.patel@yellowstonelocal.com"
JORDAN = "jordan.reyes@yellowstonelocal.com"
NOW = "2026-11-23T09:00:00-07:00"


@pytest.fixture(autouse=True)
def no_airflow(monkeypatch):
    monkeypatch.delenv("OOO_AIRFLOW_PASSWORD", raising=False)


def plan(capsys, *args: str) -> tuple[int, str, str]:
    code = main(["plan", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_the_json_is_the_preview_of_the_absence_the_dag_would_plan(capsys, team):
    code, out, _ = plan(capsys, "--employee", MAYA, "--start", "2026-12-07", "--end", "2026-12-11", "--reachable",
                        "--note", "Ski trip", "--now", NOW, "--format", "json")
    assert code == 0
    now = dt.datetime.fromisoformat(NOW)
    absence = parse_absence({"employee": MAYA, "start_date": "2026-12-07", "end_date": "2026-12-11",
                             "kind": "planned", "reachable": True, "note": "Ski trip"}, team, now)
    expected = preview(absence, plan_timeline(absence, team, now), now,
                       notes=["absences in flight (no Airflow password given); the run's validate checks them"])
    assert json.loads(out) == expected.to_dict()
    assert json.loads(out)["steps"][0]["at"] == "2026-11-23T09:00:00-07:00"


def test_the_text_names_the_absence_and_lists_every_step(capsys):
    code, out, _ = plan(capsys, "--employee", MAYA, "--start", "2026-12-07", "--end", "2026-12-11", "--now", NOW)
    assert code == 0
    assert out.startswith("Maya Patel (maya.patel@yellowstonelocal.com, CSM): planned absence")
    assert "Not checked: absences in flight" in out
    assert sum(" sms_review " in line for line in out.splitlines()) == 6


def test_a_bad_absence_exits_with_the_dags_messages(capsys, team):
    bad = {"employee": JORDAN, "start_date": "2026-12-07", "end_date": "2026-12-04", "backup_buddy": JORDAN,
           "kind": "sick", "reachable": False, "note": ""}
    with pytest.raises(AbsenceRejected) as dag_says:
        parse_absence(bad, team, dt.datetime.fromisoformat(NOW))
    code, out, err = plan(capsys, "--employee", JORDAN, "--start", "2026-12-07", "--end", "2026-12-04",
                          "--buddy", JORDAN, "--kind", "sick", "--now", NOW, "--format", "json")
    assert code == 2
    assert err == str(dag_says.value) + "\n"
    assert json.loads(out) == {"rejected": dag_says.value.problems}
    assert len(dag_says.value.problems) == 3  # own buddy, end before start, kind


def test_missing_inputs_are_the_absences_problems_too(capsys):
    code, _, err = plan(capsys, "--now", NOW)
    assert code == 2
    assert "- employee is missing: give the person's work email." in err
    assert "- start_date is missing: give a date as YYYY-MM-DD." in err


def test_now_needs_an_offset(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["plan", "--employee", MAYA, "--start", "2026-12-07", "--end", "2026-12-11", "--now", "2026-11-23T09:00"])
    assert exit_.value.code == 2
    assert "has no UTC offset" in capsys.readouterr().err


def test_with_an_airflow_password_absences_in_flight_are_checked_through_the_rest_api(capsys, monkeypatch):
    # Jordan (Maya's buddy) is out Dec 8-9 in a run in flight; two pages of in-flight runs.
    runs = [f"absence__someone{i}@yellowstonelocal.com__2026-12-01__2026-12-02" for i in range(100)]
    runs.append(f"absence__{JORDAN}__2026-12-08__2026-12-09")
    asked = []

    class Api:
        def call(self, method, path, params=None, **_):
            asked.append((method, path, params["state"], params["offset"]))
            page = runs[params["offset"]: params["offset"] + params["limit"]]
            return {"dag_runs": [{"dag_run_id": r} for r in page], "total_entries": len(runs)}

    monkeypatch.setattr(cli, "_api", lambda args: Api())
    code, _, err = plan(capsys, "--employee", MAYA, "--start", "2026-12-07", "--end", "2026-12-11", "--now", NOW,
                        "--password", "secret")
    assert code == 2
    assert err.splitlines()[1:] == ["- The backup buddy Jordan Reyes is out 2026-12-08 to 2026-12-09, overlapping "
                                    "this absence: choose another buddy in backup_buddy."]
    assert asked == [("GET", "dags/ooo_absence/dagRuns", ["queued", "running"], 0),
                     ("GET", "dags/ooo_absence/dagRuns", ["queued", "running"], 100)]


# -- a person never gets a traceback ----------------------------------------------------------------
RUN = "absence__maya.patel@yellowstonelocal.com__2026-12-07__2026-12-11"


def run_cli(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


@pytest.fixture
def airflow(server, monkeypatch):  # noqa: F811 - the fake API server of test_airflow_api
    monkeypatch.setenv("OOO_AIRFLOW_URL", server.url)
    monkeypatch.setenv("OOO_AIRFLOW_PASSWORD", "pw")
    return server


@pytest.mark.parametrize("command", [["cancel", "--run-id", RUN], ["shorten", "--run-id", RUN, "--end", "2026-12-08"],
                                     ["digest-preview", "--run-id", RUN]])
def test_a_missing_run_is_one_line_exit_2_and_nothing_filed(capsys, airflow, command):
    code, _, err = run_cli(capsys, *command)
    assert code == 2 and one_line(err) == (f"ooo: There is no absence run {RUN!r}: copy the run id from ooo_absence's "
                                           "runs (absence__<employee>__<first day>__<last day>).")
    assert [m for m, *_ in airflow.seen if m != "GET" and m != "POST"] == []
    assert [p for m, p, _ in airflow.seen if m == "POST" and p != "/auth/token"] == []  # nothing filed


@pytest.mark.parametrize("run_id", ["absence__a/b@x__2026-12-07__2026-12-11", "absence__a@x__2026-12-07__2026-12-11#",
                                    "absence__a%2Fb@x__2026-12-07__2026-12-11", "manual__2026-12-01T00:00:00+00:00",
                                    "absence__a\x00@x__2026-12-07__2026-12-11"])
def test_a_run_id_that_is_no_absence_is_refused_before_airflow_is_asked(capsys, airflow, run_id):
    code, _, err = run_cli(capsys, "cancel", "--run-id", run_id)
    assert code == 2 and "is not an absence's run id" in one_line(err)
    assert airflow.seen == []


def test_no_password_is_one_line_naming_the_variables(capsys, monkeypatch):
    monkeypatch.delenv("OOO_AIRFLOW_PASSWORD", raising=False)
    for command in (["cancel", "--run-id", RUN], ["shorten", "--run-id", RUN, "--end", "2026-12-08"],
                    ["trigger", "--employee", MAYA, "--start", "2026-12-07", "--end", "2026-12-11"]):
        code, _, err = run_cli(capsys, *command)
        assert code == 2 and "set OOO_AIRFLOW_PASSWORD (or --password)" in one_line(err)


def test_airflow_unreachable_is_one_line_exit_1(capsys, monkeypatch):
    monkeypatch.setenv("OOO_AIRFLOW_PASSWORD", "pw")
    code, _, err = run_cli(capsys, "cancel", "--run-id", RUN, "--api", "http://127.0.0.1:9")
    assert code == 1 and one_line(err) == "ooo: Airflow does not answer at http://127.0.0.1:9: is it running? " \
                                          "(OOO_AIRFLOW_URL or --api)"


def test_bad_dates_are_refused_before_anything_is_filed(capsys, airflow):
    code, _, err = run_cli(capsys, "trigger", "--employee", MAYA, "--start", "2026-12-11", "--end", "2026-12-07")
    assert code == 2 and "is before --start" in one_line(err)
    code, _, err = run_cli(capsys, "trigger", "--employee", MAYA, "--start", "12/07/2026", "--end", "2026-12-11")
    assert code == 2 and "is not a date" in one_line(err)
    assert [p for m, p, _ in airflow.seen if m == "POST" and p != "/auth/token"] == []


def test_no_connections_and_no_sandbox_is_one_line(capsys, monkeypatch):
    for name in [n for n in os.environ if n.startswith("AIRFLOW_CONN_OOO_")]:
        monkeypatch.delenv(name)
    code, _, err = run_cli(capsys, "digest-preview", "--employee", MAYA, "--start", "2026-12-07", "--end", "2026-12-11",
                           "--sandbox", "http://127.0.0.1:9")
    assert code == 2 and "no ooo_* connection is configured" in one_line(err)


def test_debug_shows_the_traceback(monkeypatch):
    monkeypatch.setenv("OOO_AIRFLOW_PASSWORD", "pw")
    from ooo.airflow_api import AirflowUnreachable

    with pytest.raises(AirflowUnreachable):
        main(["--debug", "cancel", "--run-id", RUN, "--api", "http://127.0.0.1:9"])


def test_half_days_and_a_client_visit_from_the_shell(capsys):
    code, out, _ = plan(capsys, "--employee", MAYA, "--start", "2026-12-07", "--end", "2026-12-08", "--kind",
                        "client_visit", "--client-company", "bigskyoutfitters.com", "--start-half", "afternoon",
                        "--end-half", "morning", "--now", NOW)
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == ("Maya Patel (maya.patel@yellowstonelocal.com, CSM): client visit to bigskyoutfitters.com, "
                        "Monday, December 7, 2026 from 12:00 to Tuesday, December 8, 2026 until 12:00 (1 day)")
    assert lines[1].endswith("Back on Tuesday, December 8, 2026 at 12:00.")
    [requests] = [line for line in lines if " visit_requests " in line]
    assert requests.startswith("Mon 2026-12-07 12:00 MST") and "scheduled" in requests
    code, out, _ = plan(capsys, "--employee", MAYA, "--start", "2026-12-07", "--end", "2026-12-07",
                        "--start-half", "afternoon", "--end-half", "morning", "--now", NOW, "--format", "json")
    assert code == 2 and "leave no time out" in json.loads(out)["rejected"][0]


def test_the_json_says_the_halves_and_the_client(capsys):
    code, out, _ = plan(capsys, "--employee", MAYA, "--start", "2026-12-07", "--end", "2026-12-11", "--kind",
                        "client_visit", "--client-company", "9100001", "--end-half", "morning", "--now", NOW,
                        "--format", "json")
    shown = json.loads(out)
    assert code == 0 and (shown["start_half"], shown["end_half"], shown["client_company"]) == ("full", "morning",
                                                                                               "9100001")
    assert (shown["out_from"], shown["back_at"]) == ("2026-12-07T00:00:00-07:00", "2026-12-11T12:00:00-07:00")
    assert shown["return_date"] == "2026-12-11"


def test_trigger_files_the_half_days_and_the_client_with_airflow(capsys, airflow):
    code, out, _ = run_cli(capsys, "trigger", "--employee", MAYA, "--start", "2026-12-07", "--end", "2026-12-08",
                           "--kind", "client_visit", "--client-company", "bigskyoutfitters.com", "--start-half",
                           "afternoon")
    assert code == 0 and out.startswith("Filed absence__maya.patel@yellowstonelocal.com__2026-12-07__2026-12-08")
    [filed] = [body for m, p, body in airflow.seen if (m, p) == ("POST", "/api/v2/dags/ooo_absence/dagRuns")]
    sent = filed["conf"]
    assert (sent["kind"], sent["client_company"], sent["start_half"]) == ("client_visit", "bigskyoutfitters.com",
                                                                          "afternoon")
    assert "end_half" not in sent  # left out: the DAG's default (a whole last day)
