"""The intake: absences filed from people's own out-of-office events.

First the pure parts (what an event's change asks of its absences, planned or unexpected, the
params filed), then whole runs against the sandbox's Calendar (incremental sync, the 410 that
expires a token, recurring events, calendars that cannot be read), with Airflow's REST API as an
in-memory stand-in that keeps runs by id as Airflow does (a second trigger of one id is a 409).
The same runs on the real scheduler are tests/e2e/test_intake.py.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Iterator
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml

from ooo.absence import run_id_for
from ooo.airflow_api import IN_FLIGHT, RunExists, cancel_run_id, shorten_run_id
from ooo.intake import (
    ALREADY,
    CANCELLED,
    FILED,
    IGNORED,
    LEFT,
    NOT_FILED,
    SHORTENED,
    UNREAD,
    WAITING,
    Calendar,
    Filed,
    IntakeState,
    Report,
    Tracked,
    absence_params,
    kind_of,
    plan_changes,
    run_intake,
)
from ooo.keys import MARKER
from ooo.services import Services
from ooo.services.google import GoogleWorkspace
from ooo.team import SAMPLE_TEAM_FILE, Team, parse_team
from sandbox import SandboxServer, connection_env, start_sandbox
from sandbox.scenario import own_out_of_office

DOMAIN = "@yellowstonelocal.com"
LENA, TOM, JORDAN, MAYA, SAM, PRIYA = (f"{n}{DOMAIN}" for n in (
    "lena.fischer", "tom.becker", "jordan.reyes", "maya.patel", "sam.okafor", "priya.nair"))
MON = dt.date(2026, 12, 7)


def day(n: int) -> dt.date:
    return MON + dt.timedelta(days=n)


# -- what an event's change asks of its absences (pure) ------------------------------------------
def filed(first: dt.date, last: dt.date, end: dt.date | None = None, who: str = TOM) -> Filed:
    return Filed(run_id=run_id_for(who, first, last), start=first.isoformat(), end=(end or last).isoformat())


def test_a_new_event_files_its_days(team):
    assert plan_changes([], [], (day(0), day(4)), team).file == [(day(0), day(4))]


def test_an_event_cut_short_shortens_and_a_deleted_one_cancels(team):
    week = filed(day(0), day(4))
    assert plan_changes([week], [], (day(0), day(2)), team) == \
        dataclasses.replace(plan_changes([], [], None, team), shorten=[(week.run_id, day(2))])
    assert plan_changes([week], [], None, team).cancel == [week.run_id]
    assert plan_changes([week], [], (day(0), day(4)), team) == plan_changes([], [], None, team)  # nothing to do


def test_a_lengthened_event_files_the_extra_working_days(team):
    week = filed(day(0), day(4))
    changes = plan_changes([week], [], (day(0), day(8)), team)  # to the next Tuesday: the weekend is no day out
    assert (changes.file, changes.cancel, changes.shorten) == ([(day(7), day(8))], [], [])
    extra = filed(day(7), day(8))
    back = plan_changes([week, extra], [], (day(0), day(4)), team)  # cut back: the extra days are cancelled
    assert (back.cancel, back.shorten, back.file) == ([extra.run_id], [], [])
    shortened = filed(day(0), day(4), end=day(2))  # shortened before: only days 3-4 are filed again
    assert plan_changes([shortened], [], (day(0), day(4)), team).file == [(day(3), day(4))]


def test_a_start_moved_later_cancels_and_files_again_an_earlier_one_files_the_days_before(team):
    week = filed(day(0), day(4))
    later = plan_changes([week], [], (day(2), day(4)), team)
    assert (later.cancel, later.file) == ([week.run_id], [(day(2), day(4))])
    midweek = filed(day(2), day(4))
    earlier = plan_changes([midweek], [], (day(0), day(4)), team)
    assert (earlier.cancel, earlier.file) == ([], [(day(0), day(1))])


def test_an_absence_filed_by_hand_covers_its_days_and_is_never_changed(team):
    by_hand = run_id_for(TOM, day(0), day(4))
    assert plan_changes([], [by_hand], (day(0), day(4)), team) == plan_changes([], [], None, team)
    longer = plan_changes([], [by_hand], (day(0), day(8)), team)
    assert (longer.file, longer.left) == ([(day(7), day(8))], [])
    shorter = plan_changes([], [by_hand], (day(0), day(2)), team)
    assert (shorter.shorten, shorter.cancel, shorter.left) == ([], [], [by_hand])
    assert plan_changes([], [by_hand], None, team).left == [by_hand]


def test_planned_unexpected_or_too_late_by_when_the_event_was_made(team):
    tom = team.person(TOM)
    starts = dt.datetime(2026, 12, 7, tzinfo=ZoneInfo(tom.timezone))

    def event(made: dt.datetime) -> Tracked:
        return Tracked(id="e1", first="2026-12-07", last="2026-12-11", starts=starts.isoformat(),
                       made=made.isoformat())

    assert kind_of(day(0), event(starts - dt.timedelta(days=9)), tom, team.intake)[0] == "planned"
    assert kind_of(day(0), event(starts), tom, team.intake)[0] == "unexpected"  # on its start: unexpected
    assert kind_of(day(0), event(starts + dt.timedelta(hours=9)), tom, team.intake) == (
        "unexpected", "made 9 h after it began: unexpected, no approval")
    kind, why = kind_of(day(0), event(starts + dt.timedelta(days=3)), tom, team.intake)
    assert kind is None and why.startswith("made 3 days after it began, later than the roster's 24 h")
    # days added to an event (lengthened) count from their own first day
    assert kind_of(day(3), event(starts + dt.timedelta(days=2)), tom, team.intake)[0] == "planned"


def test_the_params_filed_carry_the_events_half_days_on_its_own_first_and_last_day(team):
    tom = team.person(TOM)
    event = Tracked(id="e1", first="2026-12-07", last="2026-12-09", start_half="afternoon", end_half="morning")
    halves = absence_params(tom, day(0), day(2), "planned", event, team)
    assert halves == {"employee": TOM, "start_date": "2026-12-07", "end_date": "2026-12-09", "kind": "planned",
                      "reachable": False, "note": "", "start_half": "afternoon", "end_half": "morning"}
    extra = absence_params(tom, day(1), day(2), "planned", event, team)  # not the event's first day
    assert (extra["start_half"], extra["end_half"]) == ("full", "morning")


def test_the_state_reads_back_from_its_json():
    state = IntakeState(calendars=[Calendar(person=TOM, sync="CAbc", events=[
        Tracked(id="e1", first="2026-12-07", last="2026-12-11", filed=[filed(day(0), day(4))], open=True)])])
    again = IntakeState.from_dict(json.loads(json.dumps(state.to_dict())))
    assert again == state
    assert IntakeState.from_dict({"calendars": "junk"}) == IntakeState()


# -- whole runs against the sandbox ----------------------------------------------------------------
class FakeAirflow:
    """Airflow's REST API as the intake calls it, in memory: one run per (DAG, run id), a second trigger
    a 409 (:class:`RunExists`); ``ooo_cancel`` and ``ooo_shorten`` act at once unless ``hold_changes``."""

    def __init__(self, hold_changes: bool = False):
        self.runs: dict[tuple[str, str], dict[str, Any]] = {}
        self.calls: list[tuple[str, ...]] = []
        self.hold_changes = hold_changes

    def _trigger(self, dag_id: str, run_id: str, conf: dict[str, Any]) -> dict[str, Any]:
        self.calls.append(("trigger", dag_id, run_id))
        if (dag_id, run_id) in self.runs:
            raise RunExists(f"{run_id} exists already")
        self.runs[(dag_id, run_id)] = {"conf": conf, "state": "running"}
        return {"dag_run_id": run_id}

    def trigger_absence(self, params: dict[str, Any], logical_date: str | None = None) -> dict[str, Any]:
        return self._trigger("ooo_absence", run_id_for(params["employee"], params["start_date"], params["end_date"]),
                             params)

    def trigger_cancel(self, absence_run_id: str) -> dict[str, Any]:
        answer = self._trigger("ooo_cancel", cancel_run_id(absence_run_id), {"absence_run_id": absence_run_id})
        if not self.hold_changes:
            self.finish_changes()
        return answer

    def trigger_shorten(self, absence_run_id: str, end: str) -> dict[str, Any]:
        return self._trigger("ooo_shorten", shorten_run_id(absence_run_id, end),
                             {"absence_run_id": absence_run_id, "end_date": end})

    def finish_changes(self) -> None:
        """The ``ooo_cancel`` runs do their work: their absences stop."""
        for (dag_id, _), run in self.runs.items():
            if dag_id == "ooo_cancel" and run["state"] == "running":
                run["state"] = "success"
                self.runs[("ooo_absence", run["conf"]["absence_run_id"])]["state"] = "failed"

    def run_state(self, run_id: str, dag_id: str = "ooo_absence") -> str | None:
        self.calls.append(("state", dag_id, run_id))
        return (self.runs.get((dag_id, run_id)) or {}).get("state")

    def run_ids(self, states: tuple[str, ...] = IN_FLIGHT, dag_id: str = "ooo_absence") -> set[str]:
        self.calls.append(("list", dag_id))
        return {r for (d, r), run in self.runs.items() if d == dag_id and run["state"] in states}

    def of(self, dag_id: str, who: str = "") -> dict[str, dict[str, Any]]:
        return {r: run for (d, r), run in self.runs.items() if d == dag_id and who in r}

    def absences(self, who: str) -> dict[str, dict[str, Any]]:
        return self.of("ooo_absence", f"__{who}__")


class Intake:
    """Runs of the intake over one team, its state kept as JSON between them (as the Airflow Variable is)."""

    def __init__(self, team: Team, airflow: FakeAirflow | None = None):
        self.team = team
        self.airflow = airflow or FakeAirflow()
        self.kept = "{}"
        self.saves = 0

    @property
    def state(self) -> IntakeState:
        return IntakeState.from_dict(json.loads(self.kept))

    def save(self, state: IntakeState) -> None:
        self.kept = json.dumps(state.to_dict())
        self.saves += 1

    def run(self, now: dt.datetime | None = None) -> Report:
        return run_intake(self.team, Services(), self.airflow, self.state, now or dt.datetime.now(dt.timezone.utc),
                          self.save)


def roster(working_every_day: bool = True, extra_people: int = 0, **intake: Any) -> Team:
    """The sample team with the intake on (``intake`` overrides its settings); every day a working day unless
    not ``working_every_day``; ``extra_people`` more CSMs."""
    raw = yaml.safe_load(SAMPLE_TEAM_FILE.read_text())
    if working_every_day:
        raw["team"]["working_days"] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
        raw["team"]["holidays"] = []
    raw["team"]["intake"] = {"enabled": True, **intake}
    for i in range(extra_people):
        raw["people"].append({"email": f"csm{i:03d}{DOMAIN}", "name": f"Extra Csm{i:03d}", "role": "csm",
                              "timezone": "America/Chicago", "manager": f"allison.reed{DOMAIN}",
                              "buddy": f"csm{i ^ 1:03d}{DOMAIN}" if (i ^ 1) < extra_people else f"maya.patel{DOMAIN}"})
    return parse_team(raw)


@pytest.fixture
def world(monkeypatch) -> Iterator[Any]:
    """``world(team)``: a seeded sandbox for ``team``, the connections pointed at it; ``.google`` its Calendar."""
    servers: list[SandboxServer] = []

    def make(team: Team) -> SandboxServer:
        server = start_sandbox(team)
        servers.append(server)
        for name, value in connection_env(server.sandbox.connections()).items():
            monkeypatch.setenv(name, value)
        return server

    yield make
    for server in servers:
        server.stop()


def local_midnight(team: Team, who: str, in_days: int) -> dt.datetime:
    zone = ZoneInfo(team.person(who).timezone)
    return dt.datetime.combine(dt.datetime.now(zone).date() + dt.timedelta(days=in_days), dt.time(), zone)


def own_event(team: Team, who: str, in_days: int, days: int, **fields: Any) -> dict[str, Any]:
    """An out-of-office event as Calendar's form makes it: local midnight to the midnight after its last day."""
    start = local_midnight(team, who, in_days)
    end = local_midnight(team, who, in_days + days)
    zone = team.person(who).timezone
    return {"eventType": "outOfOffice", "summary": "Out of office",
            "start": {"dateTime": start.isoformat(), "timeZone": zone},
            "end": {"dateTime": end.isoformat(), "timeZone": zone},
            "outOfOfficeProperties": {"autoDeclineMode": "declineAllConflictingInvitations",
                                      "declineMessage": "Declined because I am out of office"}, **fields}


