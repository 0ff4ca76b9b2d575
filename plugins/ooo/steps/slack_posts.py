"""Slack messages posted once, and the people they mention: what every Slack step shares.

A post carries metadata ``{event_type, event_payload: {key: <the run's key>, ...}}`` (the types are
:class:`ooo.keys.SlackEvent`) and is looked up in the channel's recent history before every try, so
a retry or a re-run finds the earlier post instead of posting again. People are mentioned by Slack
id (the roster's ``slack_id``, else looked up by email).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from ooo.keys import SlackEvent, correction_key
from ooo.records import SlackPost
from ooo.services.once import write_once
from ooo.steps.context import StepContext
from ooo.team import Person
from ooo.templates import Mrkdwn, days_out, render, slack_escape


def post_once(ctx: StepContext, channel: str, event_type: SlackEvent, text: str, what: str,
              key: str | None = None, payload: dict[str, Any] | None = None,
              thread_ts: str | None = None) -> SlackPost:
    """Post ``text`` to ``channel`` unless this run already did (found by metadata; looked for only
    when an earlier try may have posted it, or a try's answer was lost)."""
    slack = ctx.services.slack
    key = key or ctx.key
    metadata = {"event_type": event_type.value, "event_payload": {"key": key, **(payload or {})}}

    def find() -> str | None:  # looked up before every try: a post whose answer was lost is found
        found = slack.find_message_with_metadata(channel, event_type, key, oldest=history_floor(ctx))
        return found["ts"] if found is not None else None

    ts, posted = write_once(find, lambda: slack.post_message(channel, text, metadata=metadata, thread_ts=thread_ts),
                            what, look_first=not ctx.first_try)
    if posted:
        ctx.log.info("%s posted (channel %s, ts %s)", what, channel, ts)
    else:
        ctx.log.info("%s already posted (ts %s): not posting again", what, ts)
    return SlackPost(channel=channel, ts=ts, posted=posted)


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
    from ooo.services.slack import SlackError  # here: the DAG files import the steps, not slack_sdk

    try:
        return Mrkdwn(f"<@{user_id(ctx, person)}>")
    except SlackError as exc:
        if exc.code not in ("users_not_found", "user_not_found"):
            raise
        ctx.log.warning("%s is not in Slack (%s): naming them without a mention", person.name, exc)
        return Mrkdwn(slack_escape(person.name))


@dataclass(frozen=True)
class Told:
    """Who a change was told to: a reply under the team notice, a note to the buddy (None: not told)."""

    team_corrected: SlackPost | None = None
    buddy_told: SlackPost | None = None


def tell_team_and_buddy(ctx: StepContext, event_type: SlackEvent, template: str, version: str = "") -> Told:
    """Thread ``template`` under the team notice, and tell the buddy under their handover DM.

    Found by the posts' metadata, so a notice whose step was stopped half-way is found too. The
    buddy hears only if they were told of the absence (their handover DM is there): a buddy who
    never heard of it gets no "cancelled" or "back early" about it.
    """
    slack = ctx.services.slack
    floor = history_floor(ctx)
    channel = slack.channel_id(ctx.team.channels["team_notice"])
    notice = slack.find_message_with_metadata(channel, SlackEvent.TEAM_NOTICE, ctx.key, oldest=floor)
    buddy_dm = slack.open_dm(user_id(ctx, ctx.absence.buddy))
    handover = slack.find_message_with_metadata(buddy_dm, SlackEvent.BUDDY_HANDOVER, ctx.key, oldest=floor)
    common = change_facts(ctx)
    team_corrected = buddy_told = None
    if notice is not None:
        team_corrected = post_once(ctx, channel, event_type, render(template, **common, for_buddy=False),
                                   "correction under the team notice", key=correction_key(ctx.key, "team", version),
                                   thread_ts=notice["ts"])
    if handover is not None:
        buddy_told = post_once(ctx, buddy_dm, event_type, render(template, **common, for_buddy=True),
                               f"note to the buddy {ctx.absence.buddy.name}",
                               key=correction_key(ctx.key, "buddy", version),
                               thread_ts=handover["ts"] if handover else None)
    return Told(team_corrected, buddy_told)


def change_facts(ctx: StepContext) -> dict[str, Any]:
    """What a note about a change to the absence (a cancel, a return earlier) is written from."""
    return {"absence": ctx.absence, "return_day": ctx.timeline.return_day,
            "days": days_out(ctx.absence, ctx.timeline), "employee_mention": mention(ctx, ctx.absence.employee),
            "started": ctx.now >= ctx.timeline.out_from}
