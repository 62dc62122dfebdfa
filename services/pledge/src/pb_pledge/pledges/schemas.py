"""What a bank posts and reads back."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from pbkit.domain import InvalidPatentNumber, parse_patent_number
from pbkit.money import Money

MAX_PATENTS_PER_PLEDGE = 200
PledgeStatus = Literal["registered", "released"]


def _canonical_patent_number(text: str) -> str:
    try:
        return parse_patent_number(text).canonical
    except InvalidPatentNumber as exc:
        raise ValueError(str(exc)) from None


PatentNumber = Annotated[
    str,
    AfterValidator(_canonical_patent_number),
    Field(examples=["ZL202110123456.7"], description="any accepted form; answered canonical (202110123456.7)"),
]
OrgId = Annotated[str, Field(min_length=1, max_length=64)]


class PledgeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    pledgor_id: OrgId = Field(description="the patent owner giving the pledge (a registered organization)")
    pledgee_id: OrgId | None = Field(
        default=None,
        description="the pledgee bank's organization. A bank client may omit it (it is the bank's own "
        "organization) and may not name another (403); an admin acting for a bank must give it.",
    )
    patent_numbers: list[PatentNumber] = Field(min_length=1, max_length=MAX_PATENTS_PER_PLEDGE)
    amount: Money = Field(description="the secured amount, CNY yuan, more than zero")
    registered_on: date
    term_start: date
    term_end: date = Field(description="after term_start, and not past any pledged patent's expiry")
    registration_no: str | None = Field(default=None, min_length=1, max_length=64)
    co_owner_consent: bool = Field(
        default=False,
        description="Addition to CONTRACT §5: true declares that every co-owner of the pledged patents "
        "consents to the pledge; without it a patent owned jointly with others is refused (422).",
    )

    @field_validator("patent_numbers")
    @classmethod
    def _no_duplicates(cls, numbers: list[str]) -> list[str]:
        seen: dict[str, int] = {}
        for index, number in enumerate(numbers):
            if number in seen:
                raise ValueError(f"patent {number} is listed twice (items {seen[number]} and {index})")
            seen[number] = index
        return numbers

    @field_validator("amount")
    @classmethod
    def _positive(cls, fen: int) -> int:
        if fen <= 0:
            raise ValueError("amount must be more than zero")
        return fen

    @field_validator("term_end")
    @classmethod
    def _after_start(cls, term_end: date, info: ValidationInfo) -> date:
        term_start = info.data.get("term_start")
        if term_start is not None and term_end <= term_start:
            raise ValueError(f"term_end must be after term_start ({term_start.isoformat()})")
        return term_end


class ReleaseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    released_on: date = Field(description="the date of cancellation (注销); not before registered_on")


class PartySnapshot(BaseModel):
    """A party as the registry described it when the pledge was registered."""

    org_id: str
    name: str
    kind: str
    size: str | None
    region_code: str
    prefecture_code: str | None
    industry: str | None


class PledgeOut(BaseModel):
    id: str
    status: PledgeStatus
    pledgor_id: str
    pledgee_id: str
    pledgor: PartySnapshot
    pledgee: PartySnapshot
    patent_numbers: list[str]
    amount: str = Field(examples=["1250000.00"], description="CNY yuan, two decimal places")
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
