"""The roster: the sample team loads, and a broken team file says what is wrong."""

from __future__ import annotations

import datetime as dt

import pytest
import yaml

from ooo.team import SAMPLE_TEAM_FILE, RosterError, load_team, parse_team


def test_sample_team(team):
    assert team.channels["team_notice"] == "#dept-client-services-must-reads"
    assert {p.role for p in team} == {"csm", "cc", "support", "manager"}
    assert team.is_internal("Casey.Morgan@YellowstoneLocal.com")
    assert not team.is_internal("owner@bigskybakery.com")


def test_working_days_skip_weekends_and_holidays(team):
    assert team.next_working_day(dt.date(2026, 11, 25)) == dt.date(2026, 11, 30)  # Thanksgiving + Fri
    assert team.previous_working_day(dt.date(2026, 12, 28)) == dt.date(2026, 12, 23)


def test_a_buddy_missing_from_the_roster_is_a_roster_error(tmp_path):
    raw = yaml.safe_load(SAMPLE_TEAM_FILE.read_text())
    raw["people"][2]["buddy"] = "ghost@yellowstonelocal.com"
    with pytest.raises(RosterError, match="buddy ghost@yellowstonelocal.com is not in people"):
        parse_team(raw)


def test_an_unknown_time_zone_is_a_roster_error():
    raw = yaml.safe_load(SAMPLE_TEAM_FILE.read_text())
    raw["people"][0]["timezone"] = "Mars/Olympus_Mons"
    with pytest.raises(RosterError):
        parse_team(raw)


def test_the_team_file_can_be_chosen_by_env(tmp_path, monkeypatch):
    raw = yaml.safe_load(SAMPLE_TEAM_FILE.read_text())
    raw["team"]["name"] = "Other Team"
    path = tmp_path / "team.yaml"
    path.write_text(yaml.safe_dump(raw))
    monkeypatch.setenv("OOO_TEAM_FILE", str(path))
    assert load_team().name == "Other Team"


def test_a_managers_deputy_must_be_in_the_roster_and_another_person(tmp_path):
    raw = yaml.safe_load(SAMPLE_TEAM_FILE.read_text())
    allison = next(p for p in raw["people"] if p["email"] == "allison.reed@yellowstonelocal.com")
    for deputy, message in (("ghost@yellowstonelocal.com", "deputy ghost@yellowstonelocal.com is not in people"),
                            ("allison.reed@yellowstonelocal.com", "cannot be their own deputy")):
        allison["deputy"] = deputy
        with pytest.raises(RosterError, match=message):
            parse_team(raw)
    maya = next(p for p in raw["people"] if p["email"] == "maya.patel@yellowstonelocal.com")
    allison["deputy"], maya["deputy"] = "casey.morgan@yellowstonelocal.com", "jordan.reyes@yellowstonelocal.com"
    with pytest.raises(RosterError, match="has a deputy but is not a manager"):
        parse_team(raw)


def test_the_sample_team_names_deputies_and_who_may_record_approvals(team):
    assert team.person("allison.reed@yellowstonelocal.com").deputy == "casey.morgan@yellowstonelocal.com"
    assert team.approvers == ("hr-integration",)
    assert team.name_of("ALLISON.REED@yellowstonelocal.com") == "Allison Reed" and team.name_of("admin") is None


def test_the_intake_is_off_unless_the_roster_turns_it_on(team):
    assert team.intake.enabled and team.intake.interval == dt.timedelta(minutes=5)  # the sample team's (the demo)
    raw = yaml.safe_load(SAMPLE_TEAM_FILE.read_text())
    del raw["team"]["intake"]
    off = parse_team(raw).intake
    assert not off.enabled and off.unexpected_within == dt.timedelta(hours=24) and off.max_occurrences == 8


