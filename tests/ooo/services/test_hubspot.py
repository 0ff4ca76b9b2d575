"""HubSpotClient against the sandbox's HubSpot: search paging, associations, inbox, 429s, the
CSMs' companies and contacts, and emails logged once."""

from __future__ import annotations

import datetime as dt

import pytest
import requests

from ooo.services._http import HttpApiError
from ooo.services.hubspot import HubSpotClient, html_to_text, mentions
from sandbox.apis.hubspot import TOKEN
from sandbox.core import Faults

UTC = dt.timezone.utc
T0 = dt.datetime(2030, 3, 4, 9, 0, tzinfo=UTC)  # far from the seeded scenario


@pytest.fixture
def hubspot(connections):
    return connections.sandbox.api("hubspot")


def test_search_notes_pages_newest_first_and_filters_by_time(connections, hubspot):
    ids = [hubspot.add_note(f"<p>note {i}</p>", T0 + dt.timedelta(hours=i), "Acme Sandbox Co") for i in range(7)]
    hubspot.add_note("<p>too early</p>", T0 - dt.timedelta(days=1), "Acme Sandbox Co")
    hubspot.add_note("<p>too late</p>", T0 + dt.timedelta(days=2), "Acme Sandbox Co")
    client = HubSpotClient()
    notes = list(client.search_notes(T0, T0 + dt.timedelta(days=1), page_size=3))
    assert [n["id"] for n in notes] == list(reversed(ids))
    assert notes[0]["properties"]["hs_note_body"] == "<p>note 6</p>"
    assert isinstance(notes[0]["properties"]["hs_timestamp"], str)
    searches = [r for r in connections.sandbox.requests if r["path"].endswith("/notes/search")]
    assert len(searches) == 3  # 3 + 3 + 1


def test_bad_filter_is_hubspot_400(connections):
    client = HubSpotClient()
    with pytest.raises(HttpApiError) as err:
        client._search("crm/v3/objects/notes/search",
                       {"filterGroups": [{"filters": [
                           {"propertyName": "hs_timestamp", "operator": "ABOUT", "value": "1"}]}]})
    assert err.value.status == 400
    assert err.value.body["status"] == "error" and err.value.body["category"] == "VALIDATION_ERROR"


def test_wrong_token_is_401(connections, monkeypatch):
    import json
    import os

    conn = json.loads(os.environ["AIRFLOW_CONN_OOO_HUBSPOT"])
    monkeypatch.setenv("AIRFLOW_CONN_OOO_HUBSPOT", json.dumps({**conn, "password": "pat-wrong"}))
    with pytest.raises(HttpApiError) as err:
        list(HubSpotClient().search_notes(T0, T0 + dt.timedelta(days=1)))
    assert err.value.status == 401 and err.value.body["category"] == "INVALID_AUTHENTICATION"


def test_429_is_retried_honouring_retry_after(connections, hubspot):
    hubspot.add_note(f"<p>{hubspot.mention('41000101', 'Maya Patel')} hello</p>", T0, "Acme Sandbox Co")
    connections.sandbox.faults["hubspot"] = Faults(rate_limit_next=2, retry_after=0)
    slept: list[float] = []
    client = HubSpotClient(sleep=slept.append)
    notes = client.tagged_notes("41000101", "Maya Patel", T0 - dt.timedelta(hours=1), T0 + dt.timedelta(hours=1))
    assert [n.company for n in notes] == ["Acme Sandbox Co"]
    assert slept == [0.0, 0.0]
    statuses = [r["status"] for r in connections.sandbox.requests]
    assert statuses[:3] == [429, 429, 200]


def test_429_body_and_retries_exhausted(connections):
    connections.sandbox.faults["hubspot"] = Faults(rate_limit_next=3, retry_after=0)
    client = HubSpotClient(max_retries=2, sleep=lambda s: None)
    with pytest.raises(HttpApiError) as err:
        client.company_names(["123"])
    assert err.value.status == 429
    assert err.value.body["errorType"] == "RATE_LIMIT"
    assert err.value.body["policyName"] == "TEN_SECONDLY_ROLLING"
    assert err.value.body["message"] == "You have reached your ten_secondly_rolling limit."


