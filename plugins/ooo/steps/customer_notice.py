"""Customers and the CC told who covers (CSM procedure, step 2), at the team notice's moment.

"Let all your customers and the CC know who your OOO will be and that you will be out" (seed 000):

* the customers are the HubSpot companies the CSM owns (``hubspot_owner_id``) whose lifecycle stage
  the roster's ``team.customer_notice`` counts as active, minus those whose opt-out property is set
  (a contact of one of those is still written to as another company's contact);
  at each, its primary contacts or all of them (the roster's rule);
* each contact gets ONE email from the CSM's mailbox (its Message-ID derived from the run and the
  address, so a contact of two companies is written to once, and a retry finds it sent), logged on
  HubSpot as an email engagement on the contact and their companies (:mod:`ooo.steps.hubspot_log`);
* the CSM's paired Content Creator (the roster's ``cc``) gets a Slack DM with the same facts.

Bad data (a company without contacts, a contact without a valid email, a contact listed twice) is
left out and said so in the log and the record, never fatal. A cancel or an earlier return replies
to those told (found again by the notices' Message-IDs in the CSM's mailbox, not only from the
record) and tells the CC, under the notice: :func:`tell_of_change`.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from email.errors import HeaderParseError
from email.headerregistry import Address
from email.message import EmailMessage
from typing import TYPE_CHECKING, Any

from ooo.keys import SlackEvent, correction_key, customer_notice_message_id, customer_update_message_id
from ooo.records import CustomerEmail, CustomerNotice, LeftOut, SlackPost
from ooo.steps.context import StepContext
from ooo.steps.hubspot_log import log_sent
from ooo.steps.mail import automated_email, send_once
from ooo.steps.meetings import about_the_absence
from ooo.steps.slack_posts import change_facts, history_floor, mention, post_once, user_id
from ooo.team import Person
from ooo.templates import render, split_subject
from ooo.timeline import customer_notice_skip

if TYPE_CHECKING:  # the DAG file imports the steps: the HTTP clients load when a step runs
    from ooo.services.hubspot import Company, Contact

#: A domain label (RFC 1035 letters, digits, hyphens inside) and a top-level domain of letters.
_LABEL = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?$")
_TLD = re.compile(r"^[a-z]{2,63}$")
#: Values of a HubSpot checkbox or text property that mean "not opted out" (anything else opts out).
_NOT_SET = {"", "false", "no", "0", "off"}


@dataclass
class Recipient:
    """A contact the notice goes to: their address, name, HubSpot id, and the CSM's companies that
    list them (the first, by name, is the one it is written for)."""

    address: str
    name: str
    first_name: str
    contact_id: str
    company_ids: list[str] = field(default_factory=list)
    companies: list[str] = field(default_factory=list)  # their names

    @property
    def company(self) -> str:
        return self.companies[0] if self.companies else ""

    @classmethod
    def of(cls, told: CustomerEmail) -> Recipient:
        """A contact as a notice's record keeps them (to write to them again)."""
        return cls(address=told.address, name=told.name, first_name=told.first_name, contact_id=told.contact_id,
                   company_ids=list(told.company_ids), companies=list(told.companies) or [told.company])


@dataclass(frozen=True)
class Audience:
    """Who the notice goes to, who is left out and why; ``skipped``: why nobody is written to."""

    recipients: list[Recipient] = field(default_factory=list)
    left_out: list[LeftOut] = field(default_factory=list)
    skipped: str | None = None


def deliverable(address: str | None) -> bool:
    """An address Gmail can send to: one RFC 5322 addr-spec at a domain with a top-level part
    (HubSpot keeps what was typed: ``orders@shop`` or ``a@b.com, c@d.com`` are not addresses)."""
    if not address:
        return False
    try:
        parsed = Address(addr_spec=address)
    except (ValueError, IndexError, HeaderParseError):
        return False
    labels = parsed.domain.lower().split(".")
    return len(labels) >= 2 and all(_LABEL.match(label) for label in labels) and bool(_TLD.match(labels[-1]))


