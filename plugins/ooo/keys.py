"""The undo contract: every key an absence's side effects carry, derived from its run id.

Each effect is looked up by its key before it is made (so a retry or a re-run never doubles it)
and found again by the same key to undo it (so a cancel undoes even a step stopped half-way). The
keys live in calendars, mailboxes and Slack for weeks: changing how one is derived orphans the
effects of every absence in flight, so they never change.

One effect carries no key: a person's Slack status (Slack keeps no metadata on it). It is recognised
by its text and emoji, as ``slack_status_on`` recorded it or rendered again from the plan
(:mod:`ooo.steps.slack_status`); where no record is left (a step stopped half-way), the status
template's wording is what finds it, so changing the wording is a change to this contract too.
"""

from __future__ import annotations

import hashlib
from enum import StrEnum

#: ``extendedProperties.private`` key on the events an absence made or declined; its value is the run key.
MARKER = "oooRun"
#: The events an absence books, by what they are (the event id's seed), with their ``sendUpdates``.
BOOKED: tuple[tuple[str, str], ...] = (("ooo", "none"), ("handover", "all"), ("coverage-review", "all"))


class SlackEvent(StrEnum):
    """The ``event_type`` of each kind of Slack message's metadata (its payload's ``key``: the run key)."""

    TEAM_NOTICE = "ooo_team_notice"
    CC_NOTICE = "ooo_cc_notice"  # the CSM's paired Content Creator told who covers
    BUDDY_HANDOVER = "ooo_buddy_handover"
    VOICEMAIL_REMINDER = "ooo_voicemail_reminder"
    VISIT_REQUESTS = "ooo_visit_requests"
    APPROVAL_REQUEST = "ooo_approval_request"
    NOT_APPROVED = "ooo_not_approved"
    SMS_ALERT = "ooo_sms_alert"
    CANCELLED = "ooo_absence_cancelled"
    BACK_EARLY = "ooo_absence_back_early"
    FAILURE_ALERT = "ooo_failure_alert"


def run_key(run_id: str) -> str:
    """The short key all of one run's effects carry."""
    return hashlib.sha256(run_id.encode()).hexdigest()[:20]


def event_id(key: str, what: str) -> str:
    """A Calendar event id (hex is valid base32hex) for the event ``what`` the run books."""
    return hashlib.sha256(f"{key}/{what}".encode()).hexdigest()[:26]


def email_message_id(key: str, what: str, domain: str) -> str:
    """The Message-ID of the run's email about ``what`` (a meeting's event id, ``<id>/stands``)."""
    digest = hashlib.sha256(what.encode()).hexdigest()[:16]
    return f"<ooo.{key}.{digest}@{domain}>"


def reschedule_message_id(key: str, meeting_id: str, domain: str) -> str:
    """The reschedule note to a meeting's clients."""
    return email_message_id(key, meeting_id, domain)


def meeting_stands_message_id(key: str, meeting_id: str, domain: str) -> str:
    """The reply to that note, when the absence is cancelled or cut short: the meeting stands."""
    return email_message_id(key, f"{meeting_id}/stands", domain)


def customer_notice_message_id(key: str, address: str, domain: str) -> str:
    """The notice to one of a CSM's customers' contacts: one per address, so a contact of two
    companies is written to once."""
    return email_message_id(key, f"customer/{address.strip().lower()}", domain)


def customer_update_message_id(key: str, address: str, domain: str, version: str) -> str:
    """A reply to that notice when the absence changes (``version``: ``cancelled``, or
    ``back-<new last day>``, so each new end date is news)."""
    return email_message_id(key, f"customer/{address.strip().lower()}/{version}", domain)


def digest_message_id(key: str, domain: str) -> str:
    """The return digest."""
    return f"<ooo-digest.{key}@{domain}>"


def correction_key(key: str, audience: str, version: str = "") -> str:
    """The Slack key of a correction (``audience``: ``team`` or ``buddy``); ``version`` tells news apart."""
    return f"{key}-{audience}{version}"
