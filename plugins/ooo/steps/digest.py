"""The return-day digest: what happened while the employee was out, in one email.

:func:`collect_digest` gathers it at the moment it runs (a note or recording added late still
counts): HubSpot notes and inbox comments that tagged the employee, grouped by company; the
internal meetings missed (the calendar as it stands at return) with their agenda and the
matching Fathom recording; the daily SMS reviews; who covered and the reschedule emails sent for
external meetings. :func:`render_digest` turns it into the email (``digest_subject.txt``,
``digest.txt``, ``digest.html``); :func:`return_digest` sends it once, from and to the employee.
The ``ooo digest-preview`` command reuses both to show what will go out.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import TYPE_CHECKING, Any

from ooo.keys import digest_message_id
from ooo.records import ReturnDigest, ReviewedText
from ooo.services.once import write_once
from ooo.steps.context import StepContext
from ooo.steps.mail import automated_email
from ooo.templates import html_to_text, https_link, local_time, long_date, render
from ooo.times import event_time, maybe_instant

if TYPE_CHECKING:
    from ooo.absence import Absence
    from ooo.team import Team
    from ooo.timeline import Timeline

__all__ = ["Digest", "collect_digest", "render_digest", "return_digest"]


@dataclass
class TaggedItem:
    kind: str  # "note" | "comment"
    at: dt.datetime
    author: str
    text: str
    url: str | None


@dataclass
class CompanyGroup:
    name: str
    url: str | None
    items: list[TaggedItem]

    @property
    def latest(self) -> dt.datetime:
        return self.items[0].at


@dataclass
class SummaryLine:
    kind: str  # "heading" | "bullet" | "text"
    text: str


@dataclass
class MissedMeeting:
    title: str
    start: dt.datetime
    end: dt.datetime
    agenda: str
    docs: list[dict[str, str | None]]
    link: str | None  # the calendar event (https only)
    recording_url: str | None = None  # https only
    recording_text: str | None = None  # a recording link that is not https: shown as text, never as a link
    summary: list[SummaryLine] = field(default_factory=list)


@dataclass
class Digest:
    absence: Absence
    team: Team
    timeline: Timeline
    since: dt.datetime
    until: dt.datetime
    companies: list[CompanyGroup]
    meetings: list[MissedMeeting]
    fathom_linked: bool
    reviews: list[dict[str, Any]]
    still_unanswered: list[dict[str, Any]]
    reschedule_emails: list[dict[str, Any]]

    @property
    def texts(self) -> list[dict[str, Any]]:
        """Every text received, oldest first, each with its review's ``status`` for it."""
        return [t for r in self.reviews for t in r["received"]]

    @property
    def tz(self) -> str:
        return self.absence.employee.timezone

    def counts(self) -> dict[str, int]:
        items = [i for g in self.companies for i in g.items]
        return {
            "notes": sum(i.kind == "note" for i in items),
            "comments": sum(i.kind == "comment" for i in items),
            "companies": len(self.companies),
            "missed_meetings": len(self.meetings),
            "recordings": sum(bool(m.recording_url) for m in self.meetings),
            "sms_reviews": len(self.reviews),
            "texts_received": sum(len(r["received"]) for r in self.reviews),
            "texts_raised": sum(len(r["raised"]) for r in self.reviews),
            "texts_unanswered": len(self.still_unanswered),
            "reschedule_emails": len(self.reschedule_emails),
        }


# -- collect ------------------------------------------------------------------------------------
def collect_digest(ctx: StepContext) -> Digest:
    """Everything the digest shows, read from the services now."""
    # While they were out: to the return moment as planned (or as shortened), whatever day it is sent.
    since, until = ctx.timeline.out_from, ctx.timeline.back_at
    meetings = _missed_meetings(ctx)
    fathom_linked = _link_recordings(ctx, meetings, since, until)
    reviews = _reviews(ctx)
    return Digest(
        absence=ctx.absence,
        team=ctx.team,
        timeline=ctx.timeline,
        since=since,
        until=until,
        companies=_tagged(ctx, since, until),
        meetings=meetings,
        fathom_linked=fathom_linked,
        reviews=reviews,
        still_unanswered=_still_unanswered(reviews),
        reschedule_emails=_reschedule_emails(ctx),
    )


