"""What the seeds ask people to tell: the team notice, the buddy's handover, the voicemail script;
and the manager's approval request and the employee's "not approved".

Each is one Slack message, posted once (:func:`ooo.steps.slack_posts.post_once`).
"""

from __future__ import annotations

import dataclasses
from typing import Any

from ooo.keys import SlackEvent
from ooo.procedure import Step
from ooo.records import BuddyHandover, DeclinedMeeting, OrganisedMeeting, SlackPost, TeamNotice
from ooo.steps.client_visit import VisitedCompany, visited_company
from ooo.steps.context import StepContext
from ooo.steps.slack_posts import mention, post_once, user_id
from ooo.team import Person
from ooo.templates import Mrkdwn, days_out, local_time, render, slack_escape
from ooo.times import maybe_instant


def team_notice(ctx: StepContext) -> TeamNotice:
    """The seed's OOO message in the team channel (dates, backup buddy, reachable, note); for a client
    visit, the seed's "any needs for photos or approval": the team asked to reply in its thread."""
    slack = ctx.services.slack
    channel = slack.channel_id(ctx.team.channels["team_notice"])
    company = visited_company(ctx)
    posted = post_once(ctx, channel, SlackEvent.TEAM_NOTICE, team_notice_text(ctx, company), "team notice")
    if company is None:
        return TeamNotice(**dataclasses.asdict(posted))
    return TeamNotice(**dataclasses.asdict(posted), client_company_id=company.id, client_company=company.name,
                      client_company_unknown=company.unknown)


def team_notice_text(ctx: StepContext, company: VisitedCompany | None = None) -> str:
    """The team notice as posted (``ooo plan --services`` shows it; looking up mentions and the
    visited company only reads)."""
    company = company or visited_company(ctx)
    return render("team_notice.slack", absence=ctx.absence, return_day=ctx.timeline.return_day,
                  days=days_out(ctx.absence, ctx.timeline), client=company.name if company else "",
                  requests_by=local_time(ctx.timeline[Step.VISIT_REQUESTS].at, ctx.absence.employee.timezone),
                  employee=mention(ctx, ctx.absence.employee), buddy=mention(ctx, ctx.absence.buddy))


def buddy_handover(ctx: StepContext) -> BuddyHandover:
    """A DM to the backup buddy: what they cover, escalations, the meetings that need them."""
    slack = ctx.services.slack
    buddy = user_id(ctx, ctx.absence.buddy)
    channel = slack.open_dm(buddy)
    cleanup = ctx.records.calendar_cleanup
    tz = ctx.absence.employee.timezone
    organised = [_shown(m, tz) for m in cleanup.organised] if cleanup else []
    hosted = {m.id for m in cleanup.organised} if cleanup else set()
    client_meetings = [_shown(m, tz) for m in cleanup.declined if m.kind == "external" and m.id not in hosted] \
        if cleanup else []
    company = visited_company(ctx)
    text = render("buddy_handover.slack", absence=ctx.absence, return_day=ctx.timeline.return_day,
                  days=days_out(ctx.absence, ctx.timeline), client=company.name if company else "",
                  employee=mention(ctx, ctx.absence.employee), meetings_known=cleanup is not None,
                  organised=organised, client_meetings=client_meetings)
    posted = post_once(ctx, channel, SlackEvent.BUDDY_HANDOVER, text, f"handover DM to {ctx.absence.buddy.name}")
    return BuddyHandover(**dataclasses.asdict(posted) | {"user": buddy}, organised=len(organised),
                         client_meetings=len(client_meetings))


def voicemail_reminder(ctx: StepContext) -> SlackPost:
    """A DM to the employee: the seed's voicemail script, to set by hand (JustCall's API can't)."""
    employee = ctx.absence.employee
    if not employee.justcall_number:
        ctx.log.info("%s has no JustCall number in the roster: no voicemail to change", employee.name)
        return SlackPost(skipped="no JustCall number in the roster")
    slack = ctx.services.slack
    user = user_id(ctx, employee)
    text = render("voicemail_reminder.slack", absence=ctx.absence, return_day=ctx.timeline.return_day,
                  days=days_out(ctx.absence, ctx.timeline), company=ctx.team.company,
                  support_email=ctx.team.support_email)
    posted = post_once(ctx, slack.open_dm(user), SlackEvent.VOICEMAIL_REMINDER, text,
                       f"voicemail script DM to {employee.name}")
    return dataclasses.replace(posted, user=user)


def ask_manager(ctx: StepContext, link: str, manager: Person | None = None, why: str = "") -> SlackPost:
    """A DM to whoever approves (the manager, or ``manager`` their deputy, ``why``): the absence to approve,
    with a link to the approval in Airflow."""
    manager = manager or ctx.absence.manager
    if manager is None:
        ctx.log.info("%s has no manager in the roster: the approval waits in Airflow only",
                     ctx.absence.employee.name)
        return SlackPost(skipped="no manager in the roster")
    slack = ctx.services.slack
    user = user_id(ctx, manager)
    text = render("approval_request.slack", absence=ctx.absence, return_day=ctx.timeline.return_day,
                  days=days_out(ctx.absence, ctx.timeline),
                  manager_mention=mention(ctx, manager), employee_mention=mention(ctx, ctx.absence.employee),
                  link=Mrkdwn(f"<{slack_escape(link)}|Open the approval in Airflow>"), asked_why=why,
                  deadline=ctx.timeline.approval_deadline, tz=manager.timezone)
    posted = post_once(ctx, slack.open_dm(user), SlackEvent.APPROVAL_REQUEST, text,
                       f"approval request to {manager.name}")
    return dataclasses.replace(posted, user=user)


def tell_employee_not_approved(ctx: StepContext, why: str) -> SlackPost:
    """A DM to the employee: the absence was not approved (rejected, or no answer), and why."""
    employee = ctx.absence.employee
    slack = ctx.services.slack
    user = user_id(ctx, employee)
    text = render("not_approved.slack", absence=ctx.absence, why=why, employee_mention=mention(ctx, employee),
                  days=days_out(ctx.absence, ctx.timeline))
    posted = post_once(ctx, slack.open_dm(user), SlackEvent.NOT_APPROVED, text, f"not-approved DM to {employee.name}")
    return dataclasses.replace(posted, user=user)


def _shown(m: DeclinedMeeting | OrganisedMeeting, tz: str) -> dict[str, Any]:
    """A meeting as the buddy's DM lists it: when, and its title linked to the event."""
    start = maybe_instant(m.start)
    when = m.when or (local_time(start, tz) if start else m.start)
    title: str | Mrkdwn = m.summary or "(no title)"
    link = m.html_link
    if link and link.startswith("https://") and not any(c in link for c in "<>| "):
        title = Mrkdwn(f"<{link}|{slack_escape(m.summary or '(no title)').replace('|', '¦')}>")
    external = ", ".join(m.external) if isinstance(m, OrganisedMeeting) else ""
    return {"id": m.id, "when": when, "title": title, "external": external}
