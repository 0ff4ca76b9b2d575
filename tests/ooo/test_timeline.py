"""The timeline: dated moments in the employee's zone, working days only, DST-safe, catch-up and lapse."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pendulum
import pytest

from ooo.timeline import Timeline, local, plan_timeline

MAYA = "maya.patel@yellowstonelocal.com"  # CSM, America/Denver
PRIYA = "priya.nair@yellowstonelocal.com"  # CSM, Asia/Kolkata
SAM = "sam.okafor@yellowstonelocal.com"  # CSM, Europe/London
LENA = "lena.fischer@yellowstonelocal.com"  # CC, America/New_York


def wall(moment) -> str:
    """A moment as the employee's wall clock reads it."""
    return moment.strftime("%a %Y-%m-%d %H:%M %z")


def plan(make_absence, team, now=None, **kw):
    absence = make_absence(requested_at=now, **kw)
    return plan_timeline(absence, team, absence.requested_at)


def test_planned_week_off(make_absence, team):
    t = plan(make_absence, team, start="2026-12-07", end="2026-12-11")
    assert wall(t["team_notice"].at) == "Fri 2026-12-04 15:00 -0700"
    assert wall(t["auto_reply_on"].at) == "Mon 2026-12-07 00:00 -0700"
    assert wall(t["handover_meeting"].at) == "Fri 2026-12-04 14:00 -0700"
    assert [r.label for r in t.reviews] == ["2026-12-07", "2026-12-08", "2026-12-09", "2026-12-10",
                                           "2026-12-11", "2026-12-14 (return morning)"]
    assert wall(t["return_digest"].at) == "Mon 2026-12-14 08:30 -0700"
    assert t["auto_reply_off"].at == t["return_digest"].at == t.reviews[-1].at
    assert t.return_day == dt.date(2026, 12, 14)
    assert t.approval_deadline == t.out_from == local(dt.date(2026, 12, 7), dt.time(0), "America/Denver")
    assert t["approval"].skip is None and t["coverage_review"].skip.startswith("a coverage review is for CCs")
    assert t["customer_notice"] == dataclasses.replace(t["team_notice"], step="customer_notice")  # same moment


def test_customers_are_told_of_a_csms_absence_only(make_absence, team):
    lena = plan(make_absence, team, employee="lena.fischer@yellowstonelocal.com", start="2026-12-07",
                end="2026-12-11")
    assert lena["customer_notice"].skip == "customer notices are for CSMs; Lena Fischer is cc"
    assert lena["customer_notice"].at == lena["team_notice"].at
    sick = plan(make_absence, team, now=pendulum.datetime(2026, 12, 8, 15, tz="UTC"), kind="unexpected",
                start="2026-12-08", end="2026-12-09")
    assert sick["customer_notice"].skip is None and sick["customer_notice"].at == sick["team_notice"].at


def test_moments_come_in_the_order_the_dag_runs_them(make_absence, team):
    t = plan(make_absence, team, start="2026-12-07", end="2026-12-11")
    order = [t["calendar_cleanup"].at, t["team_notice"].at, t["auto_reply_on"].at,
             *(r.at for r in t.reviews), t["return_digest"].at]
    assert order == sorted(order)


def test_weekends_are_skipped_and_caught_by_mondays_review(make_absence, team):
    t = plan(make_absence, team, start="2026-12-04", end="2026-12-08")  # Fri..Tue
    assert wall(t["team_notice"].at) == "Thu 2026-12-03 15:00 -0700"
    days = [r.day.isoformat() for r in t.reviews]
    assert days == ["2026-12-04", "2026-12-07", "2026-12-08", "2026-12-09"]
    monday = t.reviews[1]
    assert wall(monday.since) == "Fri 2026-12-04 17:00 -0700"  # the weekend's texts
    assert wall(t.reviews[0].since) == "Fri 2026-12-04 00:00 -0700"  # first review: since the start


def test_holidays_move_the_notice_and_the_return(make_absence, team):
    # Out Mon Nov 30; Thanksgiving Thu 26 and Fri 27 are holidays: notice on Wed 25.
    t = plan(make_absence, team, start="2026-11-30", end="2026-12-02")
    assert wall(t["team_notice"].at) == "Wed 2026-11-25 15:00 -0700"
    # Back after Dec 23: Dec 24, 25 holidays, 26-27 weekend.
    t = plan(make_absence, team, start="2026-12-21", end="2026-12-23")
    assert t.return_day == dt.date(2026, 12, 28)


def test_a_weekend_only_absence_has_just_the_return_review(make_absence, team):
    t = plan(make_absence, team, start="2026-12-05", end="2026-12-06")
    assert [r.label for r in t.reviews] == ["2026-12-07 (return morning)"]