def _tagged(ctx: StepContext, since: dt.datetime, until: dt.datetime) -> list[CompanyGroup]:
    employee = ctx.absence.employee
    hubspot = ctx.services.hubspot
    found = (hubspot.tagged_notes(employee.hubspot_owner_id, employee.name, since, until)
             + hubspot.tagged_comments(employee.hubspot_owner_id, employee.name, since, until))
    owners = {p.hubspot_owner_id: p.name for p in ctx.team.people if p.hubspot_owner_id}
    groups: dict[str, CompanyGroup] = {}
    for m in sorted(found, key=lambda m: m.at, reverse=True):
        name = m.company or "No company on record"
        group = groups.setdefault(name, CompanyGroup(name, https_link(hubspot.company_url(m.company_id)), []))
        author = owners.get(m.author, m.author) if m.kind == "note" else m.author
        group.items.append(TaggedItem(m.kind, m.at, author or "someone", m.text, https_link(m.url)))
    return sorted(groups.values(), key=lambda g: g.latest, reverse=True)


def _missed_meetings(ctx: StepContext) -> list[MissedMeeting]:
    """Internal meetings (every guest in the team's domain) on the calendar during the absence."""
    employee = ctx.absence.employee.email
    events = ctx.services.google(employee).list_events(ctx.timeline.out_from, ctx.timeline.back_at,
                                                        single_events=True)
    missed = []
    tz = ctx.absence.employee.timezone
    for e in events:
        if not (e.get("start") or {}).get("dateTime"):
            continue  # an all-day event is no meeting
        start, end = event_time(e, tz), event_time(e, tz, "end")
        guests = [a for a in e.get("attendees") or [] if not a.get("resource")]
        others = [a for a in guests if a.get("email", "").lower() != employee]
        if (e.get("status") == "cancelled" or e.get("eventType", "default") != "default" or not start or not end
                or not others or not all(ctx.team.is_internal(a.get("email", "")) for a in guests)):
            continue
        docs = [{"title": a.get("title") or a["fileUrl"], "url": https_link(a["fileUrl"]),
                 "raw": None if https_link(a["fileUrl"]) else str(a["fileUrl"])}
                for a in e.get("attachments") or [] if a.get("fileUrl")]
        missed.append(MissedMeeting(title=e.get("summary") or "(no title)", start=start, end=end,
                                    agenda=html_to_text(e.get("description")), docs=docs,
                                    link=https_link(e.get("htmlLink"))))
    return sorted(missed, key=lambda m: m.start)


