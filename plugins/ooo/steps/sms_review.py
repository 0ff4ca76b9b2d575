"""The daily review of the employee's JustCall SMS queue (seed 003, "JustCall Text").

Each review looks at the texts received in its window (``since`` .. ``at``: the windows chain, so
Monday's review catches the weekend and the return morning's the final stretch). A text is
answered when an outgoing text to the same contact followed it, up to the review's time.
Unanswered texts are raised to the support channel, one Slack message per text, once (the
message's metadata carries the run's key and the text's id). Texts an earlier review left
unanswered are checked again, and listed under ``answered`` once someone has replied, so the
return digest knows which are still open. The record is :class:`ooo.records.SmsReview`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
from collections.abc import Callable
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from ooo.keys import SlackEvent
from ooo.records import ReviewedText, SmsReview
from ooo.services.once import write_once
from ooo.steps.context import StepContext
from ooo.steps.slack_posts import history_floor, mention
from ooo.templates import days_out, local_time, render

if TYPE_CHECKING:
    from ooo.services.justcall import Text

EXCERPT_CHARS = 160


def sms_review(ctx: StepContext) -> SmsReview:
    review = ctx.review
    assert review is not None, "sms_review runs once per review in the timeline"
    employee = ctx.absence.employee
    tz = ZoneInfo(employee.timezone)
    record = SmsReview(day=review.day.isoformat(), label=review.label, since=review.since.isoformat(),
                       until=review.at.isoformat())
    number = employee.justcall_number
    if not number:
        ctx.log.info("%s has no JustCall number in the roster: nothing to review", employee.name)
        return dataclasses.replace(record, skipped="no JustCall number in the roster")

    justcall = ctx.services.justcall
    received = justcall.texts(number, review.since, review.at, direction="incoming")
    entries = [_entry(t, tz) for t in received]
    seen = {t.id for t in received}
    earlier = [t for t in _still_open(ctx) if t.id not in seen]
    starts = [t.at for t in received] + [at for t in earlier if (at := t.received_at)]
    replies = justcall.texts(number, min(starts), review.at, direction="outgoing") if starts else []

    def replied(contact: str, at: dt.datetime, text_id: int | str) -> dt.datetime | None:
        later = [r.at for r in replies if r.contact_number == contact
                 and (r.at > at or (r.at == at and isinstance(text_id, int) and r.id > text_id))]
        return min(later) if later else None

    answered, unanswered, open_texts = [], [], []
    for text, entry in zip(received, entries, strict=True):
        answer = replied(text.contact_number, text.at, text.id)
        if answer:
            answered.append(dataclasses.replace(entry, answered_at=answer.astimezone(tz).isoformat()))
        else:
            unanswered.append(entry)
            open_texts.append((text, entry))
    for entry in earlier:  # left unanswered by an earlier review: answered since?
        at = entry.received_at
        answer = replied(entry.contact_number, at, entry.id) if at else None
        if answer:
            answered.append(dataclasses.replace(entry, answered_at=answer.astimezone(tz).isoformat()))

    raised = _raise(ctx, open_texts) if open_texts else []
    ctx.log.info("SMS review %s for %s (%s): %d received, %d answered, %d unanswered, %d raised to %s",
                 review.label, employee.name, number, len(received), len(answered), len(unanswered), len(raised),
                 ctx.team.channels["support"])
    return dataclasses.replace(record, received=entries, answered=answered, unanswered=unanswered, raised=raised)


def _raise(ctx: StepContext, unanswered: list[tuple[Text, ReviewedText]]) -> list[ReviewedText]:
    """One support-channel message per unanswered text, unless this run already posted it."""
    slack = ctx.services.slack
    review = ctx.review
    assert review is not None
    channel = slack.channel_id(ctx.team.channels["support"])

    def already_posted() -> dict[str, str]:
        posted: dict[str, str] = {}
        for message in slack.messages_with_metadata(channel, SlackEvent.SMS_ALERT, oldest=history_floor(ctx)):
            payload = message["metadata"].get("event_payload") or {}
            if payload.get("key") == ctx.key:
                posted.setdefault(str(payload.get("text_id")), message["ts"])
        return posted

    posted = {} if ctx.first_try else already_posted()  # a first try has raised nothing yet
    buddy = mention(ctx, ctx.absence.buddy)
    raised = []
    for text, entry in unanswered:
        message = render(
            "sms_alert.slack", absence=ctx.absence, back=days_out(ctx.absence, ctx.timeline).back,
            justcall_number=text.justcall_number, contact_name=text.contact_name,
            contact_number=text.contact_number, when=local_time(text.at, ctx.absence.employee.timezone),
            excerpt=entry.excerpt, buddy=buddy, label=review.label)
        metadata = {"event_type": SlackEvent.SMS_ALERT.value,
                    "event_payload": {"key": ctx.key, "text_id": str(text.id), "review": review.day.isoformat()}}
        ts, made = write_once(functools.partial(_posted_for, already_posted, str(text.id)),
                              functools.partial(slack.post_message, channel, message, metadata=metadata),
                              f"alert for text {text.id}", known=posted.get(str(text.id)))
        if made:
            ctx.log.info("raised text %s from %s to support (ts %s)", text.id, text.contact_number, ts)
        else:
            ctx.log.info("text %s was already raised to support (ts %s)", text.id, ts)
        raised.append(dataclasses.replace(entry, text_id=text.id, slack_ts=ts))
    return raised


def _posted_for(already_posted: Callable[[], dict[str, str]], text_id: str) -> str | None:
    return already_posted().get(text_id)


def _still_open(ctx: StepContext) -> list[ReviewedText]:
    """Texts earlier reviews found unanswered that no review has since found answered."""
    today = ctx.review.day.isoformat() if ctx.review else "9999-12-31"
    reviews = [r for r in ctx.records.reviews if r.day < today]
    answered = {t.id for r in reviews for t in r.answered}
    pending: dict[int | str, ReviewedText] = {}
    for r in reviews:
        for t in r.unanswered:
            if t.id not in answered and t.received_at:
                pending[t.id] = t
    return list(pending.values())


def _entry(text: Text, tz: ZoneInfo) -> ReviewedText:
    return ReviewedText(id=text.id, contact_number=text.contact_number, contact_name=text.contact_name,
                        at=text.at.astimezone(tz).isoformat(), excerpt=excerpt(text.body))


def excerpt(body: str, limit: int = EXCERPT_CHARS) -> str:
    """The text on one line, cut at a word near ``limit`` characters."""
    flat = " ".join(body.split())
    if len(flat) <= limit:
        return flat
    cut = flat[:limit].rsplit(" ", 1)[0] if " " in flat[:limit] else flat[:limit]
    return cut.rstrip(",.;: ") + "…"