@pytest.mark.parametrize(
    ("employee", "start", "end", "before", "after"),
    [
        # US spring forward: Sun 2027-03-14 02:00 MST -> 03:00 MDT
        (MAYA, "2027-03-12", "2027-03-16", "-0700", "-0600"),
        # US fall back: Sun 2026-11-01
        (MAYA, "2026-10-30", "2026-11-03", "-0600", "-0700"),
        # Europe spring forward: Sun 2027-03-28
        (SAM, "2027-03-26", "2027-03-30", "+0000", "+0100"),
        # Europe fall back: Sun 2026-10-25
        (SAM, "2026-10-23", "2026-10-27", "+0100", "+0000"),
    ],
)
def test_local_times_hold_across_dst(make_absence, team, employee, start, end, before, after):
    now = pendulum.datetime(2026, 10, 1, tz="UTC")
    t = plan(make_absence, team, now=now, employee=employee, start=start, end=end)
    reviews = t.reviews[:-1]
    assert {r.at.strftime("%H:%M") for r in reviews} == {"17:00"}
    assert reviews[0].at.strftime("%z") == before and reviews[-1].at.strftime("%z") == after
    # The window over the change is still "17:00 Friday to 17:00 Monday": 71 or 73 real hours.
    over_weekend = reviews[1]
    assert wall(over_weekend.since).startswith("Fri") and wall(over_weekend.at).startswith("Mon")
    hours = (over_weekend.at - over_weekend.since) / dt.timedelta(hours=1)
    spring_forward = over_weekend.at.utcoffset() > over_weekend.since.utcoffset()
    assert hours == (71 if spring_forward else 73)


def test_a_local_time_skipped_by_dst_moves_forward():
    # 00:00 does not exist in Santiago on 2026-09-06 (clocks jump to 01:00).
    assert local(dt.date(2026, 9, 6), dt.time(0, 0), "America/Santiago").strftime("%H:%M %z") == "01:00 -0300"
    assert local(dt.date(2027, 3, 14), dt.time(2, 30), "America/Denver").strftime("%H:%M %z") == "03:30 -0600"


def test_a_roster_time_keeps_its_seconds():
    assert local(dt.date(2026, 12, 7), dt.time(15, 0, 30), "Europe/London").isoformat() == "2026-12-07T15:00:30+00:00"


def test_asia_kolkata(make_absence, team):
    now = pendulum.datetime(2026, 11, 30, 4, 0, tz="UTC")
    t = plan(make_absence, team, now=now, employee=PRIYA, start="2026-12-07", end="2026-12-08")
    assert wall(t["team_notice"].at) == "Fri 2026-12-04 15:00 +0530"
    assert t["team_notice"].at == pendulum.datetime(2026, 12, 4, 9, 30, tz="UTC")
    assert wall(t["return_digest"].at) == "Wed 2026-12-09 08:30 +0530"
    assert t["voicemail_reminder"].skip is None


def test_unexpected_absence_logged_at_2330_local(make_absence, team):
    logged = pendulum.datetime(2026, 12, 8, 23, 30, tz="America/Denver")  # Tue night, out from Wed
    t = plan(make_absence, team, now=logged, kind="unexpected", start="2026-12-09", end="2026-12-10")
    assert t["approval"].skip == "unexpected absence: no approval needed"
    assert t["team_notice"].at == logged and t["auto_reply_on"].at == logged  # at once
    assert t["handover_meeting"].skip == "unexpected absence: no time for a handover meeting"
    assert wall(t.reviews[0].at) == "Wed 2026-12-09 17:00 -0700"
    assert not t["team_notice"].skip


def test_unexpected_absence_logged_late_in_its_first_day_catches_up(make_absence, team):
    logged = pendulum.datetime(2026, 12, 9, 23, 30, tz="America/Denver")  # Wed night, out since Wed
    t = plan(make_absence, team, now=logged, kind="unexpected", start="2026-12-09", end="2026-12-10")
    first_review = t.reviews[0]
    assert first_review.at < logged  # its moment has passed: it runs at once when its turn comes
    assert t["team_notice"].is_late(logged) and t["auto_reply_on"].is_late(logged)
    assert not t["return_digest"].is_late(logged)


def test_lapsed_steps_are_skipped_with_the_reason(make_absence, team):
    # Logged (backfilled) after the absence was over: no day-before notice, no auto-reply on.
    logged = pendulum.datetime(2026, 12, 20, 12, 0, tz="UTC")
    t = plan(make_absence, team, now=logged, kind="unexpected", start="2026-12-07", end="2026-12-11")
    for step in ("team_notice", "customer_notice", "buddy_handover", "voicemail_reminder", "auto_reply_on",
                 "slack_status_on"):
        assert t[step].skip == "the absence was over before it was logged"
    assert t["return_digest"].skip is None and t["auto_reply_off"].skip is None
    assert t["slack_status_off"].skip == "no Slack status was set: the absence was over before it was logged"


