"""What a declarant posts and what the catalogue shows."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

from pbkit.fields import (
    Identifier,
    Industry,
    Line,
    OrgId,
    PastDate,
    PatentNumber,
    PatentNumbers,
    Text,
    line_without_controls,
)
from pbkit.money import MAX_FEN, Money, format_money

FeeBasis = Literal["one_time", "royalty", "annual"]
DeclarationStatus = Literal["active", "withdrawn"]
MAX_PATENTS = 100
ReportRef = Annotated[str, StringConstraints(min_length=1, max_length=64), AfterValidator(line_without_controls)]
ContactLine = Annotated[Line, StringConstraints(min_length=1, max_length=200)]


def _rate_bp(value: Any) -> int:
    """A royalty rate of sales, a decimal string of a fraction ("0.05" is 5 %), at most 4 places: basis points."""
    if not isinstance(value, str):
        raise ValueError("a rate is a decimal string, such as \"0.0500\"")
    try:
        rate = Decimal(value)
    except InvalidOperation:
        raise ValueError("a rate is a decimal string, such as \"0.0500\"") from None
    if not value.isascii() or not rate.is_finite() or rate.as_tuple().exponent < -4:
        raise ValueError("a rate has at most 4 decimal places")
    if not Decimal(0) < rate <= Decimal(1):
        raise ValueError("a rate is more than 0 and at most 1")
    return int(rate * 10000)


Rate = Annotated[int, BeforeValidator(_rate_bp), Field(json_schema_extra={"type": "string", "examples": ["0.0500"]})]


def format_rate(bp: int) -> str:
    return f"{Decimal(bp) / 10000:.4f}"


class FeeIn(BaseModel):
    """The fee standard (许可使用费支付方式、标准): one of three bases."""

    model_config = ConfigDict(extra="forbid")

    basis: FeeBasis
    amount: Money | None = Field(default=None, description="one_time: the fee; annual: the fee per year")
    rate: Rate | None = Field(default=None, description="royalty: the rate of sales, a fraction with up to 4 places")
    minimum: Money | None = Field(default=None, description="royalty: the optional minimum owed for the whole term")

    @model_validator(mode="after")
    def _one_standard(self) -> FeeIn:
        if self.basis in ("one_time", "annual"):
            if self.amount is None:
                raise ValueError(f"a {self.basis} fee needs amount")
            if self.rate is not None or self.minimum is not None:
                raise ValueError(f"a {self.basis} fee has an amount only (no rate, no minimum)")
        elif self.rate is None or self.amount is not None:
            raise ValueError("a royalty has a rate (and an optional minimum), no amount")
        return self


class ContactIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: ContactLine
    phone: Annotated[str, StringConstraints(pattern=r"^[0-9+\- ]{5,32}$")]
    email: Annotated[str, StringConstraints(max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")] | None = None


class OpenLicenceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    patent_numbers: PatentNumbers = Field(min_length=1, max_length=MAX_PATENTS)
    declarant_ids: list[OrgId] = Field(min_length=1, max_length=20, description="every current owner of every patent")
    fee: FeeIn
    term_years: int = Field(ge=1, le=20, description="the licence term a licensee gets, in years from acceptance")
    contact: ContactIn
    description: Annotated[Text, StringConstraints(max_length=5000)] | None = Field(
        default=None, description="the product or field the patents serve")
    industry: Industry | None = Field(default=None, description="the field's industry; the first declarant's if not given")
    evaluation_reports: dict[PatentNumber, ReportRef] = Field(
        default_factory=dict, description="per utility-model or design patent, its evaluation report's reference (专利权评价报告)")
    pledgee_consent: bool = Field(default=False, description="the pledgee's recorded consent, for a pledged patent")
    declared_on: PastDate | None = Field(default=None, description="the day of the declaration; today if not given")

    @model_validator(mode="after")
    def _declarants_once(self) -> OpenLicenceIn:
        if len(set(self.declarant_ids)) != len(self.declarant_ids):
            raise ValueError("each declarant is listed once")
        if self.fee.basis == "annual" and self.fee.amount * self.term_years > MAX_FEN:
            raise ValueError("the annual fee for the whole term is more than an amount may be (1000000000000.00)")
        return self


class WithdrawIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    withdrawn_on: PastDate | None = Field(default=None, description="today if not given")


class AcceptanceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    licensee_id: OrgId = Field(description="the SME taking the licence (an enterprise of size micro, small or medium)")
    accepted_on: PastDate | None = Field(
        default=None, description="the day of the written notice (书面通知), the deal's contract date and the first day "
        "of the licence's term; not before the declaration, not after today; today if not given")


class FeeOut(BaseModel):
    basis: FeeBasis
    amount: str | None
    rate: str | None
    minimum: str | None
    due_on_acceptance: str = Field(description="what a licensee owes under the standard at acceptance: the deal's "
                                   "contract amount (one_time: the fee; annual: the fee times term_years; royalty: "
                                   "the minimum, 0.00 without one)")


class PatentEntry(BaseModel):
    number: str
    title: str
    type: str
    ipc: list[str]


class OpenLicenceOut(BaseModel):
    id: str
    status: DeclarationStatus
    patent_numbers: list[str]
    patents: list[PatentEntry]
    declarant_ids: list[str]
    owner_kind: str = Field(description="the first declarant's kind (university, research_institute, ...)")
    prefecture_code: str | None
    industry: str | None
    fee: FeeOut
    term_years: int
    contact: dict[str, Any]
    description: str | None
    evaluation_reports: dict[str, str]
    declared_on: date
    withdrawn_on: date | None
    created_at: datetime


class OpenLicencePage(BaseModel):
    items: list[OpenLicenceOut]
    next_cursor: str | None


class AcceptanceOut(BaseModel):
    id: str
    declaration_id: str
    licensee_id: str
    accepted_on: date
    term_start: date
    term_end: date
    deal_id: str = Field(description="the `open` licence deal the transactions service holds; recorded as any deal")
    fee_due: str = Field(description="what the licensee owes at once under the standard: the deal's contract amount")
    fee: FeeOut = Field(description="the declaration's fee standard, which the licence follows (royalties, years)")
    created_at: datetime


def fee_out(row: Any) -> FeeOut:
    money = lambda fen: None if fen is None else format_money(fen)  # noqa: E731
    return FeeOut(basis=row.fee_basis, amount=money(row.fee_fen), minimum=money(row.minimum_fen),
                  rate=None if row.royalty_rate_bp is None else format_rate(row.royalty_rate_bp),
                  due_on_acceptance=format_money(row.due_fen))


def declaration_out(row: Any) -> OpenLicenceOut:
    return OpenLicenceOut(
        id=row.id, status=row.status, patent_numbers=row.patent_numbers,
        patents=[PatentEntry(**p) for p in row.patents], declarant_ids=row.declarant_ids, owner_kind=row.owner_kind,
        prefecture_code=row.prefecture_code, industry=row.industry, fee=fee_out(row), term_years=row.term_years,
        contact=row.contact, description=row.description, evaluation_reports=row.evaluation_reports,
        declared_on=row.declared_on, withdrawn_on=row.withdrawn_on, created_at=row.created_at,
    )


__all__ = ["AcceptanceIn", "AcceptanceOut", "Identifier", "OpenLicenceIn", "OpenLicenceOut", "OpenLicencePage", "WithdrawIn"]