def days_of(team: Team, who: str, in_days: int, days: int) -> tuple[str, str]:
    first = local_midnight(team, who, in_days).date()
    return first.isoformat(), (first + dt.timedelta(days=days - 1)).isoformat()


def absence_id(team: Team, who: str, in_days: int, days: int) -> str:
    return run_id_for(who, *days_of(team, who, in_days, days))


def lines(report: Report, what: str, who: str = "") -> list[str]:
    return [line.detail for line in report.lines if line.what == what and who in line.person]


def calendar_lists(server: SandboxServer) -> list[dict[str, Any]]:
    return [r for r in server.sandbox.requests
            if r["api"] == "google" and r["method"] == "GET" and r["path"].endswith("/events")]


def test_new_events_are_filed_once_and_a_quiet_calendar_costs_one_request(world):
    team = roster()
    server = world(team)
    intake = Intake(team)

    first = intake.run()  # every calendar read in full; Lena's own event, seeded two weeks out, is found

    assert (first.read, first.full_syncs) == (len(team.people), len(team.people))
    [lenas] = own_out_of_office(server.sandbox.anchor, team)
    lena_id = run_id_for(LENA, lenas["first_day"], lenas["last_day"])
    assert list(intake.airflow.absences(LENA)) == [lena_id]
    assert intake.airflow.absences(LENA)[lena_id]["conf"] == {
        "employee": LENA, "start_date": lenas["first_day"].isoformat(), "end_date": lenas["last_day"].isoformat(),
        "kind": "planned", "reachable": False, "note": "", "start_half": "full", "end_half": "full"}
    assert lines(first, FILED, "Lena") == [f"{lena_id} (planned: made before it begins: waits for approval)"]

    server.sandbox.api("google").add_event(TOM, own_event(team, TOM, in_days=21, days=3))
    second = intake.run()

    assert second.full_syncs == 0
    tom_id = absence_id(team, TOM, 21, 3)
    assert list(intake.airflow.absences(TOM)) == [tom_id]
    assert intake.airflow.absences(TOM)[tom_id]["conf"]["kind"] == "planned"
    assert f"Tom Becker: filed: {tom_id}" in second.note()

    asked = len(calendar_lists(server))
    calls = len(intake.airflow.calls)
    saves = intake.saves
    quiet = intake.run()

    assert quiet.lines == []
    assert quiet.note() == f"**Intake**: {len(team.people)} calendars read (0 in full); nothing new."
    assert len(calendar_lists(server)) - asked == len(team.people)  # one request per calendar
    assert len(intake.airflow.calls) == calls and intake.saves == saves  # Airflow not asked, nothing written
    assert len(intake.airflow.absences(LENA)) == len(intake.airflow.absences(TOM)) == 1


