"""What an absence will do, and when, before it does anything: ``ooo plan`` and the dry run.

The preview is read off the timeline the DAG's steps wait for (:func:`ooo.timeline.plan_timeline`,
with the run's logical date as "now") by the same rules: a step the timeline marks as lapsed is
skipped with its reason, and a moment at or before now runs at once (:meth:`Moment.is_late`,
catch-up). With the services, it asks the step modules' own "what would be done" functions
(:func:`~ooo.steps.calendar.meeting_plans`, :func:`~ooo.steps.notices.team_notice_text`,
:func:`~ooo.steps.customer_notice.audience`, :func:`~ooo.steps.auto_reply.desired_settings`,
:func:`~ooo.steps.slack_status.status_text`) through clients that can only read. So the
preview cannot promise what a run would not do, and looking cannot change anything.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Literal, cast
from zoneinfo import ZoneInfo

from ooo.absence import Absence
from ooo.procedure import MEETINGS, STEPS, Step
from ooo.run_note import clip
from ooo.services import Services
from ooo.steps.calendar import meeting_plans, meeting_skip, ooo_event_text, reschedule_note
from ooo.steps.context import StepContext
from ooo.team import Team
from ooo.templates import local_time, render
from ooo.timeline import Moment, Timeline

Status = Literal["scheduled", "at_once", "skipped"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PlannedStep:
    """One entry of the preview: a step (or one day's review), its moment, and what happens then."""

    step: str
    at: dt.datetime  # aware, in the employee's time zone
    status: Status
    reason: str
    label: str = ""  # the review's day, as the UI labels the mapped sms_review

    @property
    def at_utc(self) -> dt.datetime:
        return self.at.astimezone(dt.timezone.utc)

    def to_dict(self) -> dict[str, Any]:
        return {"step": self.step, "at": self.at.isoformat(), "at_utc": self.at_utc.isoformat(),
                "status": self.status, "reason": self.reason}


@dataclass(frozen=True)
class Preview:
    """An absence's preview: what ``ooo plan`` prints and a dry run logs (``notes``: what was not checked)."""

    absence: Absence
    timeline: Timeline
    now: dt.datetime
    steps: list[PlannedStep]
    services: dict[str, Any] | None = None  # what the steps would do, as the services are now
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        absence = self.absence
        out: dict[str, Any] = {
            "employee": absence.employee.email,
            "name": absence.employee.name,
            "timezone": self.timeline.timezone,
            "return_date": self.timeline.return_day.isoformat(),
            "start_date": absence.start.isoformat(),
            "end_date": absence.end.isoformat(),
            "kind": absence.kind,
            "start_half": absence.start_half,
            "end_half": absence.end_half,
            "out_from": self.timeline.out_from.isoformat(),
            "back_at": self.timeline.back_at.isoformat(),
            "backup_buddy": absence.buddy.email,
            "run_id": absence.run_id,
            "now": self.now.isoformat(),
            "steps": [s.to_dict() for s in self.steps],
        }
        if absence.is_client_visit:
            out["client_company"] = absence.client_company
        if self.notes:
            out["notes"] = list(self.notes)
        if self.services is not None:
            out["services"] = self.services
        return out


def planned_steps(absence: Absence, timeline: Timeline, now: dt.datetime) -> list[PlannedStep]:
    """Every moment of ``timeline`` (one ``sms_review`` per day), in the order they happen.

    What runs at once happens at ``now``, in the DAG's order (an absence logged on its third day
    posts its notice, then catches up on the first two days' texts); the rest at their moments.
    """
    entries: list[PlannedStep] = []
    for name, moment in timeline.moments.items():
        skip = meeting_skip(absence, timeline, Step(name)) if name in MEETINGS else moment.skip
        entries.append(_entry(absence, timeline, moment, skip, now))
    for review in timeline.reviews:
        moment = Moment(step="sms_review", at=review.at)
        since = local_time(review.since, timeline.timezone)
        entries.append(_entry(absence, timeline, moment, None, now, f"texts since {since}", review.label))
    order = {name.value: i for i, name in enumerate(STEPS)}  # same moment: the order the DAG runs them
    return sorted(entries, key=lambda e: (max(e.at, now) if e.status == "at_once" else e.at,
                                          order.get(e.step, len(order)), e.at))


def _entry(absence: Absence, timeline: Timeline, moment: Moment, skip: str | None, now: dt.datetime,
           scheduled: str = "", label: str = "") -> PlannedStep:
    step, at, tz = moment.step, moment.at, timeline.timezone
    if skip:
        return PlannedStep(step, at, "skipped", skip, label)
    if not moment.is_late(now):
        if step in MEETINGS:
            scheduled = "booked by calendar_cleanup for then"
        return PlannedStep(step, at, "scheduled", scheduled or "waits for its moment (deferred)", label)
    if at < now:
        return PlannedStep(step, at, "at_once", f"catch-up: due {local_time(at, tz)}, already past", label)
    # At the request itself: the timeline puts it there.
    if step == "approval" and absence.approved_by is not None:
        reason = f"approved by {absence.approved_by.name} when filed: no wait"
    elif step == "approval":
        manager = absence.manager.name if absence.manager else "the manager"
        reason = (f"asks {manager} at once; no answer by "
                  f"{local_time(timeline.approval_deadline, tz)} counts as a rejection")
    elif step == "calendar_cleanup" and not absence.is_unexpected:
        reason = "right after the approval"
    else:
        reason = "unexpected absence: at once" if absence.is_unexpected else "at once"
    return PlannedStep(step, at, "at_once", reason, label)


def preview(absence: Absence, timeline: Timeline, now: dt.datetime, ctx: StepContext | None = None,
            notes: list[str] | None = None) -> Preview:
    """The timeline's preview; with ``ctx`` (read-only services) also what the steps would do."""
    services = services_preview(ctx) if ctx is not None else None
    return Preview(absence, timeline, now, planned_steps(absence, timeline, now), services, notes or [])


# -- what the steps would do, read from the services ------------------------------------------
def services_preview(ctx: StepContext) -> dict[str, Any]:
    """What calendar_cleanup, team_notice, customer_notice, auto_reply_on and slack_status_on would do, as the
    services are now."""
    from ooo.services import SLACK_USER_MISSING
    from ooo.steps.auto_reply import desired_settings
    from ooo.steps.client_visit import visited_company
    from ooo.steps.notices import team_notice_text
    from ooo.steps.slack_status import return_moment, status_text

    absence, timeline, tz = ctx.absence, ctx.timeline, ctx.absence.employee.timezone
    google = ctx.services.google(absence.employee.email)
    events = google.list_events(timeline.out_from, timeline.back_at, single_events=True)
    decline, left = [], []
    for plan in meeting_plans(ctx, events):
        if plan.skip:
            left.append({"summary": plan.summary, "when": plan.when, "reason": plan.skip})
            continue
        entry: dict[str, Any] = {"summary": plan.summary, "when": plan.when, "kind": plan.kind,
                                 "organised": plan.organiser, "reschedule_to": [a["email"] for a in plan.external]}
        if plan.external:
            entry["reschedule_subject"] = reschedule_note(ctx, plan)[0]
        decline.append(entry)
    block, message = ooo_event_text(ctx)
    reply = desired_settings(ctx)
    emoji, status = status_text(ctx)
    visit = {}
    if (company := visited_company(ctx)) is not None:
        visit = {"visit_requests": {"company": company.name, "hubspot_id": company.id, "unknown": company.unknown,
                                    "to": absence.employee.email,
                                    "at": local_time(timeline[Step.VISIT_REQUESTS].at, tz)}}
    return {
        "calendar_cleanup": {
            "ooo_block": {"summary": block, "from": local_time(timeline.out_from, tz),
                          "until": local_time(timeline.back_at, tz), "decline_message": message},
            "decline": decline,
            "left_alone": left,
        },
        "team_notice": {"channel": ctx.team.channels["team_notice"], "text": team_notice_text(ctx).strip()},
        "customer_notice": customer_notice_preview(ctx),
        "auto_reply_on": {"subject": reply["responseSubject"], "text": reply["responseBodyPlainText"].strip(),
                          "from": local_time(timeline.out_from, tz), "until": local_time(timeline.back_at, tz)},
        "slack_status_on": {"emoji": emoji, "text": status, "until": local_time(return_moment(timeline), tz),
                            "skipped": SLACK_USER_MISSING if ctx.services.slack_user is None else None},
        **visit,
    }


def customer_notice_preview(ctx: StepContext) -> dict[str, Any]:
    """Who customer_notice would write to (and leave out, and why), the subject, and the CC."""
    from ooo.steps.customer_notice import audience, notice_email, paired_cc

    who = audience(ctx)
    if who.skipped and not who.recipients:
        out: dict[str, Any] = {"skipped": who.skipped}
    else:
        out = {"to": [{"name": r.name, "address": r.address, "companies": list(r.companies)} for r in who.recipients],
               "left_out": [{"company": o.company, "contact": o.contact, "address": o.address, "reason": o.reason}
                            for o in who.left_out],
               "subject": notice_email(ctx, who.recipients[0])[0] if who.recipients else None,
               "companies": len({c for r in who.recipients for c in r.company_ids})}
    cc, why = paired_cc(ctx) if ctx.absence.employee.role == "csm" else (None, None)
    if cc is not None:
        out["cc"] = {"name": cc.name, "email": cc.email}
    elif why:
        out["cc_skipped"] = why
    return out


class ReadOnly:
    """A client limited to the calls that only read; any other call raises before it is made."""

    def __init__(self, client: Any, reads: frozenset[str], service: str):
        self._client, self._reads, self._service = client, reads, service

    def __getattr__(self, name: str) -> Any:
        if name not in self._reads:
            raise PermissionError(f"the preview only reads: {self._service}.{name} is not allowed")
        return getattr(self._client, name)


class ReadOnlyServices(Services):
    """The steps' clients for a preview: Calendar, Gmail settings, Slack and HubSpot lookups, read only."""

    GOOGLE_READS = frozenset({"list_events", "get_event", "get_vacation", "find_message"})
    SLACK_READS = frozenset({"user_id_for", "channel_id", "find_message_with_metadata"})
    HUBSPOT_READS = frozenset({"owned_companies", "company_contacts", "find_contact", "find_company",
                               "find_logged_email"})

    def google(self, user: str) -> Any:
        return ReadOnly(super().google(user), self.GOOGLE_READS, "google")

    @cached_property
    def slack(self) -> Any:
        return ReadOnly(cast(Any, Services.slack).func(self), self.SLACK_READS, "slack")

    @cached_property
    def hubspot(self) -> Any:
        return ReadOnly(cast(Any, Services.hubspot).func(self), self.HUBSPOT_READS, "hubspot")

    @cached_property
    def slack_user(self) -> Any:
        client = cast(Any, Services.slack_user).func(self)
        return None if client is None else ReadOnly(client, self.SLACK_READS, "slack")


def preview_context(absence: Absence, team: Team, timeline: Timeline, now: dt.datetime,
                    run_id: str | None = None) -> StepContext:
    """A step context over read-only clients, as the steps would get it at ``now``."""
    return StepContext(absence=absence, team=team, timeline=timeline, run_id=run_id or absence.run_id,
                       now=now, services=ReadOnlyServices())


# -- rendering --------------------------------------------------------------------------------
def render_text(result: Preview) -> str:
    """The preview as a person reads it (``ooo plan``, the dry run's log)."""
    tz = result.timeline.timezone
    head = (f"Local ({tz})", "UTC", "Step", "Status", "Why")
    rows = [head] + [(s.at.astimezone(ZoneInfo(tz)).strftime("%a %Y-%m-%d %H:%M %Z"),
                      s.at_utc.strftime("%Y-%m-%d %H:%M"), f"{s.step} {s.label}" if s.label else s.step,
                      s.status.replace("_", " "), s.reason) for s in result.steps]
    widths = [max(len(row[i]) for row in rows) + 2 for i in range(len(head) - 1)]
    table = ["".join(cell.ljust(w) for cell, w in zip(row[:-1], widths, strict=True)) + row[-1] for row in rows]
    return render("plan.txt", absence=result.absence, timeline=result.timeline, table=table,
                  now=local_time(result.now, tz), services=result.services, notes=result.notes)


def render_json(result: Preview) -> str:
    return json.dumps(result.to_dict(), indent=2, ensure_ascii=False) + "\n"


def dry_run_note(result: Preview) -> str:
    """The dry run's note in the Airflow UI: that nothing was changed, and the steps' dates."""
    return clip(render("dry_run_note.md", absence=result.absence, timeline=result.timeline, steps=result.steps,
                       tz=result.timeline.timezone).strip())


def dry_run(absence: Absence, timeline: Timeline, now: dt.datetime, logger: logging.Logger = log) -> Preview:
    """The dry run's preview, logged. The timeline only: reading the services would need their
    credentials exercised (an OAuth token issued), and a dry run changes nothing anywhere."""
    result = preview(absence, timeline, now)
    logger.info("Dry run: nothing will be changed; every later task is skipped.\n%s", render_text(result))
    return result
