"""What the filings API accepts and answers."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
)

from pbkit.domain import parse_patent_number, validate_industry, validate_region_code
from pbkit.money import Money, format_money
from pb_product_filing.models import Filing

FilingStatus = Literal["submitted", "approved", "rejected", "revoked"]

# A product is filed with the few core patents it practises; the cap bounds the registry lookups per request.
MAX_PATENTS_PER_FILING = 100

_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def organization_id(value: str) -> str:
    if not _UUID.fullmatch(value):
        raise ValueError(f"{value!r} is not an organization id (a registry UUID)")
    return value


def canonical_patent_number(value: str) -> str:
    return parse_patent_number(value).canonical


def region_code(value: str) -> str:
    # As the registry does: a retired Guizhou code (old 铜仁地区 5222xx, 毕节地区 5224xx) is kept as the code
    # that replaced it, so consumers that group by region see one code per place.
    return validate_region_code(value).current_code


def prefecture_code(value: str) -> str:
    """A prefecture (市州) code to filter by; a retired one (522200 铜仁地区) means the prefecture that replaced it."""
    region = validate_region_code(value)
    if region.current_code != region.prefecture_code:
        raise ValueError(f"{value} is a county code; give its prefecture code ({region.prefecture_code})")
    return region.prefecture_code


def iso_date_text(value: Any) -> Any:
    # pydantic would also take timestamps and numbers as dates; the contract says YYYY-MM-DD.
    if not isinstance(value, str) or not _ISO_DATE.fullmatch(value):
        raise ValueError("a date is written YYYY-MM-DD")
    return value


OrganizationId = Annotated[str, AfterValidator(organization_id)]
PatentNumber = Annotated[str, AfterValidator(canonical_patent_number)]
RegionCode = Annotated[str, AfterValidator(region_code)]
PrefectureCode = Annotated[str, AfterValidator(prefecture_code)]
Industry = Annotated[str, AfterValidator(validate_industry)]
IsoDate = Annotated[date, BeforeValidator(iso_date_text)]
Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1000)]


class FilingIn(BaseModel):
    """A patent-product filing as a partner platform or the office submits it."""

    model_config = ConfigDict(extra="forbid")

    org_id: OrganizationId = Field(description="the filer: a registered organization of kind `enterprise`")
    product_name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    patent_numbers: Annotated[list[PatentNumber], Field(min_length=1, max_length=MAX_PATENTS_PER_FILING)] = Field(
        description="application numbers in any accepted form (ZL202110123456.7, 202110123456.7, 2021101234567); "
        "each owned by or licensed to the filer",
    )
    region_code: RegionCode = Field(description="where the product is made: a GB/T 2260 code, checked like the registry's")
    industry: Industry | None = Field(default=None, description="the product's industry; null when not given")
    description: Annotated[str, StringConstraints(strip_whitespace=True, max_length=4000)] | None = None
    sales_last_year: Money | None = Field(default=None, description="last year's sales of the product, yuan")
    export_last_year: Money | None = Field(default=None, description="last year's export value, yuan; part of the sales")

    @field_validator("patent_numbers")
    @classmethod
    def _each_patent_once(cls, numbers: list[str]) -> list[str]:
        first_seen: dict[str, int] = {}
        for index, number in enumerate(numbers):
            if number in first_seen:
                raise ValueError(f"{number} is listed twice (items {first_seen[number]} and {index})")
            first_seen[number] = index
        return numbers

    @field_validator("export_last_year")
    @classmethod
    def _export_within_sales(cls, export: int | None, info: ValidationInfo) -> int | None:
        sales = info.data.get("sales_last_year")
        if export is not None and sales is not None and export > sales:
            raise ValueError(
                f"export value {format_money(export)} exceeds the sales {format_money(sales)} it is part of"
            )
        return export


class ApproveIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    approved_on: IsoDate = Field(description="the date of recognition; today or earlier (Asia/Shanghai)")


class ReasonIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Reason


class PartySnapshot(BaseModel):
    org_id: str
    name: str
    kind: str
    size: str | None
    region_code: str
    prefecture_code: str
    industry: str | None


class FilingOut(BaseModel):
    id: str
    status: FilingStatus
    org_id: str
    filer: PartySnapshot
    product_name: str
    patent_numbers: list[str]
    region_code: str
    prefecture_code: str
    industry: str | None
    description: str | None
    sales_last_year: str | None = Field(description="yuan, two decimals")
    export_last_year: str | None = Field(description="yuan, two decimals")
    approved_on: date | None
    reason: str | None = Field(description="why it was rejected or revoked")
    created_by: str = Field(description="the client that submitted it")
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, filing: Filing) -> FilingOut:
        return cls(
            id=filing.id,
            status=filing.status,
            org_id=filing.org_id,
            filer=filing.filer,
            product_name=filing.product_name,
            patent_numbers=filing.patent_numbers,
            region_code=filing.region_code,
            prefecture_code=filing.prefecture_code,
            industry=filing.industry,
            description=filing.description,
            sales_last_year=money_or_none(filing.sales_last_year_fen),
            export_last_year=money_or_none(filing.export_last_year_fen),
            approved_on=filing.approved_on,
            reason=filing.reason,
            created_by=filing.created_by,
            created_at=filing.created_at,
            updated_at=filing.updated_at,
        )


def money_or_none(fen: int | None) -> str | None:
    return None if fen is None else format_money(fen)