def test_an_event_made_on_or_after_its_start_is_unexpected_and_a_late_record_is_not_filed(world):
    team = roster()
    google = world(team).sandbox.api("google")
    intake = Intake(team)
    intake.run()
    google.add_event(PRIYA, own_event(team, PRIYA, in_days=0, days=2))  # out sick from this morning
    google.add_event(SAM, own_event(team, SAM, in_days=-3, days=5))  # logged three days late

    report = intake.run()

    priya_id = absence_id(team, PRIYA, 0, 2)
    assert intake.airflow.absences(PRIYA)[priya_id]["conf"]["kind"] == "unexpected"
    assert lines(report, FILED, "Priya")[0].startswith(f"{priya_id} (unexpected: made ")
    assert intake.airflow.absences(SAM) == {}
    [late] = lines(report, NOT_FILED, "Sam")
    assert "after it began, later than the roster's 24 h for an unexpected absence" in late


def test_lengthening_cutting_and_deleting_the_event_file_shorten_and_cancel(world):
    team = roster()
    google = world(team).sandbox.api("google")
    intake = Intake(team)
    event = google.add_event(TOM, own_event(team, TOM, in_days=21, days=5))
    intake.run()
    week = absence_id(team, TOM, 21, 5)
    assert list(intake.airflow.absences(TOM)) == [week]
    tom = GoogleWorkspace("ooo_google", subject=TOM)

    tom.patch_event(event["id"], {"end": own_event(team, TOM, 21, 7)["end"]})  # two more days
    longer = intake.run()

    extra = absence_id(team, TOM, 26, 2)
    assert set(intake.airflow.absences(TOM)) == {week, extra}
    assert lines(longer, FILED) == [f"{extra} (planned: made before it begins: waits for approval)"]

    tom.patch_event(event["id"], {"end": own_event(team, TOM, 21, 3)["end"]})  # then back two days early
    cut = intake.run()

    new_end = days_of(team, TOM, 21, 3)[1]
    assert list(intake.airflow.of("ooo_shorten")) == [shorten_run_id(week, new_end)]
    assert intake.airflow.of("ooo_shorten")[shorten_run_id(week, new_end)]["conf"] == {
        "absence_run_id": week, "end_date": new_end}
    assert list(intake.airflow.of("ooo_cancel")) == [cancel_run_id(extra)]
    assert lines(cut, SHORTENED) == [f"{week}: last day now {new_end}, ooo_shorten filed"]
    assert lines(cut, CANCELLED) == [f"{extra} (now {days_of(team, TOM, 21, 3)[0]} to {new_end}): ooo_cancel filed"]

    assert tom.delete_event(event["id"])
    gone = intake.run()

    assert set(intake.airflow.of("ooo_cancel")) == {cancel_run_id(week), cancel_run_id(extra)}
    assert lines(gone, CANCELLED) == [f"{week} (deleted): ooo_cancel filed"]
    assert intake.state.calendar(TOM).events == []  # done with: forgotten
    assert intake.run().lines == []


