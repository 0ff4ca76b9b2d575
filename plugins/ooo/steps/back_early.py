"""An absence cut short (back early, or a new last day): its effects cut to the new end.

Run once the plan holds the new end date (``ctx``), with the plan as it was (``was``): the
out-of-office block ends at the new return (unless it is the employee's own event: theirs to
change), the meetings between the new and the old return are put back on the calendar (clients
told they stand), the auto-reply (if it is on and still the absence's) says the new return date
and ends then, so does the Slack status (if it is still ours), and the team and the buddy are
told; the customers told of the absence get a "back earlier" note, and the CSM's CC hears too.
The dated steps themselves follow the new plan when they wake.
"""

from __future__ import annotations

from ooo.keys import SlackEvent, event_id
from ooo.records import BackEarly
from ooo.steps.auto_reply import desired_settings, is_ours
from ooo.steps.cancel import adopted_block
from ooo.steps.context import StepContext
from ooo.steps.customer_notice import tell_of_change
from ooo.steps.meetings import restore_meetings
from ooo.steps.slack_posts import tell_team_and_buddy
from ooo.steps.slack_status import status_cut_short


def back_early(ctx: StepContext, was: StepContext) -> BackEarly:
    employee = ctx.absence.employee
    google = ctx.services.google(employee.email)
    block = google.get_event(event_id(ctx.key, "ooo"))
    block_cut = False
    if block is not None and block.get("status") != "cancelled":
        google.patch_event(block["id"], {"end": {"dateTime": ctx.timeline.back_at.isoformat(),
                                                 "timeZone": employee.timezone}})
        block_cut = True
        ctx.log.info("out-of-office block now ends %s", ctx.timeline.back_at.isoformat())
    adopted = adopted_block(ctx)
    if adopted:
        ctx.log.info("the out-of-office event %s is %s's own: left to them", adopted, employee.name)
    restored = restore_meetings(ctx, max(ctx.now, ctx.timeline.back_at), was.timeline.back_at, cancelled=False)
    auto_reply = False
    if is_ours(was, google.get_vacation()):
        google.update_vacation(desired_settings(ctx))
        auto_reply = True
        ctx.log.info("auto-reply now says back on %s", ctx.timeline.return_day.isoformat())
    status = status_cut_short(ctx, was)
    told = tell_team_and_buddy(ctx, SlackEvent.BACK_EARLY, "back_early_notice.slack",
                               version=f"-{ctx.absence.end}")  # each new end date is news
    customers = tell_of_change(ctx, False, SlackEvent.BACK_EARLY, "back_early_notice.slack",
                               version=f"back-{ctx.absence.end}")
    return BackEarly(block_cut=block_cut, restored=restored, auto_reply_updated=auto_reply, status_updated=status,
                     team_corrected=told.team_corrected, buddy_told=told.buddy_told,
                     customers_told=customers.customers, cc_told=customers.cc)
