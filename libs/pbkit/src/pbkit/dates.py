"""The programme's calendar: "today" is a date in the province's time zone, not the server's."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo


def business_today(time_zone: str) -> date:
    return datetime.now(ZoneInfo(time_zone)).date()