def test_an_absence_filed_by_hand_first_is_not_filed_again_and_its_changes_are_left_to_ops(world):
    team = roster()
    google = world(team).sandbox.api("google")
    intake = Intake(team)
    first, last = days_of(team, TOM, 21, 3)
    by_hand = {"employee": TOM, "start_date": first, "end_date": last, "kind": "planned", "reachable": True,
               "note": "filed by ops"}
    intake.airflow.trigger_absence(by_hand)
    event = google.add_event(TOM, own_event(team, TOM, in_days=21, days=3))

    report = intake.run()

    run_id = run_id_for(TOM, first, last)
    assert intake.airflow.absences(TOM) == {run_id: {"conf": by_hand, "state": "running"}}  # the hand's, alone
    assert lines(report, ALREADY) == [f"{run_id} exists (running): filed by hand or earlier, not filed twice"]
    assert lines(report, FILED, "Tom") == []

    assert GoogleWorkspace("ooo_google", subject=TOM).delete_event(event["id"])
    gone = intake.run()

    assert intake.airflow.of("ooo_cancel") == {}  # ops filed it: ops cancel it
    assert lines(gone, LEFT) == [f"event {event['id']} changed (deleted), but {run_id} was filed by hand: change "
                                 "or cancel it yourself if it should follow"]


