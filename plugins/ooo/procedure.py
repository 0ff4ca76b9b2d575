"""The procedure's steps by name, in the order a run carries them out.

One table, shared by the timeline (its moments are keyed by these names), the steps' records, the
DAG (its task ids are these names), the run note and the previews. The names are a contract: task
ids must stay stable across releases, since an absence run lives for weeks (design §8).
"""

from __future__ import annotations

from enum import StrEnum


class Step(StrEnum):
    VALIDATE = "validate"
    APPROVAL = "approval"
    CALENDAR_CLEANUP = "calendar_cleanup"
    HANDOVER_MEETING = "handover_meeting"
    COVERAGE_REVIEW = "coverage_review"
    TEAM_NOTICE = "team_notice"
    CUSTOMER_NOTICE = "customer_notice"
    BUDDY_HANDOVER = "buddy_handover"
    VOICEMAIL_REMINDER = "voicemail_reminder"
    AUTO_REPLY_ON = "auto_reply_on"
    SLACK_STATUS_ON = "slack_status_on"
    VISIT_REQUESTS = "visit_requests"  # a client visit: the team's requests, to the employee's DM
    SMS_REVIEW = "sms_review"
    AUTO_REPLY_OFF = "auto_reply_off"
    SLACK_STATUS_OFF = "slack_status_off"
    RETURN_DIGEST = "return_digest"


#: Every step, in the order a run carries them out (what happens at the same moment: in this order).
STEPS: tuple[Step, ...] = tuple(Step)
#: Moments that are meetings ``calendar_cleanup`` books, not tasks that wait.
MEETINGS: tuple[Step, ...] = (Step.HANDOVER_MEETING, Step.COVERAGE_REVIEW)

#: What each dated step does when its moment comes, as a waiting task's note says it ("waits until … to …").
PURPOSE: dict[Step, str] = {
    Step.CALENDAR_CLEANUP: "block the calendar and decline the meetings",
    Step.TEAM_NOTICE: "post the team notice",
    Step.BUDDY_HANDOVER: "send the buddy the handover",
    Step.VOICEMAIL_REMINDER: "send the voicemail script",
    Step.AUTO_REPLY_ON: "switch the auto-reply on",
    Step.SMS_REVIEW: "review the texts",
    Step.AUTO_REPLY_OFF: "switch the auto-reply off",
    Step.RETURN_DIGEST: "send the return digest",
}