def test_searches_stay_under_four_a_second(connections, hubspot):
    for i in range(12):
        hubspot.add_note(f"<p>n{i}</p>", T0 + dt.timedelta(minutes=i), "Acme Sandbox Co")
    notes = list(HubSpotClient().search_notes(T0, T0 + dt.timedelta(hours=1), page_size=2))
    assert len(notes) == 12
    assert all(r["status"] == 200 for r in connections.sandbox.requests)  # 6 searches, no 429


def test_tagged_notes_by_markup_or_plain_name_with_company_and_link(connections, hubspot):
    maya = connections.sandbox.team.person("maya.patel@yellowstonelocal.com")
    a = hubspot.add_note(f"<p>{hubspot.mention(maya)} call them</p>", T0, "Acme Sandbox Co")
    b = hubspot.add_note("<p>@Maya Patel see the quote</p>", T0 + dt.timedelta(hours=1), "Zed Sandbox Inc")
    hubspot.add_note("<p>@Maya Pateller is not Maya</p>", T0 + dt.timedelta(hours=2), "Zed Sandbox Inc")
    hubspot.add_note("<p>no mention of Maya Patel</p>", T0 + dt.timedelta(hours=3), "Zed Sandbox Inc")
    notes = HubSpotClient().tagged_notes(maya.hubspot_owner_id, maya.name, T0, T0 + dt.timedelta(days=1))
    assert [(n.id, n.company) for n in notes] == [(b, "Zed Sandbox Inc"), (a, "Acme Sandbox Co")]
    assert notes[1].text == "@Maya Patel call them"
    cid = hubspot.add_company("Acme Sandbox Co")
    assert notes[1].url == f"https://app.hubspot.com/contacts/24500110/record/0-2/{cid}"


def test_company_read(connections, hubspot):
    cid = hubspot.add_company("Acme Sandbox Co")
    assert HubSpotClient().company(cid)["properties"]["name"] == "Acme Sandbox Co"


def test_threads_and_messages_page_and_comments_are_found(connections, hubspot):
    maya = connections.sandbox.team.person("maya.patel@yellowstonelocal.com")
    t = hubspot.add_thread("Acme Sandbox Co", subject="Hours")
    for i in range(5):
        hubspot.add_message(t, f"customer says {i}", T0 + dt.timedelta(minutes=i))
    c = hubspot.add_comment("@Maya Patel fixed", T0 + dt.timedelta(minutes=10), thread_id=t,
                            rich_text=f"<p>{hubspot.mention(maya)} fixed</p>")
    hubspot.add_comment("@Maya Patel too early", T0 - dt.timedelta(days=3), company="Old Sandbox Co")
    client = HubSpotClient()
    threads = list(client.threads(T0 - dt.timedelta(hours=1), page_size=1))
    assert [th["id"] for th in threads] == [t]  # only the thread active since then
    msgs = list(client.messages(t, page_size=2))
    assert len(msgs) == 6 and msgs[-1]["type"] == "COMMENT"
    found = client.tagged_comments(maya.hubspot_owner_id, maya.name,
                                   T0 - dt.timedelta(hours=1), T0 + dt.timedelta(days=1))
    assert [(m.id, m.company, m.text, m.author) for m in found] == [
        (c["id"], "Acme Sandbox Co", "@Maya Patel fixed", "Rosa Alvarez")]
    assert found[0].url == f"https://app.hubspot.com/live-messages/24500110/inbox/{t}"


def test_threads_filter_needs_sort(connections):
    client = HubSpotClient()
    with pytest.raises(HttpApiError) as err:
        client.http.request("GET", "conversations/v3/conversations/threads",
                            params={"latestMessageTimestampAfter": "2030-01-01T00:00:00Z"})
    assert err.value.status == 400


def test_html_to_text_drops_scripts_and_markup():
    body = "<p>Hi <b>there</b></p><script>alert('x')</script><p>A &amp; B</p>"
    assert html_to_text(body) == "Hi there\nA & B"
    assert mentions('<span data-mention-id="41000101">@M</span>', "41000101", "Maya Patel")
    assert not mentions('<span data-mention-id="410001011">@M</span>', "41000101", "Maya Patel")
    assert mentions("ping @maya  patel", None, "Maya Patel")
    assert not mentions("email maya@Maya Patel", None, "Maya Patel")


# -- companies, contacts and logged emails (customer notices, client visits) -----------------------

MAYA_OWNER, JORDAN_OWNER = "41000101", "41000102"
HEADERS = {"Authorization": f"Bearer {TOKEN}"}


