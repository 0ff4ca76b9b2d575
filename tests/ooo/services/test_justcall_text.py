"""JustCall text parsing and SMS excerpts (no network)."""

from __future__ import annotations

import datetime as dt

import pytest

from ooo.services.justcall import JustCallError, Text

RAW = {"id": 7, "contact_number": "+14065550001", "contact_name": "Big Sky", "justcall_number": "+13075550101",
       "sms_date": "2027-01-14", "sms_time": "23:05:09", "sms_user_date": "2027-01-14", "sms_user_time": "16:05:09",
       "direction": "Incoming", "sms_info": {"body": "hi", "is_mms": "No", "mms": []}, "agent_name": ""}


@pytest.mark.parametrize("given, expected", [("Incoming", "incoming"), ("Outgoing", "outgoing"),
                                             ("Inbound", "incoming"), ("Outbound", "outgoing"),
                                             ("incoming", "incoming")])
def test_direction_is_normalised(given, expected):
    assert Text.parse({**RAW, "direction": given}).direction == expected


def test_time_comes_from_the_utc_fields_not_the_account_zone():
    text = Text.parse(RAW)
    assert text.at == dt.datetime(2027, 1, 14, 23, 5, 9, tzinfo=dt.timezone.utc)
    assert (text.id, text.body, text.contact_name) == (7, "hi", "Big Sky")


def test_unknown_direction_is_an_error():
    with pytest.raises(JustCallError, match="unknown direction"):
        Text.parse({**RAW, "direction": "Sideways"})
