"""Undoing what an absence did: when it is cancelled, and (in part) when it ends early.

Everything is found again from the run's deterministic keys, not only from the steps' records,
so a step stopped half-way is undone too:

* the out-of-office block and the meetings the absence booked (event ids derived from the run);
* the meetings it declined (marked ``oooRun`` on the employee's copy): set back to "needs action"
  (accepted again when the employee organises them) where they are still to come, and the
  clients who were sent the reschedule note (found by its Message-ID) told the meeting stands;
* the auto-reply, switched off only when it is still the one the absence set;
* a correction threaded under the team notice, and the buddy told.

Every part checks first, so running it twice changes nothing the second time.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from ooo.messages import local_time, render, split_subject
from ooo.steps import StepContext
from ooo.steps.auto_reply import auto_reply_off, is_ours
from ooo.steps.calendar import MARKER, event_id, message_id, recipients, to_clients
from ooo.steps.mail import automated_email, send_once
from ooo.steps.notices import HANDOVER_EVENT, NOTICE_EVENT, history_floor, mention, post_once, user_id

CANCELLED_EVENT = "ooo_absence_cancelled"
BOOKED = (("ooo", "none"), ("handover", "all"), ("coverage-review", "all"))  # (what, sendUpdates)


def cancel_absence(ctx: StepContext) -> dict[str, Any]:
    employee = ctx.absence.employee
    google = ctx.services.google(employee.email)
    deleted = [event_id(ctx, what) for what, send_updates in BOOKED
               if google.delete_event(event_id(ctx, what), send_updates=send_updates)]
    ctx.log.info("deleted %d calendar events of the absence", len(deleted))
    restored = restore_meetings(ctx, max(ctx.now, ctx.timeline.out_from), ctx.timeline.back_at, cancelled=True)
    auto_reply = None
    if is_ours(ctx, google.get_vacation()):
        auto_reply = auto_reply_off(ctx)
    else:
        ctx.log.info("the auto-reply is not the one this absence set: left as it is")
    told = tell_team_and_buddy(ctx, CANCELLED_EVENT, "cancellation_notice.slack",
                               anything_done=bool(deleted or restored))
    return {
        "deleted_events": deleted,
        "restored": restored,
        "auto_reply_off": auto_reply is not None,
        **told,
    }


def restore_meetings(ctx: StepContext, start: dt.datetime, end: dt.datetime, cancelled: bool) -> list[dict[str, Any]]:
    """The meetings from ``start`` to ``end`` the absence declined: back on the calendar.

    Clients who were sent the reschedule note are told the meeting stands after all (the absence
    is ``cancelled``, or the employee is back before it).
    """
    if end <= start:
        return []
    employee = ctx.absence.employee
    tz = employee.timezone
    google = ctx.services.google(employee.email)
    restored = []
    for event in google.list_events(start, end, single_events=True,
                                    privateExtendedProperty=f"{MARKER}={ctx.key}"):
        me = next((a for a in event.get("attendees") or [] if a.get("self")), None)
        if event.get("eventType", "default") != "default" or me is None or me.get("responseStatus") != "declined":
            continue  # the block itself, or a meeting the absence booked
        organiser = bool((event.get("organizer") or {}).get("self"))
        google.patch_event(event["id"], {
            "attendeesOmitted": True,
            "attendees": [{"email": me["email"], "responseStatus": "accepted" if organiser else "needsAction",
                           "comment": ""}],
            "extendedProperties": {"private": {MARKER: ""}},
        })
        moment = event["start"].get("dateTime") or event["start"].get("date")
        entry = {"id": event["id"], "summary": event.get("summary") or "(no title)",
                 "when": local_time(moment, tz) if "T" in moment else moment, "told": []}
        external = [a for a in event.get("attendees") or []
                    if not a.get("self") and not a.get("resource") and not ctx.team.is_internal(a["email"])]
        if external and google.find_message(message_id(ctx, event["id"])):
            entry["told"] = _meeting_stands(ctx, google, event, external, entry["when"], cancelled)
        restored.append(entry)
    ctx.log.info("%d declined meetings put back on %s's calendar", len(restored), employee.name)
    return restored


def _meeting_stands(ctx: StepContext, google: Any, event: dict[str, Any], external: list[dict[str, Any]],
                    when: str, cancelled: bool) -> list[str]:
    """Tell the clients who were asked to reschedule that the meeting stands (a reply to that note)."""
    original = message_id(ctx, event["id"])
    context = {**to_clients(ctx, event, external, when), "cancelled": cancelled}
    subject, text = split_subject(render("meeting_stands.txt", **context))
    message = automated_email(ctx.absence.employee, recipients(external), subject, text,
                              render("meeting_stands.html", **context),
                              message_id(ctx, f"{event['id']}/stands"), ctx.now,
                              headers={"In-Reply-To": original, "References": original})
    send_once(google, message)
    return [a["email"] for a in external]


def tell_team_and_buddy(ctx: StepContext, event_type: str, template: str, anything_done: bool,
                        version: str = "") -> dict[str, Any]:
    """Thread ``template`` under the team notice, and tell the buddy (under the handover DM if any).

    Found by the posts' metadata, so a notice whose step was stopped half-way is found too. The
    buddy hears only when the absence had begun to happen (something done, or announced).
    """
    slack = ctx.services.slack
    employee = ctx.absence.employee
    floor = history_floor(ctx)
    channel = slack.channel_id(ctx.team.channels["team_notice"])
    notice = slack.find_message_with_metadata(channel, NOTICE_EVENT, ctx.key, oldest=floor)
    buddy_dm = slack.open_dm(user_id(ctx, ctx.absence.buddy))
    handover = slack.find_message_with_metadata(buddy_dm, HANDOVER_EVENT, ctx.key, oldest=floor)
    common = {"absence": ctx.absence, "return_day": ctx.timeline.return_day,
              "employee_mention": mention(ctx, employee), "started": ctx.now >= ctx.timeline.out_from}
    told: dict[str, Any] = {"team_corrected": None, "buddy_told": None}
    if notice is not None:
        told["team_corrected"] = post_once(ctx, channel, event_type, render(template, **common, for_buddy=False),
                                           "correction under the team notice", key=f"{ctx.key}-team{version}",
                                           thread_ts=notice["ts"])
    if handover is not None or notice is not None or anything_done:
        told["buddy_told"] = post_once(ctx, buddy_dm, event_type, render(template, **common, for_buddy=True),
                                       f"note to the buddy {ctx.absence.buddy.name}", key=f"{ctx.key}-buddy{version}",
                                       thread_ts=handover["ts"] if handover else None)
    return told