def _company_id(hubspot, name: str) -> str:
    return next(cid for cid, c in hubspot.crm.companies.items() if c["props"]["name"] == name)


def test_owned_companies_are_the_owners_in_the_stages_asked_with_extra_properties(connections):
    client = HubSpotClient()
    companies = client.owned_companies(MAYA_OWNER, ["customer"], properties=["ooo_notice_opt_out"])
    assert [c.name for c in companies] == ["Big Sky Outfitters", "Gallatin Coffee Roasters",
                                           "Livingston Realty Group", "Paradise Valley Orchards",
                                           "Teton Family Dental"]  # not the lead, not Jordan's or Priya's
    by_name = {c.name: c for c in companies}
    assert by_name["Livingston Realty Group"].properties["ooo_notice_opt_out"] == "true"
    assert by_name["Big Sky Outfitters"].properties["ooo_notice_opt_out"] == "false"
    assert by_name["Teton Family Dental"].properties["ooo_notice_opt_out"] is None  # never set
    big_sky = by_name["Big Sky Outfitters"]
    assert (big_sky.domain, big_sky.lifecycle_stage, big_sky.properties["hubspot_owner_id"]) == (
        "bigskyoutfitters.com", "customer", MAYA_OWNER)
    both = client.owned_companies(MAYA_OWNER, ["customer", "Lead"])
    assert "Bozeman Brewing Co." in [c.name for c in both] and len(both) == 6
    assert [c.name for c in client.owned_companies(JORDAN_OWNER, ["customer"])] == [
        "Cody Auto Repair", "Jackson Hole Yoga", "Red Lodge Ski Rentals"]


def test_owned_companies_pages_through_every_search_page(connections, hubspot):
    names = [f"Book Co {i:03d}" for i in range(103)]
    for name in names:
        hubspot.add_company(name, owner_id="41009999", lifecycle_stage="customer", default_contact=False)
    assert [c.name for c in HubSpotClient().owned_companies("41009999", ["customer"])] == names
    searches = [r for r in connections.sandbox.requests if r["path"].endswith("/companies/search")]
    assert [r["status"] for r in searches] == [200, 200]  # 100 + 3, spaced under the search limit


def test_owned_companies_without_a_stage_is_refused_before_any_call(connections):
    with pytest.raises(ValueError, match="at least one lifecycle stage"):
        HubSpotClient().owned_companies(MAYA_OWNER, [])
    assert not [r for r in connections.sandbox.requests if r["api"] == "hubspot"]


def test_company_contacts_all_or_those_whose_primary_company_it_is(connections, hubspot):
    client = HubSpotClient()
    big_sky, gallatin = _company_id(hubspot, "Big Sky Outfitters"), _company_id(hubspot, "Gallatin Coffee Roasters")
    everyone = client.company_contacts(gallatin, primary_only=False)
    assert [(c.first_name, c.last_name, c.email) for c in everyone] == [
        ("Chris", "Hale", "chris@halemanagement.com"),  # Big Sky Outfitters' too, and primarily
        ("Sam", "Rivera", "sam@gallatincoffeeroasters.com"),
        ("Pat", "Quinn", "orders@gallatincoffeeroasters")]  # invalid, as HubSpot has it
    assert [c.primary_company_id for c in everyone] == [big_sky, gallatin, gallatin]
    assert [c.last_name for c in client.company_contacts(gallatin, primary_only=True)] == ["Rivera", "Quinn"]
    assert [c.last_name for c in client.company_contacts(big_sky, primary_only=True)] == ["Whitfield", "Ortega", "Hale"]
    teton = client.company_contacts(_company_id(hubspot, "Teton Family Dental"), primary_only=False)
    assert [(c.first_name, c.email) for c in teton] == [("Amy", "dr.chen@tetonfamilydental.com"), ("Front", None)]
    assert client.company_contacts(_company_id(hubspot, "Paradise Valley Orchards"), primary_only=False) == []
    reads = [r for r in connections.sandbox.requests if r["path"].endswith("/contacts/batch/read")]
    assert reads and all(r["status"] == 200 for r in reads)


def test_company_contacts_of_many_contacts_reads_them_in_batches_of_100(connections, hubspot):
    cid = hubspot.add_company("Crowded Sandbox Co", owner_id="41009999", lifecycle_stage="customer",
                              default_contact=False)
    ids = [hubspot.add_contact("Person", f"{i:03d}", f"p{i}@crowded.example", [cid]) for i in range(150)]
    contacts = HubSpotClient().company_contacts(cid, primary_only=True)
    assert [c.id for c in contacts] == ids
    assert len([r for r in connections.sandbox.requests if r["path"].endswith("/contacts/batch/read")]) == 2