@pytest.mark.parametrize("intake", [
    {"enabled": "yes"}, {"interval_minutes": 0}, {"max_occurrences": -1}, {"unexpected_within_hours": -2},
    {"interval": 5}, ["enabled"],
])
def test_a_wrong_intake_setting_is_a_roster_error(intake):
    raw = yaml.safe_load(SAMPLE_TEAM_FILE.read_text())
    raw["team"]["intake"] = intake
    with pytest.raises(RosterError, match="intake"):
        parse_team(raw)


# -- who hears of a CSM's absence: the customers' rule and the paired CC --------------------------
def test_the_customer_notice_rule_and_the_paired_cc(team):
    rule = team.customer_notice
    assert rule is not None
    assert (rule.lifecycle_stages, rule.contacts, rule.opt_out_property) == (("customer",), "all",
                                                                              "ooo_notice_opt_out")
    assert team.person("maya.patel@yellowstonelocal.com").cc == "lena.fischer@yellowstonelocal.com"
    assert team.person("lena.fischer@yellowstonelocal.com").cc is None


def test_without_a_customer_notice_rule_nobody_is_configured_to_be_told():
    raw = yaml.safe_load(SAMPLE_TEAM_FILE.read_text())
    del raw["team"]["customer_notice"]
    assert parse_team(raw).customer_notice is None


@pytest.mark.parametrize(("rule", "message"), [
    ({"lifecycle_stages": []}, r"lifecycle_stages must list at least one HubSpot lifecycle stage"),
    ({"lifecycle_stages": "customer", "contacts": "everyone"},
     r"contacts must be 'primary' \(each company's primary contacts\) or 'all'.*not 'everyone'"),
    ({"lifecycle_stages": ["customer"], "opt_out_property": "Opt Out!"},
     r"opt_out_property must be a HubSpot company property's internal name .*not 'Opt Out!'"),
    ({"lifecycle_stages": ["customer"], "contact": "all"}, r"unknown keys contact: it takes lifecycle_stages"),
    (["customer"], r"team.customer_notice must be a mapping"),
])
def test_a_wrong_customer_notice_rule_is_a_roster_error_that_says_what_to_write(rule, message):
    raw = yaml.safe_load(SAMPLE_TEAM_FILE.read_text())
    raw["team"]["customer_notice"] = rule
    with pytest.raises(RosterError, match=message):
        parse_team(raw)


def test_one_stage_given_as_text_is_read_as_a_list():
    raw = yaml.safe_load(SAMPLE_TEAM_FILE.read_text())
    raw["team"]["customer_notice"] = {"lifecycle_stages": " Customer "}
    rule = parse_team(raw).customer_notice
    assert rule is not None and (rule.lifecycle_stages, rule.contacts, rule.opt_out_property) == (
        ("customer",), "primary", None)


@pytest.mark.parametrize(("who", "cc", "message"), [
    ("maya.patel", "ghost@yellowstonelocal.com", "maya.patel@yellowstonelocal.com's cc ghost@yellowstonelocal.com "
                                                 "is not in people"),
    ("maya.patel", "allison.reed@yellowstonelocal.com", "cc allison.reed@yellowstonelocal.com is a manager, not a "
                                                        "Content Creator"),
    ("rosa.alvarez", "lena.fischer@yellowstonelocal.com", "rosa.alvarez@yellowstonelocal.com has a cc, but only a CSM "
                                                          "is paired"),
])
def test_a_wrong_cc_is_a_roster_error(who, cc, message):
    raw = yaml.safe_load(SAMPLE_TEAM_FILE.read_text())
    next(p for p in raw["people"] if p["email"].startswith(who + "@"))["cc"] = cc
    with pytest.raises(RosterError, match=message):
        parse_team(raw)


def test_a_person_from_a_plan_filed_before_the_cc_existed_has_none(team):
    from dataclasses import asdict

    from ooo.team import Person

    old = {k: v for k, v in asdict(team.person("maya.patel@yellowstonelocal.com")).items() if k != "cc"}
    assert Person.from_dict(old).cc is None
    assert Person.from_dict({**old, "a_later_field": 1}).email == old["email"]
