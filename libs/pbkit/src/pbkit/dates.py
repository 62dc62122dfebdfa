"""The programme's calendar: "today" is a date in the province's time zone, not the server's."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import Depends, Request


def business_today(time_zone: str) -> date:
    return datetime.now(ZoneInfo(time_zone)).date()


def _today(request: Request) -> date:
    return business_today(request.app.state.kit.settings.business_timezone)


Today = Annotated[date, Depends(_today)]
"""A FastAPI dependency: today in `PB_BUSINESS_TIMEZONE` (Asia/Shanghai by default)."""
