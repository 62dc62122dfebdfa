"""What the filings API accepts and answers."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, ValidationInfo, field_validator

from pbkit.fields import (
    Industry,
    OrgId,
    PastDate,
    PatentNumbers,
    PrefectureCode,
    Reason,
    RegionCode,
    line,
    text,
)
from pbkit.money import Money, format_money
from pbkit.parties import PartySnapshot

FilingStatus = Literal["submitted", "approved", "rejected", "revoked"]

# A product is filed with the few core patents it practises; the cap bounds the registry lookups per request.
MAX_PATENTS_PER_FILING = 100

_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def registry_uuid(value: str) -> str:
    # The list filter never reaches the registry, so a malformed id is named here; the filer's is refused
    # the same way, before any lookup.
    if not _UUID.fullmatch(value):
        raise ValueError(f"{value!r} is not an organization id (a registry UUID)")
    return value


OrganizationId = Annotated[OrgId, AfterValidator(registry_uuid)]
# The kit's text checks: a NUL would be a 500 from PostgreSQL's driver; a description may have tabs and newlines.
ProductName = line(200, min_length=1, strip=True)
Description = text(4000, strip=True)


class FilingIn(BaseModel):
    """A patent-product filing as a partner platform or the office submits it."""

    model_config = ConfigDict(extra="forbid")

    org_id: OrganizationId = Field(description="the filer: a registered organization of kind `enterprise`")
    product_name: ProductName
    patent_numbers: Annotated[PatentNumbers, Field(min_length=1, max_length=MAX_PATENTS_PER_FILING)] = Field(
        description="application numbers in any accepted form (ZL202110123456.7, 202110123456.7, 2021101234567); "
        "each owned by or licensed to the filer",
    )
    region_code: RegionCode = Field(description="where the product is made: a GB/T 2260 code, checked like the registry's")
    industry: Industry | None = Field(default=None, description="the product's industry; null when not given")
    description: Description | None = None
    sales_last_year: Money | None = Field(default=None, description="last year's sales of the product, yuan")
    export_last_year: Money | None = Field(default=None, description="last year's export value, yuan; part of the sales")

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

    approved_on: PastDate = Field(description="the date of recognition; today or earlier (Asia/Shanghai)")


class ReasonIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Reason


# Money is stored as integer fen and answered as a yuan string with two decimals.
StoredYuan = Annotated[str | None, BeforeValidator(lambda fen: None if fen is None else format_money(fen))]


class FilingOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

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
    sales_last_year: StoredYuan = Field(validation_alias="sales_last_year_fen", description="yuan, two decimals")
    export_last_year: StoredYuan = Field(validation_alias="export_last_year_fen", description="yuan, two decimals")
    approved_on: date | None
    reason: str | None = Field(description="why it was rejected or revoked")
    created_by: str = Field(description="the client that submitted it")
    created_at: datetime
    updated_at: datetime


class FilingEventData(BaseModel):
    """The whole filing as every pb.filing.*.v1 event carries it (docs/EVENTS.md)."""

    model_config = ConfigDict(from_attributes=True)

    filing_id: str = Field(validation_alias="id")
    status: FilingStatus
    # The snapshot exactly as stored at submission.
    filer: dict[str, Any]
    product_name: str
    patent_numbers: list[str]
    region_code: str
    prefecture_code: str
    industry: str | None
    sales_last_year: StoredYuan = Field(validation_alias="sales_last_year_fen")
    export_last_year: StoredYuan = Field(validation_alias="export_last_year_fen")
    approved_on: date | None
    reason: str | None


class FilingFilters(BaseModel):
    """The query of `GET /filings`: each filter given narrows the list."""

    status: FilingStatus | None = None
    org_id: OrganizationId | None = Field(default=None, description="the filer")
    prefecture_code: PrefectureCode | None = Field(
        default=None, description="市州 code, e.g. 520100; a retired one means its successor"
    )