def test_an_expired_sync_token_reads_the_calendar_again_with_nothing_filed_twice(world):
    team = roster()
    server = world(team)
    google = server.sandbox.api("google")
    intake = Intake(team)
    kept = google.add_event(TOM, own_event(team, TOM, in_days=21, days=3))
    dropped = google.add_event(JORDAN, own_event(team, JORDAN, in_days=12, days=2))
    intake.run()
    filed_before = {r for (d, r) in intake.airflow.runs if d == "ooo_absence"}
    assert len(filed_before) == 3  # Lena's, Tom's, Jordan's

    assert google.expire_sync_tokens() >= len(team.people)  # Google may expire them at any time
    GoogleWorkspace("ooo_google", subject=JORDAN).delete_event(dropped["id"])  # meanwhile: one deleted ...
    google.add_event(MAYA, own_event(team, MAYA, in_days=15, days=2))  # ... and one new
    report = intake.run()

    assert report.full_syncs == len(team.people)
    assert lines(report, FILED) == [f"{absence_id(team, MAYA, 15, 2)} (planned: made before it begins: waits for "
                                    "approval)"]
    assert set(intake.airflow.of("ooo_cancel")) == {cancel_run_id(absence_id(team, JORDAN, 12, 2))}
    triggered = [c[2] for c in intake.airflow.calls if c[:2] == ("trigger", "ooo_absence")]
    assert len(triggered) == len(set(triggered)) == 4  # nothing filed twice, not even tried twice
    assert kept["id"] in {e.id for e in intake.state.calendar(TOM).events}


