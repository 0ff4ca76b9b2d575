"""Reading times as services and records write them: one parser, so "Z", offsets and all-day dates
mean the same everywhere."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any
from zoneinfo import ZoneInfo

UTC = dt.timezone.utc


def instant(value: str) -> dt.datetime:
    """An ISO 8601 timestamp (``...Z`` or an offset) as an aware datetime; ValueError if it has no zone."""
    moment = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError(f"{value!r} has no UTC offset")
    return moment


def utc(value: str) -> dt.datetime:
    """:func:`instant`, in UTC."""
    return instant(value).astimezone(UTC)


def maybe_instant(value: Any) -> dt.datetime | None:
    """An aware datetime from a record's field (ISO text or a datetime); None when it is not one."""
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else None
    try:
        return instant(str(value)) if value else None
    except ValueError:
        return None


def event_time(event: Mapping[str, Any], tz: str, side: str = "start") -> dt.datetime | None:
    """When a Calendar event starts (or ends): its ``dateTime``, or its all-day ``date`` at midnight in
    ``tz``; a ``dateTime`` without an offset is read in the event's ``timeZone`` (else ``tz``)."""
    value = event.get(side) or {}
    if value.get("dateTime"):
        moment = dt.datetime.fromisoformat(value["dateTime"].replace("Z", "+00:00"))
        return moment if moment.tzinfo else moment.replace(tzinfo=ZoneInfo(value.get("timeZone") or tz))
    if value.get("date"):
        return dt.datetime.combine(dt.date.fromisoformat(value["date"]), dt.time(), ZoneInfo(tz))
    return None


def is_all_day(event: Mapping[str, Any]) -> bool:
    return bool((event.get("start") or {}).get("date")) and not (event.get("start") or {}).get("dateTime")
