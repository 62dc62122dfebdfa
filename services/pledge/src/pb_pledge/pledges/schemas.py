"""What a bank posts and reads back."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationInfo, field_validator

from pbkit.fields import IsoDate, OrgId, PastDate, PatentNumbers, PositiveMoney, line
from pbkit.money import format_money
from pbkit.parties import PartySnapshot

MAX_PATENTS_PER_PLEDGE = 200
PledgeStatus = Literal["registered", "released"]
RegistrationNo = line(64, min_length=1)
"""The registration number CNIPA gave the pledge (质押登记号): one line; a NUL would be a 500 from PostgreSQL."""


class PledgeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    pledgor_id: OrgId = Field(description="the patent owner giving the pledge (a registered organization)")
    pledgee_id: OrgId | None = Field(
        default=None,
        description="the pledgee bank's organization. A bank client may omit it (it is the bank's own "
        "organization) and may not name another (403); an admin acting for a bank must give it.",
    )
    patent_numbers: PatentNumbers = Field(min_length=1, max_length=MAX_PATENTS_PER_PLEDGE)
    amount: PositiveMoney = Field(description="the secured amount, CNY yuan, more than zero")
    registered_on: PastDate
    term_start: IsoDate
    term_end: IsoDate = Field(description="after term_start, and not past any pledged patent's expiry")
    registration_no: RegistrationNo | None = None
    co_owner_consent: bool = Field(
        default=False,
        description="Addition to CONTRACT §5: true declares that every co-owner of the pledged patents "
        "consents to the pledge; without it a patent owned jointly with others is refused (422).",
    )

    @field_validator("term_end")
    @classmethod
    def _after_start(cls, term_end: date, info: ValidationInfo) -> date:
        term_start = info.data.get("term_start")
        if term_start is not None and term_end <= term_start:
            raise ValueError(f"term_end must be after term_start ({term_start.isoformat()})")
        return term_end


class ReleaseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    released_on: PastDate = Field(description="the date of cancellation (注销); not before registered_on")


# A pledge as a reader gets it, read from its row: `PledgeOut.model_validate(pledge)`. (A comment, not a
# docstring: the docstring would become the schema's description in the OpenAPI document.)
class PledgeOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    status: PledgeStatus
    pledgor_id: str
    pledgee_id: str
    pledgor: PartySnapshot = Field(description="the pledgor as the registry described it at registration")
    pledgee: PartySnapshot = Field(description="the pledgee bank as the registry described it at registration")
    patent_numbers: list[str]
    # The row holds integer fen; the reader gets the decimal string.
    amount: Annotated[str, BeforeValidator(format_money)] = Field(
        validation_alias="amount_fen", examples=["1250000.00"], description="CNY yuan, two decimal places"
    )
    registered_on: date
    term_start: date
    term_end: date
    registration_no: str | None
    co_owner_consent: bool
    released_on: date | None
    created_by: str
    created_at: datetime


class PledgePage(BaseModel):
    items: list[PledgeOut]
    next_cursor: str | None


class PledgeFilters(BaseModel):
    """The query of `GET /pledges`: each filter given narrows the list."""

    status: PledgeStatus | None = None
    pledgor_id: OrgId | None = None
    registered_from: IsoDate | None = Field(default=None, description="registered on or after (YYYY-MM-DD)")
    registered_to: IsoDate | None = Field(default=None, description="registered on or before (YYYY-MM-DD)")