def test_a_team_of_50_with_no_changes_makes_one_request_per_calendar(world):
    team = roster(extra_people=40)
    assert len(team.people) == 50
    server = world(team)
    intake = Intake(team)
    intake.run()
    server.sandbox.requests.clear()
    calls = len(intake.airflow.calls)

    report = intake.run()

    assert report.read == 50 and report.lines == []
    listed = calendar_lists(server)
    assert len(listed) == 50 and len({r["at"] for r in listed}) >= 1
    assert all(r["status"] == 200 for r in listed)
    assert len(intake.airflow.calls) == calls  # and not one question to Airflow
    tokens = sum(1 for r in server.sandbox.requests if r["path"] == "/token")
    print(f"team of 50, nothing changed: {len(listed)} Calendar requests, {tokens} OAuth token requests")


def test_a_calendar_that_cannot_be_read_or_a_person_gone_from_the_roster_is_reported_and_the_rest_go_on(world):
    team = roster()
    server = world(team)
    server.sandbox.api("google").revoke_delegation(SAM)
    intake = Intake(team)
    ghost = f"ghost{DOMAIN}"
    intake.save(IntakeState(calendars=[Calendar(person=ghost, sync="Cold", events=[
        Tracked(id="e1", first=day(400).isoformat(), last=day(401).isoformat(),
                filed=[filed(day(400), day(401), who=ghost)])])]))

    report = intake.run()

    [sam] = lines(report, UNREAD, "Sam")
    assert sam.startswith("the calendar may not be read: The Google credentials for ooo_google were refused")
    [gone] = lines(report, UNREAD, ghost)
    assert gone.startswith("no longer in the roster") and run_id_for(ghost, day(400), day(401)) in gone
    assert report.read == len(team.people) - 1
    assert len(intake.airflow.absences(LENA)) == 1  # the others go on
    assert ghost not in {c.person for c in intake.state.calendars}


def test_a_recurring_out_of_office_event_files_each_occurrence_up_to_the_rosters_limit(world):
    team = roster(max_occurrences=3)
    google = world(team).sandbox.api("google")
    intake = Intake(team)
    google.add_event(JORDAN, own_event(team, JORDAN, in_days=7, days=1, id="jordanoff00001",
                                       recurrence=["RRULE:FREQ=WEEKLY;COUNT=5"]))

    report = intake.run()

    wanted = [absence_id(team, JORDAN, 7 + 7 * n, 1) for n in range(3)]
    assert sorted(intake.airflow.absences(JORDAN)) == sorted(wanted)
    beyond = lines(report, IGNORED, "Jordan")
    assert len(beyond) == 2 and all("beyond the roster's limit of 3" in b for b in beyond)

    week_two = google.list_events(JORDAN, local_midnight(team, JORDAN, 14), local_midnight(team, JORDAN, 15))
    second = next(e for e in week_two if e.get("eventType") == "outOfOffice")
    assert second["recurringEventId"] == "jordanoff00001"
    GoogleWorkspace("ooo_google", subject=JORDAN).delete_event(second["id"])  # that week she works after all
    intake.run()

    assert set(intake.airflow.of("ooo_cancel")) == {cancel_run_id(wanted[1])}


def test_an_event_on_non_working_days_only_files_nothing(world):
    team = roster(working_every_day=False)
    google = world(team).sandbox.api("google")
    intake = Intake(team)
    in_three_weeks = local_midnight(team, TOM, 21).date()
    saturday = 21 + (5 - in_three_weeks.weekday()) % 7  # a Saturday at least three weeks away
    event = google.add_event(TOM, own_event(team, TOM, in_days=saturday, days=2))

    report = intake.run()

    assert intake.airflow.absences(TOM) == {}
    assert [d for d in lines(report, IGNORED, "Tom") if event["id"] in d][0].split(": ", 1)[1].startswith(
        "no working day in it")


def test_an_event_across_a_dst_change_files_its_local_days(world):
    team = roster()
    google = world(team).sandbox.api("google")
    intake = Intake(team)
    year = dt.date.today().year + 1
    march = dt.date(year, 3, 1)
    dst = march + dt.timedelta(days=(6 - march.weekday()) % 7 + 7)  # the second Sunday: clocks go forward
    zone = ZoneInfo("America/New_York")
    start, end = (dt.datetime.combine(dst - dt.timedelta(days=2), dt.time(), zone),
                  dt.datetime.combine(dst + dt.timedelta(days=2), dt.time(), zone))
    google.add_event(LENA, {**own_event(team, LENA, 1, 1), "id": "lenaspring01",  # given in UTC, as an API may
                            "start": {"dateTime": start.astimezone(dt.timezone.utc).isoformat()},
                            "end": {"dateTime": end.astimezone(dt.timezone.utc).isoformat()}})

    intake.run()

    assert run_id_for(LENA, dst - dt.timedelta(days=2), dst + dt.timedelta(days=1)) in intake.airflow.absences(LENA)


