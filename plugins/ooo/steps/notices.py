"""What the seeds ask people to tell: the team notice, the buddy's handover, the voicemail script.

Each is one Slack message, posted once: the message carries metadata ``{event_type, event_payload:
{key: <the run's key>}}`` and the step first looks for it in the channel's recent history, so a
retry or a re-run finds the earlier post instead of posting again. People are mentioned by Slack
id (the roster's ``slack_id``, else looked up by email).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from ooo.messages import Mrkdwn, local_time, render, slack_escape
from ooo.services.once import write_once
from ooo.steps import StepContext
from ooo.team import Person

NOTICE_EVENT = "ooo_team_notice"
HANDOVER_EVENT = "ooo_buddy_handover"
VOICEMAIL_EVENT = "ooo_voicemail_reminder"
APPROVAL_EVENT = "ooo_approval_request"
NOT_APPROVED_EVENT = "ooo_not_approved"


def team_notice(ctx: StepContext) -> dict[str, Any]:
    """The seed's OOO message in the team channel (dates, backup buddy, reachable, note)."""
    slack = ctx.services.slack
    channel = slack.channel_id(ctx.team.channels["team_notice"])
    return post_once(ctx, channel, NOTICE_EVENT, team_notice_text(ctx), "team notice")


def team_notice_text(ctx: StepContext) -> str:
    """The team notice as posted (``ooo plan --services`` shows it; looking up mentions only reads)."""
    return render("team_notice.slack", absence=ctx.absence, return_day=ctx.timeline.return_day,
                  employee=mention(ctx, ctx.absence.employee), buddy=mention(ctx, ctx.absence.buddy))


def buddy_handover(ctx: StepContext) -> dict[str, Any]:
    """A DM to the backup buddy: what they cover, escalations, the meetings that need them."""
    slack = ctx.services.slack
    buddy = user_id(ctx, ctx.absence.buddy)
    channel = slack.open_dm(buddy)
    cleanup = ctx.records.get("calendar_cleanup")
    tz = ctx.absence.employee.timezone
    organised = [_meeting(m, tz) for m in _dicts(cleanup.get("organised"))]
    client_meetings = [_meeting(m, tz) for m in _dicts(cleanup.get("declined"))
                       if m.get("kind") == "external" or m.get("external")]
    client_meetings = [m for m in client_meetings if m["id"] not in {o["id"] for o in organised}]
    text = render("buddy_handover.slack", absence=ctx.absence, return_day=ctx.timeline.return_day,
                  employee=mention(ctx, ctx.absence.employee), meetings_known=bool(cleanup),
                  organised=organised, client_meetings=client_meetings)
    record = post_once(ctx, channel, HANDOVER_EVENT, text, f"handover DM to {ctx.absence.buddy.name}")
    return {**record, "user": buddy, "organised": len(organised), "client_meetings": len(client_meetings)}


def voicemail_reminder(ctx: StepContext) -> dict[str, Any]:
    """A DM to the employee: the seed's voicemail script, to set by hand (JustCall's API can't)."""
    employee = ctx.absence.employee
    if not employee.justcall_number:
        ctx.log.info("%s has no JustCall number in the roster: no voicemail to change", employee.name)
        return {"skipped": "no JustCall number in the roster"}
    slack = ctx.services.slack
    user = user_id(ctx, employee)
    channel = slack.open_dm(user)
    text = render("voicemail_reminder.slack", absence=ctx.absence, return_day=ctx.timeline.return_day,
                  company=ctx.team.company, support_email=ctx.team.support_email)
    return {**post_once(ctx, channel, VOICEMAIL_EVENT, text, f"voicemail script DM to {employee.name}"),
            "user": user}


def ask_manager(ctx: StepContext, link: str) -> dict[str, Any]:
    """A DM to the manager: the absence to approve, with a link to the approval in Airflow."""
    manager = ctx.absence.manager
    if manager is None:
        ctx.log.info("%s has no manager in the roster: the approval waits in Airflow only",
                     ctx.absence.employee.name)
        return {"skipped": "no manager in the roster"}
    slack = ctx.services.slack
    user = user_id(ctx, manager)
    text = render("approval_request.slack", absence=ctx.absence, return_day=ctx.timeline.return_day,
                  manager_mention=mention(ctx, manager), employee_mention=mention(ctx, ctx.absence.employee),
                  link=Mrkdwn(f"<{slack_escape(link)}|Open the approval in Airflow>"),
                  deadline=ctx.timeline.approval_deadline, tz=manager.timezone)
    return {**post_once(ctx, slack.open_dm(user), APPROVAL_EVENT, text, f"approval request to {manager.name}"),
            "user": user}


