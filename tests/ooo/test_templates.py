"""The days out as people read them (half days said, whole days as they always were), and the texts
that show them: the run note, the approval request, the coverage board, the auto-reply."""

from __future__ import annotations

import pendulum
import pytest

from ooo.absence import parse_absence
from ooo.board import RunFacts, board_rows
from ooo.plan import Change, Plan
from ooo.records import Records, TeamNotice
from ooo.run_note import run_note
from ooo.templates import DaysOut, day_count, render
from ooo.timeline import plan_timeline

NOW = pendulum.datetime(2026, 11, 23, 16, 0, tz="UTC")
MAYA = {"employee": "maya.patel@yellowstonelocal.com", "start_date": "2026-12-07", "end_date": "2026-12-11",
        "kind": "planned", "reachable": False}


def planned(team, **params):
    absence = parse_absence({**MAYA, **params}, team, NOW)
    return absence, plan_timeline(absence, team, NOW)


def days(team, **params) -> DaysOut:
    return DaysOut.of(*planned(team, **params))


def test_whole_days_read_as_they_always_have(team):
    d = days(team)
    assert d.span() == "from Monday, December 7, 2026 to Friday, December 11, 2026"
    assert d.span("through") == "from Monday, December 7, 2026 through Friday, December 11, 2026"
    assert (d.first, d.back) == ("Monday, December 7, 2026", "Monday, December 14, 2026")
    assert (d.short_span, d.short_back, d.halves) == ("Mon Dec 7 – Fri Dec 11", "Mon Dec 14", False)


def test_half_days_say_the_split_time(team):
    d = days(team, start_half="afternoon", end_half="morning")
    assert d.span() == ("from 12:00 PM MST on Monday, December 7, 2026 to the morning of Friday, December 11, 2026")
    assert d.back == "Friday, December 11, 2026 at 12:00 PM MST"
    assert (d.short_span, d.short_back) == ("Mon Dec 7 from 12:00 – Fri Dec 11 morning", "Fri Dec 11 at 12:00")


@pytest.mark.parametrize(
    ("halves", "span", "short", "back"),
    [
        ({"end_half": "morning"}, "on the morning of Monday, December 7, 2026 (until 12:00 PM MST)",
         "Mon Dec 7 morning", "Mon Dec 7 at 12:00"),
        ({"start_half": "afternoon"}, "on the afternoon of Monday, December 7, 2026 (from 12:00 PM MST)",
         "Mon Dec 7 from 12:00", "Tue Dec 8"),
    ],
)
def test_a_half_day_off_reads_as_one(team, halves, span, short, back):
    d = days(team, end_date="2026-12-07", **halves)
    assert (d.span(), d.short_span, d.short_back) == (span, short, back)


def test_day_counts_count_halves():
    assert [day_count(n) for n in (0.5, 1, 1.5, 4, 4.5)] == ["½ day", "1 day", "1½ days", "4 days", "4½ days"]


def test_the_run_note_shows_the_halves_and_the_visit(team):
    absence, timeline = planned(team, start_half="afternoon", end_half="morning")
    note = run_note(Plan(absence, timeline), None, Records()).replace("\\", "")
    assert note.splitlines()[2] == ("Maya Patel (planned) out Mon Dec 7 from 12:00 – Fri Dec 11 morning, "
                                    "back Fri Dec 11 at 12:00 · buddy Jordan Reyes")
    visit, timeline = planned(team, kind="client_visit", client_company="nosuch.example")
    unknown = TeamNotice(channel="C1", ts="1.2", posted=True, client_company="nosuch.example",
                         client_company_unknown="HubSpot has no company nosuch.example")
    note = run_note(Plan(visit, timeline), None, Records(team_notice=unknown)).replace("\\", "")
    assert note.splitlines()[2].startswith("Maya Patel (client visit: nosuch.example) out Mon Dec 7 – Fri Dec 11")
    assert ("⚠ The client nosuch.example is named as given in the notices: HubSpot has no company "
            "nosuch.example.") in note


def test_the_approval_request_shows_the_halves_and_the_visit(team):
    absence, timeline = planned(team, kind="client_visit", client_company="bigskyoutfitters.com",
                                start_half="afternoon", end_half="morning")
    body = render("approval_request.md", absence=absence, timeline=timeline, warnings=[], asked="Allison Reed",
                  asked_why="")
    assert ("asks to be out visiting the client bigskyoutfitters.com\nfrom **Monday, December 7, 2026 from 12:00** "
            "to **Friday, December 11, 2026 (morning)**\n(4 days), back on **Friday, December 11, 2026 at 12:00**.") \
        in body.replace("\\", "")


def test_the_coverage_board_shows_the_halves(team):
    absence, timeline = planned(team, start_half="afternoon", end_half="morning")
    facts = RunFacts(absence.run_id, "running", {"absence": absence.to_dict(), "timeline": timeline.to_dict()},
                     {"chosen_options": ["Approve"]})
    rows = board_rows([facts], pendulum.datetime(2026, 12, 8, 18, tz="UTC"))
    page = render("coverage_board.html", rows=rows, not_happening=[], now=NOW, days=30)
    assert "Mon Dec 7 from 12:00 – Fri Dec 11 morning<br>" in page
    assert "4 days, planned" in page and '<td class="back">Fri Dec 11 at 12:00</td>' in page


def test_a_shortened_half_day_absence_ends_on_a_whole_day(team):
    absence, timeline = planned(team, start_half="afternoon", end_half="morning")
    shorter = Plan(absence, timeline).ending(pendulum.date(2026, 12, 9), team, Change(summary="back early"))
    assert (shorter.absence.start_half, shorter.absence.end_half) == ("afternoon", "full")
    assert shorter.timeline.back_at.isoformat() == "2026-12-10T00:00:00-07:00"
    assert DaysOut.of(shorter.absence, shorter.timeline).short_span == "Mon Dec 7 from 12:00 – Wed Dec 9"