def test_find_company_by_id_domain_or_url(connections, hubspot):
    client = HubSpotClient()
    big_sky = _company_id(hubspot, "Big Sky Outfitters")
    by_id = client.find_company(big_sky)
    assert (by_id.id, by_id.name, by_id.domain, by_id.lifecycle_stage) == (
        big_sky, "Big Sky Outfitters", "bigskyoutfitters.com", "customer")
    for given in ("bigskyoutfitters.com", " BigSkyOutfitters.com ", "https://www.bigskyoutfitters.com/about"):
        assert client.find_company(given) == by_id, given
    assert client.find_company("nosuchcompany.example") is None
    assert client.find_company("9999999999") is None
    with pytest.raises(ValueError, match="neither a HubSpot company id"):
        client.find_company("Big Sky Outfitters")


def test_find_contact_by_email_is_one_search_for_the_address_lowercased(connections, hubspot):
    client = HubSpotClient()
    chris = client.find_contact(" Chris@HaleManagement.com ")
    assert chris is not None and (chris.first_name, chris.last_name, chris.email) == (
        "Chris", "Hale", "chris@halemanagement.com")
    assert chris.primary_company_id == _company_id(hubspot, "Big Sky Outfitters")
    hannah = client.find_contact("hannah.ortiz@bigskydental.com")  # a client of the calendars' meetings
    assert hannah is not None and hannah.primary_company_id == _company_id(hubspot, "Big Sky Dental")
    assert client.find_contact("office@bigskydental.com") is None
    searches = [r for r in connections.sandbox.requests if r["path"].endswith("/contacts/search")]
    assert [r["status"] for r in searches] == [200, 200, 200]
    with pytest.raises(ValueError, match="is not an email address"):
        client.find_contact("Chris Hale")
    assert len([r for r in connections.sandbox.requests if r["api"] == "hubspot"]) == 3


def _log(client: HubSpotClient, hubspot, mid: str = "<notice.maya.1@yellowstonelocal.com>"):
    big_sky = _company_id(hubspot, "Big Sky Outfitters")
    dana = next(pid for pid, c in hubspot.crm.contacts.items() if c["props"]["firstname"] == "Dana")
    return client.log_email(mid, "Maya Patel is out next week", "Jordan Reyes covers.", "<p>Jordan Reyes covers.</p>",
                            ("Maya Patel", "maya.patel@yellowstonelocal.com"),
                            [("Dana Whitfield", "dana@bigskyoutfitters.com")], T0, [big_sky], [dana]), big_sky, dana


def test_log_email_logs_once_on_the_contact_and_company_and_is_found_by_message_id(connections, hubspot):
    client = HubSpotClient()
    (eid, created), big_sky, dana = _log(client, hubspot)
    assert created is True
    emails = connections.sandbox.state()["hubspot"]["emails"]
    assert len(emails) == 1
    email = emails[0]
    assert (email["id"], email["contacts"], email["companies"]) == (eid, [dana], [big_sky])
    assert email["hs_email_message_id"] == "<notice.maya.1@yellowstonelocal.com>"
    assert (email["hs_email_subject"], email["hs_email_direction"], email["hs_email_status"]) == (
        "Maya Patel is out next week", "EMAIL", "SENT")
    assert email["hs_timestamp"] == "2030-03-04T09:00:00.000Z"
    assert (email["hs_email_from_email"], email["hs_email_from_firstname"], email["hs_email_to_email"]) == (
        "maya.patel@yellowstonelocal.com", "Maya", "dana@bigskyoutfitters.com")
    # on both timelines, as HubSpot's v4 associations tell it
    assert [r["toObjectId"] for r in hubspot.crm.associations("companies", big_sky, "emails")] == [int(eid)]
    assert client.associated_company_ids("emails", eid) == [big_sky]
    assert client.find_logged_email("<notice.maya.1@yellowstonelocal.com>") == eid
    assert client.find_logged_email("<another@yellowstonelocal.com>") is None
    (again, created), _, _ = _log(client, hubspot)
    assert (again, created) == (eid, False)
    assert len(hubspot.crm.emails) == 1
    creates = [r for r in connections.sandbox.requests
               if r["method"] == "POST" and r["path"] == "/crm/v3/objects/emails"]
    assert len(creates) == 1