def audience(ctx: StepContext) -> Audience:
    """Who the CSM's customer notice goes to, as HubSpot is now: the step and ``ooo plan --services``
    both ask this (it only reads)."""
    employee, rule = ctx.absence.employee, ctx.team.customer_notice
    if skip := customer_notice_skip(ctx.absence):
        return Audience(skipped=skip)
    if rule is None:
        return Audience(skipped="the roster has no team.customer_notice (which companies are customers)")
    if not employee.hubspot_owner_id:
        return Audience(skipped=f"{employee.name} has no hubspot_owner_id in the roster: their companies "
                                "cannot be found")
    hubspot = ctx.services.hubspot
    opt_out = rule.opt_out_property
    companies = hubspot.owned_companies(employee.hubspot_owner_id, rule.lifecycle_stages,
                                        properties=[opt_out] if opt_out else [])
    chosen: dict[str, Recipient] = {}
    left_out: list[LeftOut] = []
    for company in companies:
        value = (company.properties.get(opt_out) or "") if opt_out else ""
        if value.strip().lower() not in _NOT_SET:
            left_out.append(LeftOut(company=company.name, company_id=company.id,
                                    reason=f"opted out of absence notices: {opt_out} is {value!r}"))
            continue
        contacts = hubspot.company_contacts(company.id, primary_only=rule.contacts == "primary")
        if not contacts:
            which = "no contacts whose primary company it is" if rule.contacts == "primary" else "no contacts"
            left_out.append(LeftOut(company=company.name, company_id=company.id, reason=f"{which} in HubSpot"))
        for contact in contacts:
            if why := _choose(company, contact, chosen):
                left_out.append(LeftOut(company=company.name, company_id=company.id, contact=_name(contact),
                                        contact_id=contact.id, address=contact.email, reason=why))
    return Audience(recipients=list(chosen.values()), left_out=left_out)


def _choose(company: Company, contact: Contact, chosen: dict[str, Recipient]) -> str | None:
    """Add ``contact`` (of ``company``) to those written to; why not, when they are left out."""
    if not contact.email:
        return "no email address in HubSpot"
    if not deliverable(contact.email):
        return f"{contact.email!r} is not a valid email address"
    address = contact.email.strip().lower()
    first = chosen.get(address)
    if first is None:
        chosen[address] = Recipient(address=address, name=_name(contact), first_name=contact.first_name.strip(),
                                    contact_id=contact.id, company_ids=[company.id], companies=[company.name])
        return None
    if first.contact_id == contact.id:  # one person at two of the CSM's companies: one email, on both
        first.company_ids.append(company.id)
        first.companies.append(company.name)
        return f"also a contact of {first.company}: written to once, logged on both companies"
    return f"the same address as {first.name or first.address} of {first.company}: written to once"


def _name(contact: Contact) -> str:
    return f"{contact.first_name} {contact.last_name}".strip()


def notice_email(ctx: StepContext, recipient: Recipient) -> tuple[str, str, str]:
    """The notice to ``recipient``: subject, plain text and HTML."""
    context = _to_customer(ctx, recipient)
    subject, text = split_subject(render("customer_notice.txt", **context))
    return subject, text, render("customer_notice.html", **context)


def _to_customer(ctx: StepContext, recipient: Recipient) -> dict[str, Any]:
    return {**about_the_absence(ctx), "greeting": recipient.first_name or "there",
            "support_email": ctx.team.support_email, "support_phone": ctx.team.support_phone}


def customer_notice(ctx: StepContext) -> CustomerNotice:
    if skip := customer_notice_skip(ctx.absence):
        ctx.log.info("no customer notice: %s", skip)
        return CustomerNotice(skipped=skip)
    who = audience(ctx)
    if who.skipped:
        ctx.log.warning("no customer is told: %s", who.skipped)
    for out in who.left_out:
        ctx.log.warning("not written to: %s: %s", " / ".join(filter(None, (out.company, out.contact))), out.reason)
    google = ctx.services.google(ctx.absence.employee.email)
    told = [_tell(ctx, google, recipient) for recipient in who.recipients]
    record = CustomerNotice(told=told, left_out=who.left_out, skipped=who.skipped)
    record = dataclasses.replace(record, cc=tell_cc(ctx, record))
    ctx.log.info("%s (%d left out)", record.summary, len(record.left_out))
    return record


def _tell(ctx: StepContext, google: Any, recipient: Recipient) -> CustomerEmail:
    subject, text, html = notice_email(ctx, recipient)
    mid = customer_notice_message_id(ctx.key, recipient.address, ctx.team.email_domain)
    message = automated_email(ctx.absence.employee, [(recipient.name, recipient.address)], subject, text, html,
                              mid, ctx.now)
    return _sent(ctx, google, recipient, message)


def _sent(ctx: StepContext, google: Any, recipient: Recipient, message: EmailMessage) -> CustomerEmail:
    """Send ``message`` to ``recipient`` once, and log it once on their HubSpot contact and companies."""
    gmail_id, sent = send_once(google, message, look_first=not ctx.first_try)
    if not sent:
        ctx.log.info("%s was sent to %s by an earlier try", message["Message-ID"], recipient.address)
    engagement = log_sent(ctx, message, [recipient.contact_id], recipient.company_ids)
    return CustomerEmail(address=recipient.address, name=recipient.name, first_name=recipient.first_name,
                         contact_id=recipient.contact_id, company=recipient.company,
                         company_ids=list(recipient.company_ids), companies=list(recipient.companies),
                         message_id=message["Message-ID"],
                         gmail_id=gmail_id, engagement_id=engagement, sent=sent)


