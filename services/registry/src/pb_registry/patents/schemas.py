"""Request and response bodies of the patent endpoints."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, field_validator

from pb_registry.fields import Identifier, IpcFilter, IpcSymbol, SearchText, Title, given_not_null
from pbkit.fields import PastDate, PatentNumber

PatentType = Literal["invention", "utility_model", "design"]
PatentStatus = Literal["valid", "lapsed", "expired", "invalidated"]
HistoryKind = Literal[
    "registered", "ownership_changed", "license_recorded", "license_cancelled", "pledge_registered", "pledge_released",
    "open_licence_declared", "open_licence_withdrawn",
]


class PatentIn(BaseModel):
    number: PatentNumber = Field(
        description="application number; ZL/CN prefix, spaces and a missing dot are accepted, the canonical form is answered"
    )
    title: Title
    type: PatentType = Field(description="must agree with the number's type digit (1, 8 invention; 2, 9 utility model; 3 design)")
    filing_date: PastDate = Field(description="申请日; not after the year the number carries")
    grant_date: PastDate | None = Field(default=None, description="授权公告日, not before the filing date")
    ipc: list[IpcSymbol] = Field(default_factory=list, max_length=100)
    owner_ids: list[Identifier] = Field(min_length=1, max_length=100, description="registered organization ids, the 专利权人")
    status: PatentStatus


class PatentChange(BaseModel):
    """Only the fields sent change; `grant_date` may be set to null. Owners change only through recorded deals."""

    model_config = ConfigDict(extra="forbid")  # a field that cannot be changed here is refused, not ignored

    title: Title | None = None
    status: PatentStatus | None = None
    grant_date: PastDate | None = None
    ipc: list[IpcSymbol] | None = Field(default=None, max_length=100)

    _not_null = field_validator("title", "status", "ipc")(given_not_null)


class PatentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    number: str = Field(description="canonical application number")
    title: str
    type: PatentType
    status: PatentStatus
    filing_date: date
    grant_date: date | None
    # A patent's `ipc` are its rows; its symbols are `ipc_symbols` (or `ipc` in an answer made earlier).
    ipc: list[str] = Field(validation_alias=AliasChoices("ipc_symbols", "ipc"))
    owner_ids: list[str]
    licensee_ids: list[str] = Field(description="holders of recorded, uncancelled licences")
    pledged: bool
    pledge_ids: list[str] = Field(description="registered, unreleased pledges; a bank sees only its own")
    open_licence_ids: list[str] = Field(
        description="open-licence declarations (开放许可声明) standing on the patent, by the market's declaration id: "
        "while one stands, no exclusive or sole licence is recorded")
    created_at: datetime
    updated_at: datetime


class PatentPayload(BaseModel):
    """The patent as its events carry it (docs/EVENTS.md), plus its licensees and pledges (optional additions)."""

    model_config = ConfigDict(from_attributes=True)

    number: str
    title: str
    type: str
    filing_date: date
    grant_date: date | None
    ipc: list[str] = Field(validation_alias=AliasChoices("ipc_symbols", "ipc"))
    owner_ids: list[str]
    status: str
    licensee_ids: list[str]
    pledged: bool
    pledge_ids: list[str]


class Cause(BaseModel):
    event_id: str | None
    event_type: str | None


class HistoryEntryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    at: datetime = Field(description="when the registry applied it")
    kind: HistoryKind
    effective_on: date | None = Field(description="recorded on, cancelled on, registered on or released on")
    owners_before: list[str]
    owners_after: list[str]
    details: dict[str, Any]
    cause: Cause


class PatentFilters(BaseModel):
    """The query of `GET /patents`: each filter given narrows the list."""

    owner_id: Identifier | None = None
    licensee_id: Identifier | None = None
    type: PatentType | None = None
    status: PatentStatus | None = None
    ipc: IpcFilter | None = None
    q: SearchText | None = Field(default=None, description="part of the title; no control character")
    pledged: bool | None = None
