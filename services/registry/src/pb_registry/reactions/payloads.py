"""The parts of other services' event payloads (docs/EVENTS.md) the registry reacts to; the rest is ignored."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, Field

from pbkit.fields import PatentNumber


class UnknownReference(LookupError):
    """An event names a patent or organization the registry does not have: a poison event."""


class Party(BaseModel):
    org_id: str


class DealState(BaseModel):
    deal_id: str
    kind: Literal["transfer", "license", "equity_contribution"]
    license_type: str | None = None
    patent_numbers: list[PatentNumber] = Field(min_length=1)
    transferors: list[Party] = Field(min_length=1)
    transferee: Party
    status: Literal["submitted", "recorded", "cancelled"]
    recorded_on: date | None = None
    cancelled_on: date | None = None


class PledgeState(BaseModel):
    pledge_id: str
    status: Literal["registered", "released"]
    pledgee: Party | None = None
    patent_numbers: list[PatentNumber] = Field(min_length=1)
    registered_on: date | None = None
    released_on: date | None = None
