"""Undoing what an absence did, when it is cancelled.

Everything is found again from the run's deterministic keys (:mod:`ooo.keys`), not only from the
steps' records, so a step stopped half-way is undone too:

* the out-of-office block and the meetings the absence booked (event ids derived from the run);
  a block that is the employee's own out-of-office event (adopted by the cleanup) is theirs, and
  left to them;
* the meetings it declined (marked ``oooRun`` on the employee's copy): set back to "needs action"
  (accepted again when the employee organises them) where they are still to come, and the
  clients who were sent the reschedule note (found by its Message-ID) told the meeting stands;
* the auto-reply, switched off only when it is still the one the absence set;
* the Slack status: the one the person had before put back, only while ours is still set;
* a correction threaded under the team notice, and the buddy told if they were handed the cover;
* a short correction to the customers told (found by the notices' Message-IDs), logged on HubSpot,
  and the CSM's paired CC told under their DM.

Every part checks first, so running it twice changes nothing the second time.
"""

from __future__ import annotations

from ooo.keys import BOOKED, SlackEvent, event_id
from ooo.records import Cancellation
from ooo.steps.auto_reply import auto_reply_off, is_ours
from ooo.steps.context import StepContext
from ooo.steps.customer_notice import tell_of_change
from ooo.steps.meetings import restore_meetings
from ooo.steps.slack_posts import tell_team_and_buddy
from ooo.steps.slack_status import put_back


def adopted_block(ctx: StepContext) -> str | None:
    """The employee's own out-of-office event the cleanup adopted as the block, if it did: theirs."""
    cleanup = ctx.records.calendar_cleanup
    return cleanup.ooo_event_id if cleanup and cleanup.ooo_event_adopted else None


def cancel_absence(ctx: StepContext) -> Cancellation:
    employee = ctx.absence.employee
    google = ctx.services.google(employee.email)
    deleted = [event_id(ctx.key, what) for what, send_updates in BOOKED
               if google.delete_event(event_id(ctx.key, what), send_updates=send_updates)]
    ctx.log.info("deleted %d calendar events of the absence", len(deleted))
    adopted = adopted_block(ctx)
    if adopted:
        ctx.log.info("the out-of-office event %s is %s's own: left to them", adopted, employee.name)
    restored = restore_meetings(ctx, max(ctx.now, ctx.timeline.out_from), ctx.timeline.back_at, cancelled=True)
    auto_reply = None
    if is_ours(ctx, google.get_vacation()):
        auto_reply = auto_reply_off(ctx)
    else:
        ctx.log.info("the auto-reply is not the one this absence set: left as it is")
    status = put_back(ctx)
    told = tell_team_and_buddy(ctx, SlackEvent.CANCELLED, "cancellation_notice.slack")
    customers = tell_of_change(ctx, True, SlackEvent.CANCELLED, "cancellation_notice.slack", version="cancelled")
    return Cancellation(deleted_events=deleted, restored=restored, auto_reply_off=auto_reply is not None,
                        team_corrected=told.team_corrected, buddy_told=told.buddy_told,
                        customers_told=customers.customers, cc_told=customers.cc, status_put_back=status.put_back)
