"""The daily review of the employee's JustCall SMS queue (seed 003, "JustCall Text").

Each review looks at the texts received in its window (``since`` .. ``at``: the windows chain, so
Monday's review catches the weekend and the return morning's the final stretch). A text is
answered when an outgoing text to the same contact followed it, up to the review's time.
Unanswered texts are raised to the support channel, one Slack message per text, once (the
message's metadata carries the run's key and the text's id). Texts an earlier review left
unanswered are checked again, and listed under ``answered`` once someone has replied, so the
return digest knows which are still open.

The record (kept for the digest)::

    {"day", "label", "since", "until",
     "received": [{id, contact_number, contact_name, at (ISO, employee's zone), excerpt}],
     "answered": [...], "unanswered": [...], "raised": [{text_id, slack_ts, ...the text}]}
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from ooo.messages import local_time, render
from ooo.services.once import write_once
from ooo.steps import StepContext
from ooo.steps.notices import history_floor, mention

ALERT_EVENT = "ooo_sms_alert"
EXCERPT_CHARS = 160


def sms_review(ctx: StepContext) -> dict[str, Any]:
    review = ctx.review
    assert review is not None, "sms_review runs once per review in the timeline"
    employee = ctx.absence.employee
    tz = ZoneInfo(employee.timezone)
    record: dict[str, Any] = {
        "day": review.day.isoformat(), "label": review.label,
        "since": review.since.isoformat(), "until": review.at.isoformat(),
        "received": [], "answered": [], "unanswered": [], "raised": [],
    }
    number = employee.justcall_number
    if not number:
        ctx.log.info("%s has no JustCall number in the roster: nothing to review", employee.name)
        return {**record, "skipped": "no JustCall number in the roster"}

    justcall = ctx.services.justcall
    received = justcall.texts(number, review.since, review.at, direction="incoming")
    record["received"] = [_entry(t, tz) for t in received]
    seen = {t.id for t in received}
    earlier = [t for t in _still_open(ctx) if t.get("id") not in seen]
    starts = [t.at for t in received] + [_when(t) for t in earlier if _when(t)]
    replies = justcall.texts(number, min(starts), review.at, direction="outgoing") if starts else []

    def replied(contact: str, at: dt.datetime, text_id: Any) -> dt.datetime | None:
        later = [r.at for r in replies if r.contact_number == contact
                 and (r.at > at or (r.at == at and isinstance(text_id, int) and r.id > text_id))]
        return min(later) if later else None

    unanswered = []
    for text, entry in zip(received, record["received"]):
        answer = replied(text.contact_number, text.at, text.id)
        if answer:
            record["answered"].append({**entry, "answered_at": answer.astimezone(tz).isoformat()})
        else:
            record["unanswered"].append(entry)
            unanswered.append((text, entry))
    for entry in earlier:  # left unanswered by an earlier review: answered since?
        answer = replied(str(entry.get("contact_number") or ""), _when(entry), entry.get("id"))  # type: ignore[arg-type]
        if answer:
            record["answered"].append({**entry, "answered_at": answer.astimezone(tz).isoformat()})

    if unanswered:
        record["raised"] = _raise(ctx, unanswered)
    ctx.log.info("SMS review %s for %s (%s): %d received, %d answered, %d unanswered, %d raised to %s",
                 review.label, employee.name, number, len(received), len(record["answered"]),
                 len(record["unanswered"]), len(record["raised"]), ctx.team.channels["support"])
    return record


def _raise(ctx: StepContext, unanswered: list[tuple[Any, dict[str, Any]]]) -> list[dict[str, Any]]:
    """One support-channel message per unanswered text, unless this run already posted it."""
    slack = ctx.services.slack
    review = ctx.review
    assert review is not None
    channel = slack.channel_id(ctx.team.channels["support"])

    def already_posted() -> dict[str, str]:
        posted: dict[str, str] = {}
        for message in slack.messages_with_metadata(channel, ALERT_EVENT, oldest=history_floor(ctx)):
            payload = message["metadata"].get("event_payload") or {}
            if payload.get("key") == ctx.key:
                posted.setdefault(str(payload.get("text_id")), message["ts"])
        return posted

    posted = already_posted()
    buddy = mention(ctx, ctx.absence.buddy)
    raised = []
    for text, entry in unanswered:
        message = render(
            "sms_alert.slack", absence=ctx.absence, return_day=ctx.timeline.return_day,
            justcall_number=text.justcall_number, contact_name=text.contact_name,
            contact_number=text.contact_number, when=local_time(text.at, ctx.absence.employee.timezone),
            excerpt=entry["excerpt"], buddy=buddy, label=review.label)
        metadata = {"event_type": ALERT_EVENT,
                    "event_payload": {"key": ctx.key, "text_id": str(text.id), "review": review.day.isoformat()}}
        ts, made = write_once(lambda tid=str(text.id): already_posted().get(tid),
                              lambda m=message, md=metadata: slack.post_message(channel, m, metadata=md),
                              f"alert for text {text.id}", known=posted.get(str(text.id)))
        if made:
            ctx.log.info("raised text %s from %s to support (ts %s)", text.id, text.contact_number, ts)
        else:
            ctx.log.info("text %s was already raised to support (ts %s)", text.id, ts)
        raised.append({**entry, "text_id": text.id, "slack_ts": ts})
    return raised


def _still_open(ctx: StepContext) -> list[dict[str, Any]]:
    """Texts earlier reviews found unanswered that no review has since found answered."""
    today = ctx.review.day.isoformat() if ctx.review else "9999-12-31"
    reviews = [r for r in ctx.records.reviews() if str(r.get("day") or "") < today]
    answered = {t.get("id") for r in reviews for t in r.get("answered") or [] if isinstance(t, dict)}
    pending: dict[Any, dict[str, Any]] = {}
    for r in reviews:
        for t in r.get("unanswered") or []:
            if isinstance(t, dict) and t.get("id") not in answered and _when(t):
                pending[t.get("id")] = t
    return list(pending.values())


def _when(entry: dict[str, Any]) -> dt.datetime | None:
    try:
        at = dt.datetime.fromisoformat(str(entry.get("at")))
    except ValueError:
        return None
    return at if at.tzinfo else None


def _entry(text: Any, tz: ZoneInfo) -> dict[str, Any]:
    return {"id": text.id, "contact_number": text.contact_number, "contact_name": text.contact_name,
            "at": text.at.astimezone(tz).isoformat(), "excerpt": excerpt(text.body)}


def excerpt(body: str, limit: int = EXCERPT_CHARS) -> str:
    """The text on one line, cut at a word near ``limit`` characters."""
    flat = " ".join(body.split())
    if len(flat) <= limit:
        return flat
    cut = flat[:limit].rsplit(" ", 1)[0] if " " in flat[:limit] else flat[:limit]
    return cut.rstrip(",.;: ") + "…"