def _norm(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", title.lower()).strip()


def _link_recordings(ctx: StepContext, meetings: list[MissedMeeting], since: dt.datetime, until: dt.datetime) -> bool:
    """Attach each meeting's Fathom recording (overlapping in time, title alike); False if no Fathom."""
    fathom = ctx.services.fathom
    if fathom is None:
        return False
    recordings = [r for r in fathom.meetings(since, until) if r.start and r.end]
    for meeting in meetings:
        overlapping = [r for r in recordings if r.start and r.end and r.start < meeting.end and meeting.start < r.end]
        title = _norm(meeting.title)
        alike = [r for r in overlapping if _norm(r.title) == title] or [
            r for r in overlapping if title and (title in _norm(r.title) or _norm(r.title) in title)]
        match = alike[0] if alike else (overlapping[0] if len(overlapping) == 1 else None)
        if match:
            recordings.remove(match)
            meeting.recording_url = https_link(match.url)
            meeting.recording_text = None if meeting.recording_url else match.url or None
            meeting.summary = _summary_lines(match.summary)
    return True


def _summary_lines(markdown: str) -> list[SummaryLine]:
    """Fathom's markdown summary as lines to show (headings, bullets, text), markup removed."""
    lines = []
    for raw in markdown.splitlines():
        text = raw.strip()
        if not text:
            continue
        kind = "text"
        if text.startswith("#"):
            kind, text = "heading", text.lstrip("#").strip()
        elif re.match(r"^([-*+]|\d+\.)\s+", text):
            kind, text = "bullet", re.sub(r"^([-*+]|\d+\.)\s+", "", text)
        text = re.sub(r"\*\*(.+?)\*\*|__(.+?)__", lambda m: m.group(1) or m.group(2), text)
        text = re.sub(r"\[([^\]]+)\]\([^)]+\)", r"\1", text)
        lines.append(SummaryLine(kind, text))
    return lines


def _shown_time(value: str, tz: str) -> str:
    """A time from a record (ISO text) as people read it, in ``tz``; a date alone as a long date."""
    if len(value) == 10:
        return long_date(value)
    moment = maybe_instant(value)
    return local_time(moment, tz) if moment else value


def _texts(items: tuple[ReviewedText, ...] | list[ReviewedText], tz: str) -> list[dict[str, Any]]:
    return [{**t.to_dict(), "when": _shown_time(t.at, tz) if t.at else ""} for t in items]


def _reviews(ctx: StepContext) -> list[dict[str, Any]]:
    tz = ctx.absence.employee.timezone
    reviews = []
    for r in ctx.records.reviews:
        raised = {t.id for t in r.raised}
        unanswered = {t.id for t in r.unanswered}
        answered = {t.id for t in r.answered}
        received = _texts(r.received, tz)
        for t in received:
            t["status"] = ("raised to support" if t["id"] in raised else "unanswered" if t["id"] in unanswered
                           else "answered" if t["id"] in answered else "")
        reviews.append({"label": r.label or r.day, "day": r.day, "received": received,
                        "answered": _texts(r.answered, tz), "unanswered": _texts(r.unanswered, tz),
                        "raised": _texts(r.raised, tz)})
    return sorted(reviews, key=lambda r: r["day"])


def _still_unanswered(reviews: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Texts a review found unanswered and no later review found answered."""
    answered = {t["id"] for r in reviews for t in r["answered"]}
    pending: dict[Any, dict[str, Any]] = {}
    for r in reviews:
        for t in r["unanswered"]:
            if t["id"] not in answered:
                pending[t["id"]] = t
    return sorted(pending.values(), key=lambda t: str(t.get("at", "")))


def _reschedule_emails(ctx: StepContext) -> list[dict[str, Any]]:
    """The reschedule notes calendar_cleanup sent: to, subject, the meeting and when it was."""
    cleanup = ctx.records.calendar_cleanup
    if cleanup is None:
        return []
    declined = {d.id: d for d in cleanup.declined}
    found = []
    for e in cleanup.reschedule_emails:
        meeting = declined.get(e.event_id)
        found.append({"to": ", ".join(e.to), "subject": e.subject,
                      "summary": e.event or (meeting.summary if meeting else ""),
                      "when": meeting.when if meeting else ""})
    return found


# -- render and send ----------------------------------------------------------------------------
def render_digest(digest: Digest) -> tuple[str, str, str]:
    """``(subject, text, html)`` of the digest email."""
    context = {"d": digest, "absence": digest.absence, "team": digest.team, "timeline": digest.timeline,
               "tz": digest.tz, "counts": digest.counts()}
    subject = render("digest_subject.txt", **context).strip()
    return subject, render("digest.txt", **context), render("digest.html", **context)


def build_message(ctx: StepContext, subject: str, text: str, html: str) -> EmailMessage:
    employee = ctx.absence.employee
    return automated_email(employee, [(employee.name, employee.email)], subject, text, html,
                           digest_message_id(ctx.key, ctx.team.email_domain), ctx.now,
                           headers={"X-OOO-Run": ctx.run_id})


def return_digest(ctx: StepContext) -> ReturnDigest:
    employee = ctx.absence.employee.email
    gmail = ctx.services.google(employee)
    message_id = digest_message_id(ctx.key, ctx.team.email_domain)
    # Looked up before collecting (a re-run reads nothing), unless no earlier try can have sent it.
    if not ctx.first_try and (existing := gmail.find_message(message_id)):
        ctx.log.info("the return digest %s was already sent to %s (Gmail id %s): not sending again",
                     message_id, employee, existing)
        return ReturnDigest(message_id=message_id, gmail_id=existing, sent=False, already_sent=True)
    digest = collect_digest(ctx)
    subject, text, html = render_digest(digest)
    message = build_message(ctx, subject, text, html)
    gmail_id, _ = write_once(lambda: gmail.find_message(message_id), lambda: gmail.send_message(message),
                             f"return digest {message_id}", known=None)  # not sent (looked up above, or a first try)
    counts = digest.counts()
    ctx.log.info("sent the return digest to %s (Gmail id %s): %s", employee, gmail_id, counts)
    return ReturnDigest(message_id=message_id, gmail_id=gmail_id, sent=True, subject=subject, counts=counts,
                        fathom_linked=digest.fathom_linked)