# -- the paired Content Creator -------------------------------------------------------------------
def paired_cc(ctx: StepContext) -> tuple[Person | None, str | None]:
    """The CSM's paired CC (the plan's, else the roster's), or why there is none."""
    employee = ctx.absence.employee
    email = employee.cc or getattr(ctx.team.person(employee.email), "cc", None)
    if not email:
        return None, f"{employee.name} has no paired CC (cc) in the roster"
    cc = ctx.team.person(email)
    return (cc, None) if cc is not None else (None, f"{employee.name}'s CC {email} is not in the roster")


def tell_cc(ctx: StepContext, notice: CustomerNotice) -> SlackPost:
    """A DM to the paired CC: who covers, the dates, support, and which customers were emailed."""
    cc, why = paired_cc(ctx)
    if cc is None:
        ctx.log.info("no CC to tell: %s", why)
        return SlackPost(skipped=why)
    text = render("customer_notice_cc.slack", absence=ctx.absence, return_day=ctx.timeline.return_day, cc=cc,
                  employee=mention(ctx, ctx.absence.employee), buddy=mention(ctx, ctx.absence.buddy),
                  support_email=ctx.team.support_email, told=len(notice.told),
                  companies=sorted({name for t in notice.told for name in t.companies}), why=notice.skipped)
    user = user_id(ctx, cc)
    posted = post_once(ctx, ctx.services.slack.open_dm(user), SlackEvent.CC_NOTICE, text,
                       f"customer notice DM to the CC {cc.name}")
    return dataclasses.replace(posted, user=user)


# -- a cancel, or an earlier return -----------------------------------------------------------------
@dataclass(frozen=True)
class ToldOfChange:
    """The customers replied to, and the CC's note (None: the CC had not been told)."""

    customers: list[CustomerEmail] = field(default_factory=list)
    cc: SlackPost | None = None


def tell_of_change(ctx: StepContext, cancelled: bool, event_type: SlackEvent, template: str,
                   version: str) -> ToldOfChange:
    """Reply to every contact who was sent the notice, and tell the CC under their DM.

    Those told are found again by the notices' Message-IDs in the CSM's mailbox: among the record's
    contacts and those HubSpot lists now (a notice step stopped half-way kept no record). ``version``
    tells news apart (``cancelled``, ``back-<new last day>``): each is sent once.
    """
    if customer_notice_skip(ctx.absence):
        return ToldOfChange()
    domain, google = ctx.team.email_domain, ctx.services.google(ctx.absence.employee.email)
    candidates = {told.address: Recipient.of(told) for told in (ctx.records.customer_notice or CustomerNotice()).told}
    for recipient in audience(ctx).recipients:
        candidates.setdefault(recipient.address, recipient)
    notice_subject = None
    told = []
    for address, recipient in candidates.items():
        original = customer_notice_message_id(ctx.key, address, domain)
        if not google.find_message(original):
            continue  # never told (or not yet): nothing to correct
        notice_subject = notice_subject or notice_email(ctx, recipient)[0]
        context = {**_to_customer(ctx, recipient), "notice_subject": notice_subject, "cancelled": cancelled,
                   "started": ctx.now >= ctx.timeline.out_from}
        subject, text = split_subject(render("customer_update.txt", **context))
        message = automated_email(ctx.absence.employee, [(recipient.name, address)], subject, text,
                                  render("customer_update.html", **context),
                                  customer_update_message_id(ctx.key, address, domain, version), ctx.now,
                                  headers={"In-Reply-To": original, "References": original})
        told.append(_sent(ctx, google, recipient, message))
    ctx.log.info("%d customer contacts told of the change", len(told))
    return ToldOfChange(told, _tell_cc_of_change(ctx, event_type, template, version))


def _tell_cc_of_change(ctx: StepContext, event_type: SlackEvent, template: str, version: str) -> SlackPost | None:
    """The change, threaded under the CC's notice DM (found by its metadata); None when there is none."""
    cc, _ = paired_cc(ctx)
    if cc is None:
        return None
    slack = ctx.services.slack
    dm = slack.open_dm(user_id(ctx, cc))
    notice = slack.find_message_with_metadata(dm, SlackEvent.CC_NOTICE, ctx.key, oldest=history_floor(ctx))
    if notice is None:
        return None
    return post_once(ctx, dm, event_type, render(template, **change_facts(ctx), for_buddy=False),
                     f"note to the CC {cc.name}", key=correction_key(ctx.key, "cc", f"-{version}"),
                     thread_ts=notice["ts"])
