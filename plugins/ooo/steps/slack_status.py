"""The person's Slack status while out: set on the first day out, the one before put back on return.

The status (``slack_status.txt``) says they are out, the day they are back and whom to ask (the
buddy); Slack itself clears it at the return moment (``status_expiration``), so it ends on time even
if the return step never runs. ``slack_status_on`` keeps the status the person had before in its
record; ``slack_status_off`` puts that one back, unless the person changed the status meanwhile
(then it is left as they set it). A cancel puts the one before back while ours is still set; a
shortened absence gets the new return day and expiration.

A status carries no key (Slack keeps no metadata on it), so ours is recognised by its text and
emoji, rendered again from the plan: a retry that finds it already set sets nothing, and never
keeps it as "the one before" (that one is then not known, and on return ours is cleared).

Slack lets only a user token set a profile, and someone else's only a workspace admin's on a paid
plan: the optional ``ooo_slack_user`` connection. Without it every status step does nothing and
says so. A token Slack refuses for good (a bot's, not an admin's, a missing scope, a free plan, a
person not in Slack) is the same: the record and the log say why, and the absence goes on, since a
status is a courtesy and the return digest must still be sent. Failures that may pass are raised,
so the task's retries try again.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING

from ooo.procedure import Step
from ooo.records import RecordedStatus, SlackStatusOff, SlackStatusOn
from ooo.services import SLACK_USER_MISSING
from ooo.steps.context import StepContext
from ooo.steps.slack_posts import user_id
from ooo.templates import local_time, render
from ooo.timeline import Timeline
from ooo.times import maybe_instant

if TYPE_CHECKING:
    from ooo.services.slack import SlackStatus

#: Slack's limit on ``status_text``.
STATUS_TEXT_MAX = 100


# -- what the status says -------------------------------------------------------------------------
def return_moment(timeline: Timeline) -> dt.datetime:
    """When the person counts as back: the return steps' moment (plans made before the status steps
    existed: the auto-reply off's)."""
    moment = timeline.moments.get(Step.SLACK_STATUS_OFF) or timeline.moments.get(Step.AUTO_REPLY_OFF)
    return moment.at if moment is not None else timeline.back_at


def status_text(ctx: StepContext) -> tuple[str, str]:
    """``(emoji, text)`` of the status while out; the buddy's first name when the full one is too long."""
    absence = ctx.absence
    text = emoji = ""
    for buddy_name in (absence.buddy.name, absence.buddy.first_name):
        emoji, _, text = render("slack_status.txt", return_day=ctx.timeline.return_day, buddy_name=buddy_name,
                                expected=absence.is_unexpected).strip().partition("\n")
        if len(text.strip()) <= STATUS_TEXT_MAX:
            break
    text = text.strip()
    return emoji.strip(), text if len(text) <= STATUS_TEXT_MAX else text[: STATUS_TEXT_MAX - 1] + "…"


def wanted_status(ctx: StepContext) -> SlackStatus:
    """The status while out, as Slack is asked to show it: it expires at the return moment."""
    from ooo.services.slack import SlackStatus

    emoji, text = status_text(ctx)
    return SlackStatus(text, emoji, return_moment(ctx.timeline))


# -- the steps --------------------------------------------------------------------------------------
def slack_status_on(ctx: StepContext) -> SlackStatusOn:
    """Set the status while out, keeping the one the person had before."""
    from ooo.services.slack import SlackError

    slack = ctx.services.slack_user
    if slack is None:
        ctx.log.info("Slack status not set: %s", SLACK_USER_MISSING)
        return SlackStatusOn(skipped=SLACK_USER_MISSING)
    employee = ctx.absence.employee
    wanted = wanted_status(ctx)
    assert wanted.expiration is not None
    if ctx.now >= wanted.expiration:
        why = (f"{employee.name} was back by {local_time(wanted.expiration, employee.timezone)}: "
               "no status to set")
        ctx.log.info("Slack status not set: %s", why)
        return SlackStatusOn(skipped=why)
    user = None
    try:
        user = user_id(ctx, employee)
        current = slack.status(user)
        before: SlackStatus | None = current
        if _is_ours(current, [wanted]):  # a retry, or the run cleared and run again
            before = None
            ctx.log.info("%s's Slack status is already ours (set by an earlier try): the status before it is "
                         "not known, so on return it is cleared", employee.name)
        changed = current != wanted
        shown = slack.set_status(user, wanted) if changed else current
    except SlackError as exc:
        if exc.transient:
            raise
        ctx.log.warning("Slack status not set for %s: %s", employee.name, exc)
        return SlackStatusOn(user=user, skipped=str(exc))
    ctx.log.info("%s's Slack status %s: %s %s, until %s (was: %s)", employee.name,
                 "set" if changed else "already set", shown.emoji, shown.text,
                 local_time(wanted.expiration, employee.timezone), _shown(before))
    return SlackStatusOn(user=user, status=_record(shown), before=_record(before) if before is not None else None,
                         changed=changed)