def test_the_slack_status_goes_on_with_the_auto_reply_and_off_with_it(make_absence, team):
    t = plan(make_absence, team, start="2026-12-07", end="2026-12-11")
    assert t["slack_status_on"].at == t["auto_reply_on"].at and t["slack_status_on"].skip is None
    assert t["slack_status_off"].at == t["auto_reply_off"].at == t["return_digest"].at
    assert t["slack_status_off"].skip is None
    logged = pendulum.datetime(2026, 12, 8, 23, 30, tz="America/Denver")
    sick = plan(make_absence, team, now=logged, kind="unexpected", start="2026-12-09", end="2026-12-10")
    assert sick["slack_status_on"].at == logged  # at once, as the auto-reply


def test_a_backfill_requested_before_the_absence_reaches_every_moment_in_order(make_absence, team):
    # An ops backfill of a forgotten absence: logical date before it, so nothing lapses.
    requested = pendulum.datetime(2026, 11, 2, 15, 0, tz="UTC")
    t = plan(make_absence, team, now=requested, kind="unexpected", start="2026-11-02", end="2026-11-06")
    assert all(m.skip is None for name, m in t.moments.items()
               if name not in ("approval", "handover_meeting", "coverage_review", "visit_requests"))
    late = pendulum.datetime(2026, 11, 23, tz="UTC")
    assert all(m.is_late(late) for m in t.moments.values())


def test_handover_meeting_lapses_when_its_day_has_passed(make_absence, team):
    requested = pendulum.datetime(2026, 12, 4, 22, 0, tz="UTC")  # Fri 15:00 Denver: after 14:00
    t = plan(make_absence, team, now=requested, start="2026-12-07", end="2026-12-08")
    assert t["handover_meeting"].skip == (
        "the handover meeting's day (2026-12-04) had passed when the absence was requested")


def test_cc_coverage_review_a_week_before_where_dates_allow(make_absence, team):
    t = plan(make_absence, team, employee=LENA, start="2026-12-14", end="2026-12-18")
    assert wall(t["coverage_review"].at) == "Mon 2026-12-07 10:00 -0500"
    assert t["handover_meeting"].skip.startswith("a handover meeting is for CSMs")
    assert t["voicemail_reminder"].skip == "no JustCall number in the roster"
    soon = plan(make_absence, team, employee=LENA, start="2026-11-26", end="2026-11-27")
    assert soon["coverage_review"].skip.startswith("the coverage review's day")


def test_approval_asked_on_the_first_day_lasts_until_its_end(make_absence, team):
    now = pendulum.datetime(2026, 12, 7, 16, 0, tz="UTC")  # Mon 09:00 Denver, out from today
    t = plan(make_absence, team, now=now, start="2026-12-07", end="2026-12-08")
    assert wall(t.approval_deadline) == "Tue 2026-12-08 00:00 -0700"


def test_round_trips_through_xcom_json(make_absence, team):
    t = plan(make_absence, team)
    assert Timeline.from_dict(t.to_dict()) == t


# -- half days --------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("employee", "start", "end", "out_from", "back_at", "days"),
    [
        # Denver, over the US fall back (Sun 2026-11-01): out Fri afternoon (MDT), back Tue noon (MST).
        (MAYA, "2026-10-30", "2026-11-03", "Fri 2026-10-30 12:00 -0600", "Tue 2026-11-03 12:00 -0700",
         ["2026-10-30", "2026-11-02"]),
        # London, over the European spring forward (Sun 2027-03-28): GMT out, BST back.
        (SAM, "2027-03-26", "2027-03-30", "Fri 2027-03-26 12:00 +0000", "Tue 2027-03-30 12:00 +0100",
         ["2027-03-26", "2027-03-29"]),
    ],
)
def test_half_days_move_the_edges_to_the_split_across_dst(make_absence, team, employee, start, end, out_from,
                                                          back_at, days):
    now = pendulum.datetime(2026, 10, 1, tz="UTC")
    t = plan(make_absence, team, now=now, employee=employee, start=start, end=end, start_half="afternoon",
             end_half="morning")
    assert (wall(t.out_from), wall(t.back_at)) == (out_from, back_at)
    assert t.return_day == dt.date.fromisoformat(end)  # back on the last day, at noon
    # The auto-reply (and the visit's requests) from the split; the approval must come by then.
    assert t["auto_reply_on"].at == t["visit_requests"].at == t.approval_deadline == t.out_from
    # Back at noon: the return steps at the split, not the roster's 08:30 (before the return).
    assert t["auto_reply_off"].at == t["return_digest"].at == t.back_at
    # Each review covers only the part of a day out: the first from the split, the last morning by the return's.
    assert [r.day.isoformat() for r in t.reviews[:-1]] == days
    assert t.reviews[0].since == t.out_from and wall(t.reviews[0].at).endswith("17:00 " + out_from[-5:])
    final = t.reviews[-1]
    assert final.final and final.day == t.return_day and final.at == t.back_at
    assert final.since == t.reviews[-2].at
    assert all(b.since == a.at for a, b in zip(t.reviews, t.reviews[1:], strict=False))  # no gap, no overlap
    # The notices stay on the working day before, at the roster's time.
    assert wall(t["team_notice"].at).endswith("15:00 " + out_from[-5:])