def tell_employee_not_approved(ctx: StepContext, why: str) -> dict[str, Any]:
    """A DM to the employee: the absence was not approved (rejected, or no answer), and why."""
    employee = ctx.absence.employee
    slack = ctx.services.slack
    user = user_id(ctx, employee)
    text = render("not_approved.slack", absence=ctx.absence, why=why, employee_mention=mention(ctx, employee))
    return {**post_once(ctx, slack.open_dm(user), NOT_APPROVED_EVENT, text, f"not-approved DM to {employee.name}"),
            "user": user}


# -- shared by the Slack steps ----------------------------------------------------------------
def post_once(ctx: StepContext, channel: str, event_type: str, text: str, what: str,
              key: str | None = None, payload: dict[str, Any] | None = None,
              thread_ts: str | None = None) -> dict[str, Any]:
    """Post ``text`` to ``channel`` unless this run already did (found by metadata); the record."""
    slack = ctx.services.slack
    key = key or ctx.key
    metadata = {"event_type": event_type, "event_payload": {"key": key, **(payload or {})}}

    def find() -> str | None:  # looked up before every try: a post whose answer was lost is found
        found = slack.find_message_with_metadata(channel, event_type, key, oldest=history_floor(ctx))
        return found["ts"] if found is not None else None

    ts, posted = write_once(find, lambda: slack.post_message(channel, text, metadata=metadata, thread_ts=thread_ts),
                            what)
    if posted:
        ctx.log.info("%s posted (channel %s, ts %s)", what, channel, ts)
    else:
        ctx.log.info("%s already posted (ts %s): not posting again", what, ts)
    return {"channel": channel, "ts": ts, "posted": posted}


def history_floor(ctx: StepContext) -> float:
    """How far back to look for this run's earlier posts: a day before the run could first post."""
    start = min(ctx.absence.requested_at, ctx.now)
    if ctx.review is not None:
        start = min(start, ctx.review.since)
    return (start - dt.timedelta(days=1)).timestamp()


def user_id(ctx: StepContext, person: Person) -> str:
    """The person's Slack id: the roster's, else looked up by email."""
    return person.slack_id or ctx.services.slack.user_id_for(person.email)


def mention(ctx: StepContext, person: Person) -> Mrkdwn:
    """``<@U…>`` for ``person``; their name (escaped) when Slack does not know them."""
    from ooo.services.slack import SlackError

    try:
        return Mrkdwn(f"<@{user_id(ctx, person)}>")
    except SlackError as exc:
        if exc.code not in ("users_not_found", "user_not_found"):
            raise
        ctx.log.warning("%s is not in Slack (%s): naming them without a mention", person.name, exc)
        return Mrkdwn(slack_escape(person.name))


def _dicts(items: Any) -> list[dict[str, Any]]:
    return [i for i in items or [] if isinstance(i, dict)] if isinstance(items, list) else []


def _meeting(m: dict[str, Any], tz: str) -> dict[str, Any]:
    summary = str(m.get("summary") or "(no title)")
    when = m.get("when") or ""
    if not when and m.get("start"):
        try:
            when = local_time(str(m["start"]), tz)
        except ValueError:
            when = str(m["start"])
    link = m.get("htmlLink")
    title: str | Mrkdwn = summary
    if isinstance(link, str) and link.startswith(("https://", "http://")) and not any(c in link for c in "<>| "):
        title = Mrkdwn(f"<{link}|{slack_escape(summary).replace('|', '¦')}>")
    external = m.get("external")
    if isinstance(external, list):
        external = ", ".join(str(e) for e in external)
    elif not isinstance(external, str):  # a declined entry's flag, not a list of guests
        external = ""
    return {"id": m.get("id") or summary, "when": when, "title": title, "external": external or ""}