@pytest.mark.parametrize("lost", ["500", "dropped"])
def test_log_email_whose_answer_is_lost_is_found_not_logged_twice(connections, hubspot, lost):
    from sandbox.core import ApiError, Response

    handle = hubspot.handle
    applied: list[str] = []

    def applied_then_lost(req):
        answer = handle(req)
        if req.method == "POST" and req.path == "/crm/v3/objects/emails" and not applied:
            applied.append(answer.body["id"])  # HubSpot made it; the client never hears so
            if lost == "500":
                raise ApiError(500, "internal error")
            return Response(504, drop=True)
        return answer

    hubspot.handle = applied_then_lost
    slept: list[float] = []
    (eid, created), _, _ = _log(HubSpotClient(sleep=slept.append), hubspot)
    assert eid == applied[0] and created is False  # found by its Message-ID on the next look
    assert len(hubspot.crm.emails) == 1 and slept == [1.0]
    creates = [r for r in connections.sandbox.requests
               if r["method"] == "POST" and r["path"] == "/crm/v3/objects/emails"]
    assert len(creates) == 1  # the transport did not send it again


def test_log_email_bad_input_is_refused_and_logs_nothing(connections, hubspot):
    client = HubSpotClient()
    big_sky = _company_id(hubspot, "Big Sky Outfitters")
    ok = {"message_id": "<a@b.example>", "subject": "s", "text": "t", "html": "<p>t</p>",
          "sender": ("Maya Patel", "m@x.example"), "to": [("Dana", "dana@bigskyoutfitters.com")], "at": T0,
          "company_ids": [big_sky], "contact_ids": []}
    for bad, match in (({"message_id": " "}, "not an RFC 822 Message-ID"),
                       ({"at": T0.replace(tzinfo=None)}, "aware datetime"),
                       ({"to": []}, "at least one recipient"),
                       ({"company_ids": []}, "a contact or a company")):
        with pytest.raises(ValueError, match=match):
            client.log_email(**{**ok, **bad})
    assert hubspot.crm.emails == {}
    assert not [r for r in connections.sandbox.requests if r["api"] == "hubspot"]


