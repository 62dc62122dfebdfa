"""FastAPI dependencies of this service: the registry client and the programme's calendar."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import Depends, Request

from pbkit.registry_client import RegistryClient
from pbkit.service import Kit


def registry_of(request: Request) -> RegistryClient:
    return request.app.state.registry


def business_today(kit: Kit) -> date:
    """Today in the programme's time zone (Asia/Shanghai unless PB_BUSINESS_TIMEZONE says otherwise)."""
    return datetime.now(ZoneInfo(kit.settings.business_timezone)).date()


Registry = Annotated[RegistryClient, Depends(registry_of)]
Today = Annotated[date, Depends(business_today)]