def test_the_block_an_absence_made_is_ignored(world):
    team = roster()
    google = world(team).sandbox.api("google")
    intake = Intake(team)
    intake.run()
    block = google.add_event(TOM, own_event(team, TOM, 21, 3, id="absenceblock01",
                                            extendedProperties={"private": {MARKER: "a1b2c3"}}))

    report = intake.run()

    assert intake.airflow.absences(TOM) == {}
    assert lines(report, IGNORED, "Tom") == [f"event {block['id']}: made by ooo-pipelines (an absence's "
                                             "out-of-office block)"]


def test_with_the_intake_off_a_run_reads_nothing_and_says_so(world):
    team = dataclasses.replace(roster(), intake=dataclasses.replace(roster().intake, enabled=False))
    server = world(team)
    server.sandbox.requests.clear()
    intake = Intake(team)

    report = intake.run()

    assert not report.enabled and report.lines == []
    assert report.note().startswith("**Intake is off** for Client Services: nothing was read.")
    assert calendar_lists(server) == [] and intake.airflow.calls == [] and intake.saves == 0


def test_a_run_stopped_after_filing_is_picked_up_by_the_next_without_filing_twice(world):
    team = roster()
    google = world(team).sandbox.api("google")
    intake = Intake(team)
    intake.run()
    google.add_event(TOM, own_event(team, TOM, in_days=21, days=3))
    stops = Intake(team, intake.airflow)
    stops.kept = intake.kept

    def save_then_stop(state: IntakeState) -> None:
        if stops.saves:
            raise KeyboardInterrupt("the worker was stopped")  # after filing, before the end's save
        stops.save(state)

    with pytest.raises(KeyboardInterrupt):
        run_intake(team, Services(), stops.airflow, stops.state, dt.datetime.now(dt.timezone.utc), save_then_stop)
    run_id = absence_id(team, TOM, 21, 3)
    assert list(stops.airflow.absences(TOM)) == [run_id]

    again = stops.run()

    assert lines(again, FILED) == [f"{run_id} (planned: filed by an earlier run)"]
    assert lines(again, ALREADY) == []
    assert [f.run_id for e in stops.state.calendar(TOM).events for f in e.filed] == [run_id]  # ours: it will follow


def test_an_absence_validate_would_reject_is_reported_not_filed(world):
    team = roster()
    google = world(team).sandbox.api("google")
    intake = Intake(team)
    first, last = days_of(team, MAYA, 10, 5)
    intake.airflow.trigger_absence({"employee": MAYA, "start_date": first, "end_date": last, "kind": "planned"})
    google.add_event(JORDAN, own_event(team, JORDAN, in_days=12, days=2))  # Maya, his buddy, is out then

    report = intake.run()

    assert intake.airflow.absences(JORDAN) == {}
    [why] = lines(report, NOT_FILED, "Jordan")
    assert "The backup buddy Maya Patel is out" in why and "choose another buddy in backup_buddy" in why


def test_a_start_moved_later_cancels_then_files_again_once_the_cancel_went_through(world):
    team = roster()
    google = world(team).sandbox.api("google")
    intake = Intake(team, FakeAirflow(hold_changes=True))
    event = google.add_event(TOM, own_event(team, TOM, in_days=21, days=5))
    intake.run()
    week = absence_id(team, TOM, 21, 5)

    GoogleWorkspace("ooo_google", subject=TOM).patch_event(event["id"], {"start": own_event(team, TOM, 23, 1)["start"]})
    moved = intake.run()

    later = absence_id(team, TOM, 23, 3)
    assert list(intake.airflow.of("ooo_cancel")) == [cancel_run_id(week)]
    assert lines(moved, WAITING) == [f"{later}: filed once the cancel of {week} has gone through"]
    assert intake.run().lines[0].what == WAITING  # the cancel is still running
    assert later not in intake.airflow.absences(TOM)

    intake.airflow.finish_changes()
    done = intake.run()

    assert lines(done, FILED) == [f"{later} (planned: made before it begins: waits for approval)"]
    assert intake.run().lines == []
