"""Validation: every bad input gets its own message a person can act on, and nothing else passes."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pendulum
import pytest

from ooo.absence import (
    Absence,
    AbsenceRejected,
    coverage_warnings,
    filed_before,
    out_between,
    overlapping,
    parse_absence,
    run_id_for,
    which_in_flight,
)

MAYA = "maya.patel@yellowstonelocal.com"
JORDAN = "jordan.reyes@yellowstonelocal.com"
SAM = "sam.okafor@yellowstonelocal.com"
PRIYA = "priya.nair@yellowstonelocal.com"
ROSA = "rosa.alvarez@yellowstonelocal.com"
ALLISON = "allison.reed@yellowstonelocal.com"
NOW = pendulum.datetime(2026, 11, 23, 16, 0, tz="UTC")  # Monday morning in Denver


def params(**overrides):
    base = {"employee": MAYA, "start_date": "2026-12-07", "end_date": "2026-12-11", "kind": "planned",
            "reachable": False, "note": ""}
    base.update(overrides)
    return base


def problems(team, runs=None, now=NOW, filed_by="hr-integration", **overrides) -> list[str]:
    with pytest.raises(AbsenceRejected) as caught:
        parse_absence(params(**overrides), team, now, runs, filed_by=filed_by)
    return caught.value.problems


def test_a_good_absence_resolves_buddy_and_manager_from_the_roster(team):
    absence = parse_absence(params(), team, NOW)
    assert absence.employee.name == "Maya Patel"
    assert absence.buddy.email == JORDAN
    assert absence.manager is not None and absence.manager.name == "Allison Reed"
    assert absence.days == 5
    assert absence.run_id == f"absence__{MAYA}__2026-12-07__2026-12-11"
    assert Absence.from_dict(absence.to_dict()) == absence


def test_an_explicit_buddy_overrides_the_roster(team):
    assert parse_absence(params(backup_buddy=SAM), team, NOW).buddy.name == "Sam Okafor"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("start_date", "31/12/2026", "start_date '31/12/2026' is not a date: use YYYY-MM-DD"),
        ("start_date", "2026-02-30", "start_date '2026-02-30' is not a date"),
        ("end_date", None, "end_date is missing: give a date as YYYY-MM-DD."),
        ("start_date", "", "start_date is missing"),
        ("employee", "nobody@yellowstonelocal.com",
         "employee nobody@yellowstonelocal.com is not in the Client Services roster."),
        ("employee", "not-an-email", "employee 'not-an-email' is not an email address."),
        ("employee", None, "employee is missing"),
        ("backup_buddy", "ghost@yellowstonelocal.com",
         "backup_buddy ghost@yellowstonelocal.com is not in the Client Services roster."),
        ("backup_buddy", MAYA, "Maya Patel cannot be their own backup buddy"),
        ("kind", "vacation", "kind must be 'planned', 'unexpected' or 'client_visit', not 'vacation'."),
        ("reachable", "yes", "reachable must be true or false"),
    ],
)
def test_each_bad_input_has_its_message(team, field, value, message):
    found = problems(team, **{field: value})
    assert any(message in p for p in found), found


def test_end_before_start(team):
    assert problems(team, start_date="2026-12-11", end_date="2026-12-07") == [
        "end_date 2026-12-07 is before start_date 2026-12-11: the end is the last day out."
    ]


def test_planned_absence_starting_in_the_past_is_judged_in_the_employees_zone(team):
    # 05:00 UTC on Nov 23 is still Nov 22 in Denver: a start on Nov 22 is today there, not past.
    early = pendulum.datetime(2026, 11, 23, 5, 0, tz="UTC")
    assert parse_absence(params(start_date="2026-11-22", end_date="2026-11-24"), team, early)
    found = problems(team, start_date="2026-11-20", end_date="2026-11-24")
    assert found == ["A planned absence cannot start in the past (2026-11-20 is before 2026-11-23 in "
                     "America/Denver); log it as unexpected instead."]


def test_an_unexpected_absence_may_have_started_already(team):
    absence = parse_absence(params(kind="unexpected", start_date="2026-11-20", end_date="2026-11-24"), team, NOW)
    assert absence.is_unexpected


def test_longer_than_the_teams_limit(team):
    found = problems(team, start_date="2026-12-01", end_date="2027-01-15")
    assert found == ["The absence lasts 46 days, longer than the team's limit of 30: split it, or ask ops "
                     "to raise max_absence_days."]


def test_buddy_out_on_overlapping_days(team):
    found = problems(team, runs=in_flight((JORDAN, "2026-12-10", "2026-12-18")))
    assert found == ["The backup buddy Jordan Reyes is out 2026-12-10 to 2026-12-18, overlapping this "
                     "absence: choose another buddy in backup_buddy."]


def test_buddy_out_on_other_days_is_fine(team):
    runs = in_flight((JORDAN, "2026-12-12", "2026-12-18"), (JORDAN, "2026-11-30", "2026-12-06"))
    absence = parse_absence(params(), team, NOW, runs)
    assert absence.buddy.email == JORDAN


def test_the_same_person_cannot_be_out_twice_at_once(team):
    found = problems(team, runs=in_flight((MAYA, "2026-12-03", "2026-12-08")))
    assert found == ["Maya Patel already has an absence from 2026-12-03 to 2026-12-08 in flight: cancel "
                     "that run or choose other dates."]


def test_out_between_finds_an_absence_covering_the_whole_window():
    runs = in_flight((JORDAN, "2026-11-20", "2026-12-19"), (MAYA, "2026-12-07", "2026-12-07"))
    found = out_between(JORDAN, dt.date(2026, 12, 7), dt.date(2026, 12, 11), runs)
    assert found == (dt.date(2026, 11, 20), dt.date(2026, 12, 19))


def test_which_in_flight_asks_once_when_all_or_none_are():
    ids = [f"r{n}" for n in range(40)]
    asked: list[int] = []

    def count(flying):
        return lambda some: asked.append(len(some)) or len(flying.intersection(some))

    assert which_in_flight(ids, count(set(ids))) == ids and asked == [40]
    asked.clear()
    assert which_in_flight(ids, count(set())) == [] and asked == [40]
    asked.clear()
    assert which_in_flight(ids, count(set(ids) - {"r7"})) == [r for r in ids if r != "r7"] and len(asked) < 15
    asked.clear()
    assert which_in_flight(ids, count({"r3", "r31"}), most=16) == ["r3", "r31"] and max(asked) <= 16


def test_only_contract_run_ids_count_as_absences():
    ids = [run_id_for("a__b@x.com", "2026-12-01", "2026-12-02"), "manual__2026-12-01T00:00:00+00:00",
           "absence__someone@x.com__2026-13-01__2026-12-02", "absence__no-dates"]
    assert [(a.person, a.start, a.end) for a in overlapping(ids, dt.date(2026, 12, 2), dt.date(2026, 12, 9))] == [
        ("a__b@x.com", dt.date(2026, 12, 1), dt.date(2026, 12, 2))]


def test_every_problem_is_reported_at_once(team):
    found = problems(team, employee="nobody@yellowstonelocal.com", start_date="tomorrow", kind="holiday")
    assert len(found) == 3


def test_html_in_the_note_is_kept_as_text(team):
    note = "<b>Back</b> soon <script>alert(1)</script> & \"quotes\""
    assert parse_absence(params(note=note), team, NOW).note == note


def test_control_characters_in_the_note_are_refused(team):
    assert problems(team, note="ring\x07the bell\u202e") == [
        "note contains control characters (U+0007, U+202E): remove them and try again."
    ]


def test_newlines_and_tabs_in_the_note_are_fine(team):
    assert parse_absence(params(note="line one\n\tline two"), team, NOW).note == "line one\n\tline two"


def test_emoji_and_scripts_that_need_joiners_are_fine(team):
    family = "Family trip \U0001F468\u200D\U0001F469\u200D\U0001F467"
    persian = "\u0645\u06CC\u200C\u062E\u0648\u0627\u0647\u0645"
    assert parse_absence(params(note=f"{family} {persian}"), team, NOW).note == f"{family} {persian}"


def test_a_very_long_note_is_refused(team):
    assert problems(team, note="x" * 501) == ["note is 501 characters long; keep it under 500."]


def test_an_approval_recorded_when_filing_names_the_manager_and_who_filed(team):
    absence = parse_absence(params(approved_by=ALLISON), team, NOW, filed_by="hr-integration")
    assert absence.approved_by is not None and absence.approved_by.name == "Allison Reed"
    assert absence.filed_by == "hr-integration"
    assert Absence.from_dict(absence.to_dict()) == absence
    by_herself = parse_absence(params(approved_by=ALLISON), team, NOW, filed_by=ALLISON)
    assert by_herself.approved_by is not None


def test_an_approval_is_believed_only_from_someone_allowed_to_record_it(team):
    [problem] = problems(team, approved_by=ALLISON, filed_by="ops")
    assert problem == ("approved_by can be recorded only by an approvals login (team.approvers: hr-integration) "
                       "or by Allison Reed themself, not by ops: leave approved_by empty to ask for the approval.")
    assert problems(team, approved_by=ALLISON, filed_by=None)[0].startswith("approved_by can be recorded only by")


def test_the_approver_is_the_employees_manager_or_their_deputy(team):
    deputy = parse_absence(params(approved_by="casey.morgan@yellowstonelocal.com"), team, NOW,
                           filed_by="hr-integration")  # Casey is Allison's deputy
    assert deputy.approved_by is not None and deputy.approved_by.name == "Casey Morgan"
    lena = "lena.fischer@yellowstonelocal.com"  # her manager is Casey, whose deputy is Allison
    assert parse_absence(params(employee=lena, approved_by=ALLISON), team, NOW, filed_by=ALLISON).approved_by
    # Sam's manager is Allison: a manager outside that line may not approve for him.
    custom = dataclasses.replace(team, people=tuple(
        dataclasses.replace(p, deputy=None) if p.email == ALLISON else p for p in team.people))
    [problem] = problems(custom, employee=SAM, approved_by="casey.morgan@yellowstonelocal.com")
    assert problem == ("approved_by Casey Morgan is not Sam Okafor's manager Allison Reed: leave approved_by empty "
                       "to ask for the approval.")


def test_only_a_manager_in_the_roster_can_have_approved(team):
    assert problems(team, approved_by=JORDAN) == [
        f"approved_by {JORDAN} is not a manager in the roster: only a manager's approval can be recorded; "
        "leave it empty to ask for one."]
    assert problems(team, approved_by="ceo@elsewhere.com") == [
        "approved_by ceo@elsewhere.com is not in the Client Services roster."]


def in_flight(*absences: tuple[str, str, str]):
    ids = [run_id_for(*a) for a in absences]
    return lambda start, end: ids


def test_no_warnings_when_coverage_is_fine(team):
    absence = parse_absence(params(), team, NOW)
    assert coverage_warnings(absence, team, in_flight((SAM, "2026-12-14", "2026-12-18"))) == []


def test_the_approver_is_warned_when_too_many_are_out_at_once(team):
    absence = parse_absence(params(), team, NOW)  # Maya, Mon Dec 7 to Fri Dec 11; the limit is 2
    runs = in_flight((SAM, "2026-12-01", "2026-12-08"), (ROSA, "2026-12-08", "2026-12-09"))
    assert coverage_warnings(absence, team, runs) == [
        "3 people out on 2026-12-08 (Maya Patel, Sam Okafor, Rosa Alvarez), more than the team's limit of 2 "
        "at once."]


def test_the_approver_is_warned_when_the_buddy_already_covers_someone(team):
    absence = parse_absence(params(), team, NOW)  # Jordan covers Maya
    priya = run_id_for(PRIYA, "2026-12-10", "2026-12-15")
    buddies = {priya: JORDAN}
    assert coverage_warnings(absence, team, in_flight((PRIYA, "2026-12-10", "2026-12-15")), buddies.get) == [
        "The backup buddy Jordan Reyes already covers Priya Nair from 2026-12-10 to 2026-12-15."]


def test_an_absence_out_of_bounds_asks_airflow_nothing(team):
    def must_not_ask(start, end):
        raise AssertionError(f"asked about {start} to {end}")

    assert problems(team, runs=must_not_ask, end_date="9999-12-31")[0].startswith("The absence lasts 29")


def test_an_absence_at_the_ends_of_the_calendar_is_refused_not_crashed(team):
    found = problems(team, runs=in_flight(), start_date="0001-01-01", end_date="0001-01-02")
    assert found == ["A planned absence cannot start in the past (0001-01-01 is before 2026-11-23 in "
                     "America/Denver); log it as unexpected instead."]
    assert problems(team, runs=in_flight(), kind="unexpected", start_date="9999-12-30", end_date="9999-12-31") == [
        "start_date 9999-12-30 is more than two years away: check the year.",
        "end_date 9999-12-31 is more than two years away: check the year."]


def test_of_two_clashing_absences_the_one_filed_first_stands_whichever_checks_first():
    first, second = (run_id_for(MAYA, "2026-12-07", "2026-12-11"), run_id_for(JORDAN, "2026-12-08", "2026-12-09"))
    filed = {first: "2026-12-01T10:00:00.100000+00:00", second: "2026-12-01T10:00:00.400000+00:00"}
    assert filed_before([first], second, filed.get) == [first]  # the later one sees the earlier: rejected
    assert filed_before([second], first, filed.get) == []  # the earlier one ignores the later: kept
    same = dict.fromkeys(filed, "2026-12-01T10:00:00+00:00")  # the same moment: the run id decides
    assert (filed_before([second], first, same.get), filed_before([first], second, same.get)) == ([second], [])
    assert filed_before([first], second, {}.get) == [first]  # unknown: counts, as before the rule


# -- half days ------------------------------------------------------------------------------------
def test_halves_are_whole_days_unless_given(team):
    absence = parse_absence(params(), team, NOW)
    assert (absence.start_half, absence.end_half, absence.has_halves, absence.days_out) == ("full", "full", False, 5)
    half = parse_absence(params(start_half="afternoon", end_half="morning"), team, NOW)
    assert (half.starts_afternoon, half.ends_morning, half.days, half.days_out) == (True, True, 5, 4.0)
    assert Absence.from_dict(half.to_dict()) == half


def test_a_plan_filed_before_half_days_reads_as_whole_days(team):
    raw = parse_absence(params(), team, NOW).to_dict()
    for key in ("start_half", "end_half", "client_company"):
        del raw[key]  # what a plan of an earlier release holds
    old = Absence.from_dict(raw)
    assert (old.start_half, old.end_half, old.client_company, old.kind) == ("full", "full", "", "planned")


@pytest.mark.parametrize(("start_half", "end_half", "days_out"), [("full", "morning", 0.5), ("afternoon", "full", 0.5)])
def test_a_one_day_absence_can_be_a_morning_or_an_afternoon(team, start_half, end_half, days_out):
    absence = parse_absence(params(end_date="2026-12-07", start_half=start_half, end_half=end_half), team, NOW)
    assert absence.days == 1 and absence.days_out == days_out


def test_an_afternoon_and_a_morning_on_one_day_is_refused_in_one_sentence(team):
    found = problems(team, end_date="2026-12-07", start_half="afternoon", end_half="morning")
    assert found == ["start_half afternoon and end_half morning on the one day 2026-12-07 leave no time out: for a "
                     "morning off keep start_half full, for an afternoon off keep end_half full."]


def test_halves_on_days_that_are_not_working_days_are_refused(team):
    # Sat Dec 5 .. Thu Dec 24 (a holiday in the sample team).
    found = problems(team, start_date="2026-12-05", end_date="2026-12-24", start_half="afternoon",
                     end_half="morning")
    assert found == [
        "start_half is afternoon but 2026-12-05 (Saturday) is not a working day: a half day is a working day's; "
        "set start_half to full.",
        "end_half is morning but 2026-12-24 (Thursday) is not a working day: a half day is a working day's; "
        "set end_half to full.",
    ]
    # Whole days over the same dates are fine.
    assert parse_absence(params(start_date="2026-12-05", end_date="2026-12-24"), team, NOW).days == 20


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("start_half", "morning", "start_half must be 'full' or 'afternoon' (out from the team's split time, "
                                  "12:00), not 'morning'."),
        ("end_half", "afternoon", "end_half must be 'full' or 'morning' (back at the team's split time, 12:00), "
                                  "not 'afternoon'."),
        ("end_half", True, "end_half must be 'full' or 'morning' (back at the team's split time, 12:00), not True."),
    ],
)
def test_a_half_that_is_not_one_is_refused(team, field, value, message):
    assert problems(team, **{field: value}) == [message]


# -- client visits --------------------------------------------------------------------------------
@pytest.mark.parametrize("given", ["bigskyoutfitters.com", "https://www.bigskyoutfitters.com/about", "9100001"])
def test_a_client_visit_names_the_company_by_id_or_domain(team, given):
    visit = parse_absence(params(kind="client_visit", client_company=f" {given} "), team, NOW)
    assert visit.is_client_visit and not visit.is_unexpected and visit.client_company == given
    assert Absence.from_dict(visit.to_dict()) == visit


@pytest.mark.parametrize(
    ("kind", "company", "message"),
    [
        ("client_visit", None, "client_company is missing: a client visit names the HubSpot company visited, by its "
                               "id or its domain (e.g. bigskyoutfitters.com)."),
        ("client_visit", "Big Sky Outfitters", "client_company 'Big Sky Outfitters' is neither a HubSpot company id "
                                               "(digits) nor a domain (e.g. bigskyoutfitters.com)."),
        ("client_visit", 42, "client_company 42 is neither a HubSpot company id (digits) nor a domain "
                             "(e.g. bigskyoutfitters.com)."),
        ("planned", "bigskyoutfitters.com", "client_company is only for kind 'client_visit': clear it, or choose "
                                            "that kind."),
    ],
)
def test_a_client_company_that_does_not_fit_is_refused(team, kind, company, message):
    assert problems(team, kind=kind, client_company=company) == [message]


def test_a_client_visit_is_planned_so_it_cannot_start_in_the_past(team):
    found = problems(team, kind="client_visit", client_company="bigskyoutfitters.com", start_date="2026-11-20",
                     end_date="2026-11-20")
    assert found == ["A planned absence cannot start in the past (2026-11-20 is before 2026-11-23 in "
                     "America/Denver); log it as unexpected instead."]