def test_a_morning_off_is_reviewed_once_on_return_and_an_afternoon_off_the_same_evening(make_absence, team):
    morning = plan(make_absence, team, employee=PRIYA, start="2026-12-07", end="2026-12-07", end_half="morning")
    assert (wall(morning.out_from), wall(morning.back_at)) == ("Mon 2026-12-07 00:00 +0530",
                                                               "Mon 2026-12-07 12:00 +0530")
    assert [(r.label, wall(r.since), wall(r.at)) for r in morning.reviews] == [
        ("2026-12-07 (return morning)", "Mon 2026-12-07 00:00 +0530", "Mon 2026-12-07 12:00 +0530")]
    assert wall(morning["auto_reply_on"].at) == "Mon 2026-12-07 00:00 +0530"

    afternoon = plan(make_absence, team, employee=PRIYA, start="2026-12-07", end="2026-12-07",
                     start_half="afternoon")
    assert (wall(afternoon.out_from), wall(afternoon.back_at)) == ("Mon 2026-12-07 12:00 +0530",
                                                                   "Tue 2026-12-08 00:00 +0530")
    assert [(r.label, wall(r.since), wall(r.at)) for r in afternoon.reviews] == [
        ("2026-12-07", "Mon 2026-12-07 12:00 +0530", "Mon 2026-12-07 17:00 +0530"),
        ("2026-12-08 (return morning)", "Mon 2026-12-07 17:00 +0530", "Tue 2026-12-08 08:30 +0530")]


def test_the_split_is_the_teams(make_absence, team):
    import dataclasses

    late_split = dataclasses.replace(team, half_day_split=dt.time(13, 30))
    absence = make_absence(start="2026-12-07", end="2026-12-08", start_half="afternoon", end_half="morning")
    t = plan_timeline(absence, late_split, absence.requested_at)
    assert (wall(t.out_from), wall(t.back_at)) == ("Mon 2026-12-07 13:30 -0700", "Tue 2026-12-08 13:30 -0700")
    # A split after the review's time: the day's review waits for the afternoon to begin.
    evening = dataclasses.replace(team, half_day_split=dt.time(18))
    t = plan_timeline(absence, evening, absence.requested_at)
    assert wall(t.reviews[0].at) == "Mon 2026-12-07 18:00 -0700" and t.reviews[0].since == t.out_from


def test_whole_days_are_as_they_were(make_absence, team):
    t = plan(make_absence, team, start="2026-12-07", end="2026-12-11")
    assert (wall(t.out_from), wall(t.back_at)) == ("Mon 2026-12-07 00:00 -0700", "Mon 2026-12-14 00:00 -0700")


# -- client visits ----------------------------------------------------------------------------------
def test_visit_requests_go_with_the_auto_reply_and_only_for_a_client_visit(make_absence, team):
    visit = plan(make_absence, team, kind="client_visit", client_company="bigskyoutfitters.com")
    assert visit["visit_requests"].skip is None and visit["visit_requests"].at == visit["auto_reply_on"].at
    assert visit["approval"].skip is None  # approved like a planned absence
    assert wall(visit["team_notice"].at) == "Fri 2026-12-04 15:00 -0700"
    for kind in ("planned", "unexpected"):
        other = plan(make_absence, team, kind=kind)
        assert other["visit_requests"].skip == f"only for a client visit; this is a {kind} absence"


def test_a_plan_made_before_a_step_existed_skips_it(make_absence, team):
    raw = plan(make_absence, team).to_dict()
    del raw["moments"]["visit_requests"]  # a run filed under the release before client visits
    old = Timeline.from_dict(raw)
    assert old["visit_requests"].skip == "planned before this step existed: not in this plan"
    assert "visit_requests" not in old.moments
