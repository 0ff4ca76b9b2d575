"""The absence timeline: when each step of the OOO procedure happens.

One pure function, :func:`plan_timeline`, turns an absence and the team's settings into dated
moments in the employee's time zone. Weekends and the team's holidays are skipped, and local
times are built with pendulum, so 17:00 stays 17:00 across a DST change (a local time that does
not exist on a spring-forward day moves forward to the first one that does).

Half days (``start_half``, ``end_half``) move the edges to the team's split time
(``team.half_day_split``): an afternoon off starts the absence there, a morning off ends it there,
and every moment tied to the edges follows: the out-of-office block and the auto-reply, the
approval's deadline, the return steps (never before the return), and the daily reviews (each covers
only the part of a day out: the return's review covers a last morning).

Two rules from the procedure:

* catch-up: a moment already past when its turn comes runs at once (an absence logged late
  still gets its notices); :meth:`Moment.is_late` tells;
* lapsed: a step whose purpose is gone when the absence is requested (the day-before notice of
  an absence already over, a handover meeting on a day already past) is skipped, and
  :attr:`Moment.skip` says why.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pendulum

from ooo.absence import Absence
from ooo.procedure import Step
from ooo.team import Team


@dataclass(frozen=True)
class Moment:
    step: str
    at: dt.datetime  # aware, in the employee's time zone
    skip: str | None = None  # why the step will not run, when it will not

    def is_late(self, now: dt.datetime) -> bool:
        """Already past: the step runs at once instead of waiting (catch-up)."""
        return self.at <= now

    def to_dict(self) -> dict[str, Any]:
        return {"step": self.step, "at": self.at.isoformat(), "skip": self.skip}


@dataclass(frozen=True)
class Review:
    """One daily review of the employee's SMS queue: texts received in ``since``..``at``."""

    day: dt.date
    at: dt.datetime
    since: dt.datetime
    final: bool = False  # the return morning's review of the final stretch

    @property
    def label(self) -> str:
        return f"{self.day.isoformat()} (return morning)" if self.final else self.day.isoformat()

    def to_dict(self) -> dict[str, Any]:
        return {
            "day": self.day.isoformat(),
            "at": self.at.isoformat(),
            "since": self.since.isoformat(),
            "final": self.final,
            "label": self.label,
        }


@dataclass(frozen=True)
class Timeline:
    timezone: str
    out_from: dt.datetime  # start of the first day out (the split time on a half first day)
    back_at: dt.datetime  # start of the first working day back (the split time on a half last day)
    return_day: dt.date
    approval_deadline: dt.datetime
    moments: dict[str, Moment]
    reviews: tuple[Review, ...]

    def __getitem__(self, step: str) -> Moment:
        """The step's moment; a step added after this plan was made (a run in flight across a
        release) has none, and is skipped, saying so."""
        found = self.moments.get(step)
        if found is None:
            return Moment(step=str(step), at=self.out_from, skip="planned before this step existed: not in this plan")
        return found

    def to_dict(self) -> dict[str, Any]:
        return {
            "timezone": self.timezone,
            "out_from": self.out_from.isoformat(),
            "back_at": self.back_at.isoformat(),
            "return_day": self.return_day.isoformat(),
            "approval_deadline": self.approval_deadline.isoformat(),
            "moments": {name: m.to_dict() for name, m in self.moments.items()},
            "reviews": [r.to_dict() for r in self.reviews],
        }

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> Timeline:
        parse = dt.datetime.fromisoformat
        return cls(
            timezone=raw["timezone"],
            out_from=parse(raw["out_from"]),
            back_at=parse(raw["back_at"]),
            return_day=dt.date.fromisoformat(raw["return_day"]),
            approval_deadline=parse(raw["approval_deadline"]),
            moments={
                name: Moment(step=m["step"], at=parse(m["at"]), skip=m.get("skip"))
                for name, m in raw["moments"].items()
            },
            reviews=tuple(
                Review(
                    day=dt.date.fromisoformat(r["day"]),
                    at=parse(r["at"]),
                    since=parse(r["since"]),
                    final=r.get("final", False),
                )
                for r in raw["reviews"]
            ),
        )


def local(day: dt.date, at: dt.time, tz: str) -> dt.datetime:
    """``day`` at local time ``at`` in ``tz``; a time skipped by DST moves forward."""
    return _plain(pendulum.datetime(day.year, day.month, day.day, at.hour, at.minute, at.second, tz=tz))


def _plain(moment: dt.datetime) -> dt.datetime:
    """A stdlib datetime with the moment's UTC offset: what the plan's JSON reads back as."""
    return dt.datetime.fromisoformat(moment.isoformat())