def test_sandbox_speaks_hubspot_crm_wire_format(connections, hubspot):
    url = connections.url + "/hubspot"
    big_sky, gallatin = _company_id(hubspot, "Big Sky Outfitters"), _company_id(hubspot, "Gallatin Coffee Roasters")
    chris = next(pid for pid, c in hubspot.crm.contacts.items() if c["props"]["firstname"] == "Chris")
    # batch read: propertiesWithHistory is required (HubSpot's BatchReadInput); unknown ids make a 207
    r = requests.post(f"{url}/crm/v3/objects/companies/batch/read", headers=HEADERS,
                      json={"inputs": [{"id": big_sky}], "properties": ["name"]})
    assert r.status_code == 400 and r.json()["category"] == "VALIDATION_ERROR"
    assert "propertiesWithHistory" in r.json()["message"]
    r = requests.post(f"{url}/crm/v3/objects/contacts/batch/read", headers=HEADERS,
                      json={"inputs": [{"id": chris}, {"id": "1"}], "properties": ["email"],
                            "propertiesWithHistory": []})
    assert r.status_code == 207 and [c["id"] for c in r.json()["results"]] == [chris]
    assert r.json()["errors"][0]["category"] == "OBJECT_NOT_FOUND"
    # v4 associations: the primary company carries type 1 "Primary" besides the unlabeled 279
    r = requests.get(f"{url}/crm/v4/objects/contacts/{chris}/associations/companies", headers=HEADERS)
    assert r.json() == {"results": [
        {"toObjectId": int(big_sky), "associationTypes": [
            {"category": "HUBSPOT_DEFINED", "typeId": 1, "label": "Primary"},
            {"category": "HUBSPOT_DEFINED", "typeId": 279, "label": None}]},
        {"toObjectId": int(gallatin), "associationTypes": [
            {"category": "HUBSPOT_DEFINED", "typeId": 279, "label": None}]}]}
    r = requests.get(f"{url}/crm/v4/objects/0-2/{gallatin}/associations/contact", headers=HEADERS,
                     params={"limit": 2})
    first = r.json()["results"]
    assert first[0] == {"toObjectId": int(chris), "associationTypes": [
        {"category": "HUBSPOT_DEFINED", "typeId": 280, "label": None}]}
    assert first[1]["associationTypes"] == [{"category": "HUBSPOT_DEFINED", "typeId": 2, "label": "Primary"},
                                            {"category": "HUBSPOT_DEFINED", "typeId": 280, "label": None}]
    r = requests.get(f"{url}/crm/v4/objects/companies/{gallatin}/associations/contacts", headers=HEADERS,
                     params={"after": r.json()["paging"]["next"]["after"]})
    assert len(r.json()["results"]) == 1 and "paging" not in r.json()
    # search: an unknown property is a 400; property values are strings, unset ones null
    r = requests.post(f"{url}/crm/v3/objects/companies/search", headers=HEADERS, json={
        "filterGroups": [{"filters": [{"propertyName": "owner", "operator": "EQ", "value": "x"}]}]})
    assert r.status_code == 400
    r = requests.post(f"{url}/crm/v3/objects/contacts/search", headers=HEADERS, json={
        "filterGroups": [{"filters": [{"propertyName": "email", "operator": "NOT_HAS_PROPERTY"}]}],
        "properties": ["email", "firstname"]})
    assert [(c["properties"]["firstname"], c["properties"]["email"]) for c in r.json()["results"]] == [("Front", None)]
    # emails: read-only and unknown properties, and unknown association types, are refused
    r = requests.post(f"{url}/crm/v3/objects/emails", headers=HEADERS, json={
        "properties": {"hs_timestamp": "1700000000000", "hs_email_from_email": "a@b.example", "colour": "red"}})
    assert r.status_code == 400 and "READ_ONLY_VALUE" in r.json()["message"]
    assert "PROPERTY_DOESNT_EXIST" in r.json()["message"]
    r = requests.post(f"{url}/crm/v3/objects/emails", headers=HEADERS, json={
        "properties": {"hs_timestamp": "1700000000000"},
        "associations": [{"to": {"id": chris}, "types": [{"associationCategory": "HUBSPOT_DEFINED",
                                                           "associationTypeId": 202}]}]})
    assert r.status_code == 400
    r = requests.post(f"{url}/crm/v3/objects/emails", headers=HEADERS, json={
        "properties": {"hs_timestamp": "2030-03-04T09:00:00Z", "hs_email_subject": "hello"},
        "associations": [{"to": {"id": chris}, "types": [{"associationCategory": "HUBSPOT_DEFINED",
                                                           "associationTypeId": 198}]}]})
    assert r.status_code == 201 and r.json()["properties"]["hs_email_subject"] == "hello"
    assert hubspot.crm.emails[r.json()["id"]]["contacts"] == [chris]
    assert hubspot.crm.emails == {r.json()["id"]: hubspot.crm.emails[r.json()["id"]]}  # the refused ones left none


def test_every_object_search_shares_the_four_a_second_limit(connections, hubspot):
    hubspot.clock = lambda: 1000.0  # every request in the same second
    url = connections.url + "/hubspot/crm/v3/objects"
    statuses = [requests.post(f"{url}/{kind}/search", headers=HEADERS, json={}).status_code
                for kind in ("companies", "contacts", "emails", "notes", "companies")]
    assert statuses == [200, 200, 200, 200, 429]
    r = requests.post(f"{url}/contacts/search", headers=HEADERS, json={})
    assert r.json()["policyName"] == "SECONDLY" and r.json()["errorType"] == "RATE_LIMIT"
    assert requests.get(f"{url}/companies/{_company_id(hubspot, 'Big Sky Outfitters')}",
                        headers=HEADERS).status_code == 200  # reads are not searches


def test_the_sandbox_page_shows_the_book_and_the_logged_emails(connections, hubspot):
    _log(HubSpotClient(), hubspot)
    page = requests.get(connections.url + "/").text
    section = page[page.index('<section id="hubspot">'):]
    section = section[:section.index("</section>")]
    for text in ("Livingston Realty Group", "Maya Patel", "Jordan Reyes", "ooo_notice_opt_out", "lead",
                 "Paradise Valley Orchards", "no contacts", "Front Desk &lt;no email&gt;",
                 "Maya Patel is out next week", "&lt;notice.maya.1@yellowstonelocal.com&gt;"):
        assert text in section, text
