"""A client visit (seed 000, item 7): "check w/ other team members to see if there are any needs
for photos or approval, etc."

The team notice of a ``client_visit`` asks, in the notice's own thread, what the team needs from
the client; on the morning the employee leaves, :func:`visit_requests` reads the replies in that
thread (``conversations.replies``) and sends them to the employee's DM, once.

The company is looked up in HubSpot (by id or domain) when the notice is written, and named as
HubSpot has it; one HubSpot does not know (or could not say) is named as it was given, the record
says why and the run note warns. Filing does not ask HubSpot: ``validate`` checks only that the
company is an id or a domain, so a HubSpot outage cannot reject an absence, and a vendor call's
retries belong to a step.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass

from ooo.keys import SlackEvent
from ooo.records import VisitRequest, VisitRequests
from ooo.services.errors import ServiceError
from ooo.steps.context import StepContext
from ooo.steps.slack_posts import history_floor, mention, post_once, user_id
from ooo.templates import Mrkdwn, days_out, local_time, render

#: At most this many requests are quoted in the DM (the rest: "and N more in the thread").
QUOTED = 30
#: A request longer than this is cut in the DM (the thread has it whole).
REQUEST_CHARS = 1500


@dataclass(frozen=True)
class VisitedCompany:
    """The company a client visit is to, as the notices name it."""

    given: str  # the absence's client_company (an id or a domain)
    name: str
    id: str | None = None  # HubSpot's, when HubSpot knows it
    unknown: str | None = None  # why it is named as given


def visited_company(ctx: StepContext) -> VisitedCompany | None:
    """The visited company (None: not a client visit): as the team notice recorded it, else asked of HubSpot."""
    absence = ctx.absence
    if not absence.is_client_visit:
        return None
    given = absence.client_company
    notice = ctx.records.team_notice
    if notice is not None and notice.client_company:
        return VisitedCompany(given, notice.client_company, notice.client_company_id, notice.client_company_unknown)
    try:
        company = ctx.services.hubspot.find_company(given)
    except (ServiceError, ValueError) as exc:
        ctx.log.warning("Could not look up the client %s in HubSpot: %s", given, exc)
        return VisitedCompany(given, given, unknown=f"HubSpot could not be asked ({exc})")
    if company is None:
        ctx.log.warning("HubSpot has no company %s: the notices name it as given", given)
        return VisitedCompany(given, given, unknown=f"HubSpot has no company {given}")
    return VisitedCompany(given, company.name, company.id)


def visit_requests(ctx: StepContext) -> VisitRequests:
    """The team's replies under the client-visit notice, in one DM to the employee the morning they leave."""
    absence = ctx.absence
    if not absence.is_client_visit:
        return VisitRequests(skipped="not a client visit")
    slack = ctx.services.slack
    channel = slack.channel_id(ctx.team.channels["team_notice"])
    company = visited_company(ctx)
    assert company is not None  # a client visit
    notice = ctx.records.team_notice
    thread_ts = notice.ts if notice is not None and notice.ts else None
    if thread_ts is None:  # a notice whose task was stopped before its record was kept
        found = slack.find_message_with_metadata(channel, SlackEvent.TEAM_NOTICE, ctx.key, oldest=history_floor(ctx))
        thread_ts = found["ts"] if found is not None else None
    if thread_ts is None:
        ctx.log.info("No team notice was posted for the visit: nobody was asked, nothing to send")
        return VisitRequests(skipped="no team notice was posted: nobody was asked", company=company.name)
    employee = user_id(ctx, absence.employee)
    requests = [VisitRequest(user=m["user"], ts=m["ts"], text=m.get("text") or "")
                for m in slack.replies(channel, thread_ts)
                if m["ts"] != thread_ts and m.get("user") and not m.get("bot_id") and m["user"] != employee
                and float(m["ts"]) <= ctx.now.timestamp()]
    tz = absence.employee.timezone
    shown = [{"who": Mrkdwn(f"<@{r.user}>"), "when": local_time(_at(r.ts), tz),
              "text": Mrkdwn(_quoted(r.text))} for r in requests[:QUOTED]]
    text = render("visit_requests.slack", absence=absence, company=company.name, requests=shown,
                  more=len(requests) - len(shown), channel=ctx.team.channels["team_notice"],
                  employee=mention(ctx, absence.employee), days=days_out(absence, ctx.timeline))
    posted = post_once(ctx, slack.open_dm(employee), SlackEvent.VISIT_REQUESTS, text,
                       f"visit requests DM to {absence.employee.name} ({len(requests)} requests)")
    return VisitRequests(**dataclasses.asdict(posted) | {"user": employee}, company=company.name,
                         thread_ts=thread_ts, requests=requests)


def _at(ts: str) -> dt.datetime:
    """A Slack ts as the moment it was posted."""
    return dt.datetime.fromtimestamp(float(ts), dt.timezone.utc)


def _quoted(text: str) -> str:
    """A reply as a Slack quote: Slack's own markup kept (it is escaped already), cut when long."""
    cut = text if len(text) <= REQUEST_CHARS else text[: REQUEST_CHARS - 1] + "…"
    return "\n".join("> " + line for line in (cut.strip() or "(no text)").splitlines())
