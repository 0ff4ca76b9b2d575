"""The sandbox's shared scenario: one deterministic schedule every sandbox API seeds from.

The Google sandbox seeds the team's internal meetings (calendar events) and the Fathom sandbox
seeds their recordings from the same :func:`team_meetings`, so a digest can match a missed
meeting to its recording by title and time. :func:`demo_absences` is the demo's two absences
(the rule of ``scripts/sample_absences.py``), around which HubSpot notes and comments are seeded.
:func:`own_out_of_office` is an absence nobody filed: an out-of-office event a person put in their
own calendar, for the intake to find.
:func:`customer_book` is the CSMs' HubSpot companies and contacts (the customers told who covers).

Rule: "Client Services Weekly" every Tuesday 10:00-11:00 and a "Lunch & Learn: <topic>" every
Thursday 12:00-13:00, America/Denver, on the team's working days, from five weeks before the
anchor to five weeks after; every team member is invited; Allison Reed (the manager) organises.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from ooo.team import Team, load_team

MEETING_TZ = "America/Denver"
WEEKS_AROUND = 5

LUNCH_TOPICS: tuple[tuple[str, str], ...] = (
    ("HubSpot sequences that convert", "Three sequences that booked renewals this quarter; how to clone them."),
    ("Google Business Profile posts", "What to post weekly for local clients; photo rules; the new posting calendar."),
    ("Reading a website analytics report", "Sessions vs. users, the conversions panel, what to tell a client."),
    ("Handling a billing escalation", "Who owns what, the refund ladder, the wording support uses."),
    ("Review responses that rank", "Replying to 1-star reviews; the template library; turnaround targets."),
)


def _doc(doc_id: str, title: str) -> dict[str, str]:
    """A Calendar v3 event attachment pointing at a Google Doc."""
    return {
        "fileUrl": f"https://docs.google.com/document/d/{doc_id}/edit",
        "title": title,
        "mimeType": "application/vnd.google-apps.document",
        "iconLink": "https://drive-thirdparty.googleusercontent.com/16/type/application/vnd.google-apps.document",
        "fileId": doc_id,
    }


#: The clients the CSMs meet (the calendars' client meetings): name, domain, contact. HubSpot knows
#: each named contact (:func:`client_contact`), not the ``office@`` addresses also invited.
CLIENTS: tuple[tuple[str, str, str], ...] = (
    ("Big Sky Dental", "bigskydental.com", "Hannah Ortiz"),
    ("Bluebird Bakery", "bluebirdbakery.com", "Owen Price"),
    ("Teton Outfitters", "tetonoutfitters.com", "Grace Kim"),
    ("Riverbend Realty", "riverbendrealty.com", "Luis Moreno"),
    ("Cody Auto Care", "codyautocare.com", "Nina Walsh"),
    ("Gallatin Pet Clinic", "gallatinpets.com", "Ethan Brooks"),
    ("Laramie Yoga Loft", "laramieyoga.com", "Ava Chen"),
    ("Yellowstone Plumbing Co", "ysplumbing.com", "Mark Ellis"),
)


def client_contact(client: tuple[str, str, str]) -> str:
    """The client's contact's address (``hannah.ortiz@bigskydental.com``)."""
    first, last = client[2].lower().split()
    return f"{first}.{last}@{client[1]}"


def team_meetings(anchor: dt.date, team: Team | None = None) -> list[dict[str, Any]]:
    """The team's internal meetings around ``anchor``, oldest first.

    Each: ``id`` (a valid Calendar event id, base32hex), ``kind`` (``weekly``/``lunch``),
    ``title``, ``start``/``end`` (aware datetimes), ``timezone``, ``description`` (the agenda),
    ``attachments`` (Calendar v3 attachment dicts), ``organizer`` and ``attendees`` (emails).
    """
    team = team or load_team()
    tz = ZoneInfo(MEETING_TZ)
    manager = next((p.email for p in team.people if p.role == "manager"), team.people[0].email)
    attendees = [p.email for p in team.people]
    first = anchor - dt.timedelta(weeks=WEEKS_AROUND)
    meetings: list[dict[str, Any]] = []
    day = first
    while day <= anchor + dt.timedelta(weeks=WEEKS_AROUND):
        if team.is_working_day(day) and day.isoweekday() in (2, 4):
            stamp = f"{day:%Y%m%d}"
            if day.isoweekday() == 2:
                start = dt.datetime.combine(day, dt.time(10, 0), tz)
                meetings.append({
                    "id": f"teammtg{stamp}",
                    "kind": "weekly",
                    "title": "Client Services Weekly",
                    "start": start,
                    "end": start + dt.timedelta(hours=1),
                    "timezone": MEETING_TZ,
                    "description": (
                        f"Agenda for {day:%b} {day.day}:\n"
                        "1. Renewals at risk this month\n"
                        "2. Support queue and SMS coverage\n"
                        "3. Wins of the week\n"
                        "4. Who is out next week"
                    ),
                    "attachments": [
                        _doc(f"agenda-weekly-{stamp}", f"Client Services Weekly agenda, {day:%b} {day.day}")
                    ],
                    "organizer": manager,
                    "attendees": attendees,
                })
            else:
                topic, blurb = LUNCH_TOPICS[day.toordinal() // 7 % len(LUNCH_TOPICS)]
                start = dt.datetime.combine(day, dt.time(12, 0), tz)
                meetings.append({
                    "id": f"lunchlearn{stamp}",
                    "kind": "lunch",
                    "title": f"Lunch & Learn: {topic}",
                    "start": start,
                    "end": start + dt.timedelta(hours=1),
                    "timezone": MEETING_TZ,
                    "description": f"{blurb}\nBring questions; the deck is attached.",
                    "attachments": [_doc(f"deck-lunch-{stamp}", f"Lunch & Learn deck: {topic}")],
                    "organizer": manager,
                    "attendees": attendees,
                })
        day += dt.timedelta(days=1)
    return meetings


def demo_absences(anchor: dt.date, team: Team | None = None) -> list[dict[str, Any]]:
    """The demo's absences (``devstack.demo.sample_absences`` files them): employee, start, end.

    Maya Patel (CSM) is out the next working week, Monday to Friday; Jordan Reyes (CSM) was out
    sick the week two weeks before the anchor, Monday to Friday.
    """
    team = team or load_team()
    monday = anchor + dt.timedelta(days=7 - anchor.weekday())
    start = monday if team.is_working_day(monday) else team.next_working_day(monday)
    sick_monday = anchor - dt.timedelta(days=14 + anchor.weekday())
    sick = sick_monday if team.is_working_day(sick_monday) else team.next_working_day(sick_monday)
    return [
        {"employee": "maya.patel@yellowstonelocal.com", "start": start, "end": monday + dt.timedelta(days=4)},
        {"employee": "jordan.reyes@yellowstonelocal.com", "start": sick, "end": sick_monday + dt.timedelta(days=4)},
    ]


#: Who made their own out-of-office event, and how many working days it lasts.
OWN_OOO_PERSON = "lena.fischer@yellowstonelocal.com"
OWN_OOO_WORKING_DAYS = 3


def own_out_of_office(anchor: dt.date, team: Team | None = None) -> list[dict[str, Any]]:
    """Out-of-office events people made themselves in Google Calendar: Lena Fischer's, from the
    first working day two weeks after ``anchor``, for 3 working days (none if she is not in the team).

    Each: ``employee``, ``id`` (a valid Calendar event id), ``first_day``/``last_day`` (the working
    days out), ``start``/``end`` (aware: midnight before the first day to midnight after the last,
    as Calendar's form makes an all-day out-of-office event, weekends between included),
    ``timezone``, ``summary`` and ``decline_message`` (the form's defaults).
    """
    team = team or load_team()
    person = team.person(OWN_OOO_PERSON)
    if person is None:
        return []
    first = anchor + dt.timedelta(weeks=2)
    first = first if team.is_working_day(first) else team.next_working_day(first)
    last = first
    for _ in range(OWN_OOO_WORKING_DAYS - 1):
        last = team.next_working_day(last)
    tz = ZoneInfo(person.timezone)
    return [{
        "employee": person.email,
        "id": f"selfooo{first:%Y%m%d}{hashlib.sha256(person.email.encode()).hexdigest()[:8]}",
        "first_day": first,
        "last_day": last,
        "start": dt.datetime.combine(first, dt.time(), tz),
        "end": dt.datetime.combine(last + dt.timedelta(days=1), dt.time(), tz),
        "timezone": person.timezone,
        "summary": "Out of office",
        # Calendar's form fills this in; the text is as people see it (UNCONFIRMED in Google's docs).
        "decline_message": "Declined because I am out of office",
    }]

# -- the CSMs' customer book (HubSpot companies and their contacts) ------------------------------

OPT_OUT_PROPERTY = "ooo_notice_opt_out"  # a custom company checkbox: HubSpot sends "true"/"false"


@dataclass(frozen=True)
class BookContact:
    """A person at a client. ``email`` None: HubSpot has no email for them; ``also``: the names of
    other companies in the book they are associated with (their primary company is the one listing
    them)."""

    first: str
    last: str
    email: str | None
    also: tuple[str, ...] = ()


@dataclass(frozen=True)
class BookCompany:
    """A HubSpot company a CSM owns; ``contacts[0]`` is its primary contact, if any."""

    name: str
    domain: str
    owner: str  # the owning CSM's roster email
    stage: str  # HubSpot's ``lifecyclestage`` internal value
    contacts: tuple[BookContact, ...]
    opt_out: bool | None = None  # None: the property was never set


def customer_book() -> list[BookCompany]:
    """The companies Maya Patel and Jordan Reyes (and one of Priya Nair's) own, with their contacts.

    Most are customers; Bozeman Brewing Co. is still a lead; Livingston Realty Group asked for no
    absence notices (:data:`OPT_OUT_PROPERTY` true); Paradise Valley Orchards has no contacts;
    Teton Family Dental's front desk has no email and Gallatin Coffee Roasters' orders address is
    invalid; Chris Hale works for Big Sky Outfitters and Gallatin Coffee Roasters.
    """
    maya, jordan, priya = ("maya.patel@yellowstonelocal.com", "jordan.reyes@yellowstonelocal.com",
                           "priya.nair@yellowstonelocal.com")
    return [
        BookCompany("Big Sky Outfitters", "bigskyoutfitters.com", maya, "customer", (
            BookContact("Dana", "Whitfield", "dana@bigskyoutfitters.com"),
            BookContact("Luis", "Ortega", "luis.ortega@bigskyoutfitters.com"),
            BookContact("Chris", "Hale", "chris@halemanagement.com", also=("Gallatin Coffee Roasters",)),
        ), opt_out=False),
        BookCompany("Teton Family Dental", "tetonfamilydental.com", maya, "customer", (
            BookContact("Amy", "Chen", "dr.chen@tetonfamilydental.com"),
            BookContact("Front", "Desk", None),
        )),
        BookCompany("Gallatin Coffee Roasters", "gallatincoffeeroasters.com", maya, "customer", (
            BookContact("Sam", "Rivera", "sam@gallatincoffeeroasters.com"),
            BookContact("Pat", "Quinn", "orders@gallatincoffeeroasters"),  # no top-level domain
        )),
        BookCompany("Bozeman Brewing Co.", "bozemanbrewing.com", maya, "lead", (
            BookContact("Erin", "Walsh", "erin@bozemanbrewing.com"),
        )),
        BookCompany("Livingston Realty Group", "livingstonrealty.com", maya, "customer", (
            BookContact("Grace", "Holt", "grace@livingstonrealty.com"),
        ), opt_out=True),
        BookCompany("Paradise Valley Orchards", "paradisevalleyorchards.com", maya, "customer", ()),
        BookCompany("Cody Auto Repair", "codyautorepair.com", jordan, "customer", (
            BookContact("Hank", "Brody", "hank@codyautorepair.com"),
            BookContact("Mia", "Brody", "mia@codyautorepair.com"),
        )),
        BookCompany("Jackson Hole Yoga", "jacksonholeyoga.com", jordan, "customer", (
            BookContact("Tess", "Lindqvist", "tess@jacksonholeyoga.com"),
        )),
        BookCompany("Red Lodge Ski Rentals", "redlodgeskirentals.com", jordan, "customer", (
            BookContact("Owen", "Pike", "owen@redlodgeskirentals.com"),
        ), opt_out=False),
        BookCompany("Whitefish Bakery", "whitefishbakery.com", priya, "customer", (
            BookContact("Nora", "Baker", "nora@whitefishbakery.com"),
        )),
    ]