def plan_timeline(absence: Absence, team: Team, now: dt.datetime) -> Timeline:
    """Every dated moment of ``absence``; ``now`` is when it was requested (the run's logical date)."""
    tz = absence.employee.timezone
    now = _plain(pendulum.instance(now).in_timezone(tz))
    times = team.times
    midnight, split = dt.time(0, 0), team.half_day_split
    out_from = local(absence.start, split if absence.starts_afternoon else midnight, tz)
    if absence.ends_morning:  # back at the split on the last day
        return_day, back_at = absence.end, local(absence.end, split, tz)
    else:
        return_day = team.next_working_day(absence.end)
        back_at = local(return_day, midnight, tz)
    digest_at = max(back_at, local(return_day, times["return_digest"], tz))  # never before the return
    day_before = team.previous_working_day(absence.start)
    unexpected = absence.is_unexpected
    over = "the absence was over before it was logged" if now >= back_at else None

    moments: dict[str, Moment] = {}

    def add(step: Step, at: dt.datetime, skip: str | None = None) -> None:
        moments[step.value] = Moment(step=step.value, at=at, skip=skip)

    add(Step.APPROVAL, now, "unexpected absence: no approval needed" if unexpected else None)
    add(Step.CALENDAR_CLEANUP, now)

    handover_at = local(day_before, times.get(Step.HANDOVER_MEETING, dt.time(14)), tz)
    add(Step.HANDOVER_MEETING, handover_at, _meeting_skip(absence, "csm", handover_at, now, day_before))
    review_day = _on_or_before(team, absence.start - dt.timedelta(days=7))
    coverage_at = local(review_day, times.get(Step.COVERAGE_REVIEW, dt.time(10)), tz)
    add(Step.COVERAGE_REVIEW, coverage_at, _meeting_skip(absence, "cc", coverage_at, now, review_day))

    notice_at = now if unexpected else local(day_before, times["team_notice"], tz)
    add(Step.TEAM_NOTICE, notice_at, over)
    add(Step.CUSTOMER_NOTICE, notice_at, over or customer_notice_skip(absence))
    add(Step.BUDDY_HANDOVER, notice_at, over)
    no_number = None if absence.employee.justcall_number else "no JustCall number in the roster"
    add(Step.VOICEMAIL_REMINDER, notice_at, over or no_number)
    reply_at = now if unexpected else max(out_from, local(absence.start, times["auto_reply_on"], tz))
    add(Step.AUTO_REPLY_ON, reply_at, over)
    add(Step.SLACK_STATUS_ON, reply_at, over)  # with the auto-reply; Slack clears it at the return moment
    # A client visit: the team's requests reach the employee the morning they leave, with the auto-reply.
    not_a_visit = None if absence.is_client_visit else f"only for a client visit; this is a {absence.kind} absence"
    add(Step.VISIT_REQUESTS, reply_at, over or not_a_visit)
    add(Step.AUTO_REPLY_OFF, digest_at)
    add(Step.SLACK_STATUS_OFF, digest_at, over and "no Slack status was set: " + over)
    add(Step.RETURN_DIGEST, digest_at)

    return Timeline(
        timezone=tz,
        out_from=out_from,
        back_at=back_at,
        return_day=return_day,
        approval_deadline=_approval_deadline(out_from, now, tz),
        moments=moments,
        reviews=_reviews(absence, team, out_from, return_day, digest_at, tz),
    )


def _reviews(
    absence: Absence, team: Team, out_from: dt.datetime, return_day: dt.date, digest_at: dt.datetime, tz: str
) -> tuple[Review, ...]:
    """One review each working day out, of the texts since the last one; then the return's, of the
    last stretch (a last morning out is the return's to review: back at noon, the day's review is
    the return's)."""
    reviews: list[Review] = []
    since = out_from
    day = absence.start
    last = absence.end - dt.timedelta(days=1) if absence.ends_morning else absence.end
    while day <= last:
        if team.is_working_day(day):
            at = max(local(day, team.times["sms_review"], tz), since)  # an afternoon off: from the split
            reviews.append(Review(day=day, at=at, since=since))
            since = at
        day += dt.timedelta(days=1)
    reviews.append(Review(day=return_day, at=digest_at, since=since, final=True))
    return tuple(reviews)


def customer_notice_skip(absence: Absence) -> str | None:
    """Why nobody's customers hear of this absence: only a CSM has customers (and a paired CC)."""
    employee = absence.employee
    if employee.role != "csm":
        return f"customer notices are for CSMs; {employee.name} is {employee.role}"
    return None


def _meeting_skip(
    absence: Absence, role: str, at: dt.datetime, now: dt.datetime, day: dt.date
) -> str | None:
    what = "handover meeting" if role == "csm" else "coverage review"
    if absence.employee.role != role:
        return f"a {what} is for {role.upper()}s; {absence.employee.name} is {absence.employee.role}"
    if absence.is_unexpected:
        return f"unexpected absence: no time for a {what}"
    if at <= now:
        return f"the {what}'s day ({day.isoformat()}) had passed when the absence was requested"
    return None


def _on_or_before(team: Team, day: dt.date) -> dt.date:
    return day if team.is_working_day(day) else team.previous_working_day(day)


def _approval_deadline(out_from: dt.datetime, now: dt.datetime, tz: str) -> dt.datetime:
    """The manager answers before the absence starts; asked on the day itself, by its end."""
    if out_from > now:
        return out_from
    return local(now.date() + dt.timedelta(days=1), dt.time(0, 0), tz)
