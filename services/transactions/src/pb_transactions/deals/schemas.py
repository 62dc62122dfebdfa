"""What a deal looks like on the wire (CONTRACT.md §4)."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
)

from pbkit.fields import (
    IsoDate,
    OrgId,
    PastDate,
    PatentNumbers,
    line,
    listed_once,
    text,
)
from pbkit.money import Money, format_money
from pbkit.parties import PartySnapshot

DealKind = Literal["transfer", "license", "equity_contribution"]
LicenseType = Literal["exclusive", "sole", "ordinary", "open"]
DealStatus = Literal["submitted", "recorded", "cancelled"]
# Kinds that move title: every co-owner must join, and recording changes the owners in the registry.
TITLE_KINDS = frozenset({"transfer", "equity_contribution"})
MAX_BATCH = 1000

# Text a deal stores: the kit's checks, so a NUL is a 422 here rather than a 500 from PostgreSQL's driver.
Reference = line(128, min_length=1)
"""Another system's reference (the partner platform's, the bank's): one line, at most 128 characters."""
RecordationNo = line(64, min_length=1)
CancelReason = text(500, min_length=1)


class DealIn(BaseModel):
    """A contract between transferors and one transferee over one or more patents."""

    model_config = ConfigDict(extra="forbid")

    kind: DealKind
    license_type: LicenseType | None = Field(
        default=None,
        validate_default=True,
        description="licences only: exclusive 独占, sole 排他, ordinary 普通, open 开放许可",
    )
    patent_numbers: PatentNumbers = Field(min_length=1, max_length=500)
    transferor_ids: Annotated[list[OrgId], listed_once("transferor")] = Field(
        min_length=1, max_length=50, description="for a transfer or equity contribution: every current owner"
    )
    transferee_id: OrgId
    contract_date: PastDate
    contract_amount: Money
    pledgee_consent: bool = Field(
        default=False, description="the pledgee of a pledged patent agreed; needed to record such a patent's deal"
    )
    external_ref: Reference | None = Field(default=None, description="the partner platform's own reference")
    term_start: IsoDate | None = Field(
        default=None, description="licences only (CONTRACT §9): the first day of the licence's term; an exclusive or "
        "sole licence excludes others only within its term (from its recording when no start is given)")
    term_end: IsoDate | None = Field(
        default=None, description="licences only: the last day of the term, not before term_start; none: no end")

    @field_validator("term_start", "term_end")
    @classmethod
    def _term_only_for_licences(cls, value: date | None, info: ValidationInfo) -> date | None:
        kind = info.data.get("kind")
        if value is not None and kind is not None and kind != "license":
            raise ValueError(f"a term belongs to licences only, not to a {kind}")
        start = info.data.get("term_start")
        if info.field_name == "term_end" and value is not None and start is not None and value < start:
            raise ValueError(f"term_end must not be before term_start ({start.isoformat()})")
        return value

    @field_validator("license_type")
    @classmethod
    def _license_type_only_for_licenses(cls, value: str | None, info: ValidationInfo) -> str | None:
        kind = info.data.get("kind")
        if kind == "license" and value is None:
            raise ValueError("a licence needs its license_type: exclusive, sole, ordinary or open")
        if kind is not None and kind != "license" and value is not None:
            raise ValueError(f"license_type belongs to licences only, not to a {kind}")
        return value

    @field_validator("transferee_id")
    @classmethod
    def _transferee_is_not_a_transferor(cls, value: str, info: ValidationInfo) -> str:
        if value in info.data.get("transferor_ids", ()):
            raise ValueError("the transferee must not also be a transferor")
        return value


class BatchIn(BaseModel):
    items: list[Any] = Field(
        min_length=1,
        max_length=MAX_BATCH,
        description=(
            "up to 1,000 deal bodies (as for POST /api/v1/deals), each optionally with its own "
            "`idempotency_key`, and for an admin `recorded_on` (with `recordation_no`) to import a deal already "
            "recorded; each item is validated on its own"
        ),
    )


class RecordIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    recorded_on: PastDate = Field(description="the day the recordation took effect (登记/备案); not before the contract")
    recordation_no: RecordationNo | None = None


class CancelIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: CancelReason


_STORED_MONEY = re.compile(r"(0|[1-9][0-9]*)\.([0-9]{2})")


def _stored_fen(value: Any) -> int:
    # An answer reads its amounts from the row (format_money of int fen). They are not re-checked against the
    # bound on what a request may send: a deal's received total has no bound, and a row is what was stored.
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    if isinstance(value, str) and (match := _STORED_MONEY.fullmatch(value)):
        return int(match.group(1)) * 100 + int(match.group(2))
    raise ValueError(f"not a stored amount: {value!r}")


StoredMoney = Annotated[
    int,
    BeforeValidator(_stored_fen),
    PlainSerializer(format_money, return_type=str),
    WithJsonSchema({"type": "string", "pattern": r"^\d+(\.\d{1,2})?$", "examples": ["1250000.00"]}),
]
"""Money in an answer, read from a row: a decimal yuan string with two places, of any size."""


def _party_of_row(party: Any) -> PartySnapshot:
    # PartySnapshot reads dicts only; a deal's parties are rows (DealParty).
    return PartySnapshot.model_validate(party, from_attributes=True)


PartyOfRow = Annotated[PartySnapshot, BeforeValidator(_party_of_row)]


# Read from the deal's row: `DealOut.model_validate(deal)` (a docstring would change the OpenAPI document).
class DealOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    kind: DealKind
    license_type: LicenseType | None
    patent_numbers: list[str]
    patent_count: int
    transferor_ids: list[str]
    transferee_id: str
    transferors: list[PartyOfRow] = Field(description="as the registry described them when the deal was submitted")
    transferee: PartyOfRow = Field(description="as the registry described it when the deal was submitted")
    contract_date: IsoDate
    contract_amount: StoredMoney
    pledgee_consent: bool
    external_ref: str | None
    term_start: date | None = None
    term_end: date | None = None
    status: DealStatus
    recorded_on: date | None
    recordation_no: str | None
    was_recorded: bool
    cancelled_on: date | None
    cancel_reason: str | None
    received_amount: StoredMoney = Field(
        description=(
            "the sum of the payments received so far, all of them counted: it may exceed the contract amount "
            "(royalties, for instance); kept exactly up to 36 digits of yuan"
        )
    )
    overpaid_amount: StoredMoney = Field(
        description=(
            "how much the payments exceed the contract amount: received_amount − contract_amount when that is "
            'positive, else "0.00" (always present, never null)'
        )
    )
    created_by: str
    created_at: datetime
    updated_at: datetime


class BatchResult(BaseModel):
    status: int = Field(description="201 when the deal was submitted (or replayed), else the problem's status")
    deal: DealOut | None = None
    problem: dict[str, Any] | None = None


class BatchOut(BaseModel):
    results: list[BatchResult]
