"""Emails to clients, logged on their HubSpot records: the account's timeline shows what was sent.

The buddy-system protocol sends client notes as HubSpot email templates, so the account team sees
them on the record. The procedure sends them from the employee's Gmail instead, then logs each on
HubSpot as an email engagement on the client's contact and company (:meth:`HubSpotClient.log_email`),
found again by the email's Message-ID, so a retry never logs it twice. A client address HubSpot has
no contact for is reported (the step's log and record), never fatal: the email was sent all the same.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import getaddresses

from ooo.steps.context import StepContext


@dataclass(frozen=True)
class Logged:
    """An email's engagement on HubSpot (None: not logged), and the recipients HubSpot does not know."""

    engagement_id: str | None = None
    not_in_hubspot: list[str] = field(default_factory=list)


def log_sent(ctx: StepContext, message: EmailMessage, contact_ids: Sequence[str],
             company_ids: Sequence[str]) -> str:
    """Log ``message`` (as it was sent from the employee's mailbox) on these contacts and companies:
    the engagement's id. Looked up by its Message-ID first, so it is logged once."""
    employee = ctx.absence.employee
    plain, rich = message.get_body(("plain",)), message.get_body(("html",))
    engagement_id, logged = ctx.services.hubspot.log_email(
        message["Message-ID"], str(message["Subject"]), plain.get_content() if plain else "",
        rich.get_content() if rich else "", sender=(employee.name, employee.email),
        to=getaddresses([str(message["To"])]), at=ctx.now, company_ids=company_ids, contact_ids=contact_ids)
    ctx.log.info("%s on HubSpot (email engagement %s)", "logged" if logged else "already logged", engagement_id)
    return engagement_id


def log_to_clients(ctx: StepContext, message: EmailMessage, addresses: Sequence[str]) -> Logged:
    """Log ``message`` on the HubSpot contacts with these addresses and their primary companies."""
    hubspot = ctx.services.hubspot
    contacts, unknown = [], []
    for address in dict.fromkeys(a.strip().lower() for a in addresses):
        contact = hubspot.find_contact(address)
        if contact is None:
            unknown.append(address)
        else:
            contacts.append(contact)
    if unknown:
        ctx.log.warning("HubSpot has no contact for %s: %r is not on their records there", ", ".join(unknown),
                        str(message["Subject"]))
    if not contacts:
        return Logged(None, unknown)
    companies = [c.primary_company_id for c in contacts if c.primary_company_id]
    return Logged(log_sent(ctx, message, [c.id for c in contacts], list(dict.fromkeys(companies))), unknown)