def slack_status_off(ctx: StepContext) -> SlackStatusOff:
    """On return: the status the person had before, back (unless they changed it meanwhile)."""
    return put_back(ctx)


def put_back(ctx: StepContext) -> SlackStatusOff:
    """The status before back in place of ours, wherever ours is still set (the return, or a cancel).

    Ours is still set, or Slack cleared it at its expiration: the status before goes back (none,
    when it is not known or had expired by now). Anything else is the person's own doing: left alone.
    """
    from ooo.services.slack import SlackError, SlackStatus

    slack = ctx.services.slack_user
    if slack is None:
        ctx.log.info("Slack status not put back: %s", SLACK_USER_MISSING)
        return SlackStatusOff(skipped=SLACK_USER_MISSING)
    employee = ctx.absence.employee
    on = ctx.records.slack_status_on
    ours = _ours(ctx, on)
    before = _status(on.before) if on is not None and on.before is not None else None
    if before is not None and before.expiration is not None and before.expiration <= ctx.now:
        before = SlackStatus()  # it would have ended by now: nothing to put back
    user = on.user if on is not None and on.user else None
    try:
        user = user or user_id(ctx, employee)
        current = slack.status(user)
        ours_set = _is_ours(current, ours)
        expired = current.is_clear and on is not None and on.status is not None and any(
            s.expiration is not None and s.expiration <= ctx.now for s in ours)
        left_alone, theirs = None, False
        if ours_set or (expired and before is not None and not before.is_clear):
            current = slack.set_status(user, before or SlackStatus())
        elif expired:
            left_alone = "Slack cleared ours at its expiration"
        elif before is not None and current == before:
            left_alone = "already back as it was"
        elif on is None or on.status is None:
            left_alone = "no status of ours was set"
        else:
            left_alone, theirs = f"{employee.name} changed it meanwhile: left as they set it", True
    except SlackError as exc:
        if exc.transient:
            raise
        ctx.log.warning("Slack status not put back for %s: %s", employee.name, exc)
        return SlackStatusOff(user=user, skipped=str(exc))
    if left_alone:
        ctx.log.info("%s's Slack status left as it is (%s): %s", employee.name, left_alone, _shown(current))
    else:
        ctx.log.info("%s's Slack status put back: %s", employee.name, _shown(current))
    return SlackStatusOff(user=user, put_back=left_alone is None, status=_record(current), left_alone=left_alone,
                          changed_meanwhile=theirs)


def status_cut_short(ctx: StepContext, was: StepContext) -> bool:
    """A shortened absence (``ctx``; ``was``: as it was planned): our status, if still set, now says
    the new return day and expires then. True when it was changed."""
    from ooo.services.slack import SlackError

    slack = ctx.services.slack_user
    if slack is None:
        return False
    wanted = wanted_status(ctx)
    assert wanted.expiration is not None
    if wanted.expiration <= ctx.now:
        return False  # back already: the return step, woken, puts the status back
    employee = ctx.absence.employee
    try:
        user = user_id(ctx, employee)
        current = slack.status(user)
        if not _is_ours(current, _ours(was, ctx.records.slack_status_on)) or current == wanted:
            return False  # not set yet (slack_status_on sets the new one), or the person's own
        slack.set_status(user, wanted)
    except SlackError as exc:
        if exc.transient:
            raise
        ctx.log.warning("Slack status not updated for %s: %s", employee.name, exc)
        return False
    ctx.log.info("%s's Slack status now says back on %s", employee.name, ctx.timeline.return_day.isoformat())
    return True


# -- helpers ----------------------------------------------------------------------------------------
def _ours(ctx: StepContext, on: SlackStatusOn | None) -> list[SlackStatus]:
    """What our status looks like: as the plan says it now, and as slack_status_on set it."""
    found = [wanted_status(ctx)]
    if on is not None and on.status is not None:
        found.append(_status(on.status))
    return found


def _is_ours(current: SlackStatus, ours: Sequence[SlackStatus]) -> bool:
    return not current.is_clear and any((s.text, s.emoji) == (current.text, current.emoji) for s in ours)


def _record(status: SlackStatus) -> RecordedStatus:
    return RecordedStatus(text=status.text, emoji=status.emoji,
                          expiration=status.expiration.isoformat() if status.expiration else None)


def _status(recorded: RecordedStatus) -> SlackStatus:
    from ooo.services.slack import SlackStatus

    return SlackStatus(recorded.text, recorded.emoji, maybe_instant(recorded.expiration or ""))


def _shown(status: SlackStatus | None) -> str:
    if status is None:
        return "not known"
    if status.is_clear:
        return "no status"
    until = f" until {status.expiration.isoformat()}" if status.expiration else ""
    return f"{status.emoji} {status.text}{until}".strip()
