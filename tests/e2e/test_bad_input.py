"""Bad absences through the REST API, as a form or a script would send them: each is refused with
a message a person can act on, before anything is touched, and the scheduler carries on.

Airflow refuses what the params' schema rules out (types, formats, lengths: HTTP 400 naming the
param); the ``validate`` task refuses the rest (unknown people, dates, overlaps, control
characters), and its run note says why. Nothing reaches a calendar, mailbox, channel or queue.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from devstack.stack import Stack
from ooo.airflow_api import DAG_ID, AirflowApiError
from sandbox import SandboxServer
from tests.e2e.stack import by_task, finished, planned, real_stack, state_of

pytestmark = [pytest.mark.e2e, pytest.mark.scheduler]

DOMAIN = "@yellowstonelocal.com"
SAM, MAYA, JORDAN, PRIYA, TOM = (f"{n}{DOMAIN}" for n in ("sam.okafor", "maya.patel", "jordan.reyes",
                                                          "priya.nair", "tom.becker"))
DROP = object()  # leave the param out
#: Runs filed together. The embedded default's SQLite serialises every write, and a burst of dozens
#: of validations at once on two cores stalls the API server past a client's 30 s timeout.
FILED_AT_ONCE = 6


def day(offset: int) -> str:
    return (dt.date.today() + dt.timedelta(days=offset)).isoformat()


BASE = {"employee": SAM, "start_date": day(60), "end_date": day(62), "kind": "planned", "reachable": False,
        "note": ""}
#: Refused by Airflow's params schema: (what, params changed, the param the 400 names).
BY_SCHEMA: list[tuple[str, dict[str, Any], str]] = [
    ("no employee", {"employee": DROP}, "employee"),
    ("employee a number", {"employee": 42}, "employee"),
    ("employee not an email", {"employee": "sam"}, "employee"),
    ("employee empty", {"employee": ""}, "employee"),
    ("employee an object", {"employee": {"email": SAM}}, "employee"),
    ("no first day", {"start_date": DROP}, "start_date"),
    ("first day d/m/y", {"start_date": "31/12/2026"}, "start_date"),
    ("first day month 13", {"start_date": "2026-13-01"}, "start_date"),
    ("first day Feb 30", {"start_date": "2026-02-30"}, "start_date"),
    ("first day a number", {"start_date": 20261201}, "start_date"),
    ("first day a date-time", {"start_date": "2026-12-01T09:00:00"}, "start_date"),
    ("first day empty", {"start_date": ""}, "start_date"),
    ("first day not zero-padded", {"start_date": "2026-1-5"}, "start_date"),
    ("last day a word", {"end_date": "tomorrow"}, "end_date"),
    ("last day null", {"end_date": None}, "end_date"),
    ("kind unknown", {"kind": "vacation"}, "kind"),
    ("kind null", {"kind": None}, "kind"),
    ("kind empty", {"kind": ""}, "kind"),
    ("reachable a word", {"reachable": "yes"}, "reachable"),
    ("reachable a number", {"reachable": 1}, "reachable"),
    ("reachable null", {"reachable": None}, "reachable"),
    ("note over 500 characters", {"note": "x" * 501}, "note"),
    ("note of 100,000 characters", {"note": "<b>" * 33_334}, "note"),
    ("note a number", {"note": 42}, "note"),
    ("a NUL in the note", {"note": "a\x00b"}, "note"),  # PostgreSQL's JSONB could not store the conf
    ("a NUL in the employee", {"employee": "sam\x00.okafor@yellowstonelocal.com"}, "employee"),
    ("buddy a number", {"backup_buddy": 123}, "backup_buddy"),
    ("buddy a list", {"backup_buddy": [MAYA]}, "backup_buddy"),
    ("approved_by a number", {"approved_by": 5}, "approved_by"),
    ("dry_run a word", {"dry_run": "yes"}, "dry_run"),
]


def kolkata_yesterday() -> str:
    return (dt.datetime.now(ZoneInfo("Asia/Kolkata")).date() - dt.timedelta(days=1)).isoformat()


#: Refused by the validate task: (what, params changed, what its note says).
BY_VALIDATE: list[tuple[str, dict[str, Any], str]] = [
    ("someone not in the roster", {"employee": f"nobody{DOMAIN}"}, "is not in the Client Services roster"),
    ("a personal address", {"employee": "sam.okafor@gmail.com"}, "is not in the Client Services roster"),
    ("HTML in the address", {"employee": f"<script>alert(1)</script>{DOMAIN}"}, "is not in the"),
    ("Slack mrkdwn in the address", {"employee": f"<!channel>{DOMAIN}"}, "is not in the Client Services roster"),
    ("a bidi override in the address", {"employee": f"sam.okafor\u202e{DOMAIN}"}, "is not in the"),
    ("a zero-width space in the address", {"employee": f"sam.okafor\u200b{DOMAIN}"}, "is not in the"),
    ("a Cyrillic look-alike", {"employee": f"\u0455am.okafor{DOMAIN}"}, "is not in the Client Services roster"),
    ("an address of 5,000 characters", {"employee": "s" * 5000 + DOMAIN}, "is not in the Client Services roster"),
    ("a buddy not in the roster", {"backup_buddy": f"nobody{DOMAIN}"}, "backup_buddy nobody"),
    ("a buddy outside the company", {"backup_buddy": "friend@gmail.com"}, "is not in the Client Services roster"),
    ("their own buddy", {"backup_buddy": SAM}, "cannot be their own backup buddy"),
    ("no buddy in the roster", {"employee": f"allison.reed{DOMAIN}"}, "has no backup buddy in the roster"),
    ("last day before the first", {"start_date": day(62), "end_date": day(60)}, "is before start_date"),
    ("31 days, over the limit", {"end_date": day(90)}, "longer than the team's limit of 30"),
    ("to the year 9999", {"end_date": "9999-12-31"}, "longer than the team's limit"),
    ("a typo in the year", {"start_date": "2062-12-01", "end_date": "2062-12-03"}, "more than two years away"),
    ("unexpected, at the end of the calendar", {"kind": "unexpected", "start_date": "9999-12-30",
                                                "end_date": "9999-12-31"}, "more than two years away"),
    ("planned, starting yesterday", {"start_date": day(-1), "end_date": day(1)}, "cannot start in the past"),
    ("planned, starting in 2020", {"start_date": "2020-03-02", "end_date": "2020-03-03"},
     "cannot start in the past"),
    ("planned, from year 1", {"start_date": "0001-01-01", "end_date": "0001-01-02"}, "cannot start in the past"),
    ("planned, from Kolkata's yesterday", {"employee": PRIYA, "backup_buddy": MAYA,
                                           "start_date": kolkata_yesterday(), "end_date": day(3)},
     "in Asia/Kolkata"),
    ("approved by a colleague", {"approved_by": JORDAN}, "is not a manager in the roster"),
    ("approved by a stranger", {"approved_by": "boss@gmail.com"}, "approved_by boss@gmail.com is not in"),
    ("approved, but filed by someone who may not record it", {"approved_by": f"allison.reed{DOMAIN}"},
     "approved_by can be recorded only by an approvals login (team.approvers: hr-integration) or by Allison Reed"),
    ("approved by another team's manager", {"approved_by": f"casey.morgan{DOMAIN}", "employee": SAM},
     "approved_by can be recorded only by"),
    ("a bell in the note", {"note": "ring\x07"}, "note contains control characters (U+0007)"),
    ("a bidi override in the note", {"note": "\u202egnirts"}, "U+202E"),
    ("a bidi isolate in the note", {"note": "\u2066x\u2069"}, "U+2066"),
    ("a byte-order mark in the note", {"note": "\ufeffhello"}, "U+FEFF"),
    ("a form feed in the note", {"note": "page\x0cbreak"}, "U+000C"),
    ("several problems at once", {"employee": f"nobody{DOMAIN}", "end_date": day(59), "note": "\x07"},
     "is not in the Client Services roster"),
]


@pytest.fixture(scope="module")
def stack(tmp_path_factory, metadata_db) -> Iterator[tuple[Stack, SandboxServer]]:
    with real_stack(tmp_path_factory.mktemp("airflow"), env=metadata_db) as running:
        yield running


def test_bad_absences_are_refused_with_a_clear_message_and_touch_nothing(stack):
    airflow, sandbox = stack
    # In flight first: Sam out in two months (approved when filed), so overlaps can be tried.
    hr = airflow.api_as("hr-integration")  # the login that may record approvals (team.approvers)
    sams = hr.trigger_absence(planned(SAM, in_days=60, days=3, approved_by=f"allison.reed{DOMAIN}"))
    airflow.api.wait_for(sams["dag_run_id"], lambda tis: state_of("team_notice")(tis) == "deferred", timeout=180)
    overlaps = [
        ("Sam out twice at once", {"start_date": day(61), "end_date": day(64)}, "already has an absence from"),
        ("Sam out twice, inside", {"start_date": day(61), "end_date": day(61)}, "already has an absence from"),
        ("a buddy who is out", {"employee": MAYA, "backup_buddy": SAM, "start_date": day(62), "end_date": day(65)},
         "The backup buddy Sam Okafor is out"),
        ("another whose buddy is out", {"employee": PRIYA, "start_date": day(58), "end_date": day(60)},
         "The backup buddy Sam Okafor is out"),
    ]
    before = len(sandbox.sandbox.requests)

    refused_by_schema = []
    for i, (what, changes, param) in enumerate(BY_SCHEMA):
        conf = {k: v for k, v in {**BASE, **changes}.items() if v is not DROP}
        with pytest.raises(AirflowApiError) as refused:
            airflow.api.trigger(DAG_ID, f"bad-schema-{i}", conf)
        assert " 400 " in str(refused.value) and f"param {param}" in str(refused.value), (what, refused.value)
        refused_by_schema.append(what)
    with pytest.raises(AirflowApiError, match="exists already"):  # the same absence twice
        hr.trigger_absence(planned(SAM, in_days=60, days=3, approved_by=f"allison.reed{DOMAIN}"))

    runs = {}
    cases = list(enumerate(BY_VALIDATE + overlaps))
    for first in range(0, len(cases), FILED_AT_ONCE):  # as a busy morning files them, not all in one second
        batch = {}
        for i, (what, changes, says) in cases[first:first + FILED_AT_ONCE]:
            batch[what] = (airflow.api.trigger(DAG_ID, f"bad-validate-{i}", {**BASE, **changes})["dag_run_id"], says)
        for what, (run_id, says) in batch.items():
            airflow.api.wait_for(run_id, finished(airflow, run_id), timeout=300, every=2)
            states = by_task(airflow.api.task_instances(run_id))
            assert airflow.api.run(run_id)["state"] == "failed" and states.pop("validate") == "failed", (what, states)
            assert set(states.values()) <= {"upstream_failed", None}, (what, states)
            note = airflow.api.run(run_id)["note"] or ""
            assert note.startswith("**Rejected**, nothing was changed") and says in note.replace("\\", ""), (
                what, note)
        runs.update(batch)

    total = len(refused_by_schema) + 1 + len(runs)
    print(f"\n{total} bad absences refused: {len(refused_by_schema)} by the params' schema (400), 1 as a "
          f"duplicate (409), {len(runs)} by validate")
    assert total >= 60
    touched = [r for r in list(sandbox.sandbox.requests)[before:]]
    assert touched == []  # no calendar, mailbox, channel, text queue or CRM was touched

    # The scheduler carries on: a good absence filed now goes through.
    good = hr.trigger_absence(planned(TOM, in_days=50, days=2, approved_by=f"casey.morgan{DOMAIN}"))
    tis = airflow.api.wait_for(good["dag_run_id"], lambda tis: state_of("calendar_cleanup")(tis) == "success",
                               timeout=180)
    assert by_task(tis)["validate"] == "success"
