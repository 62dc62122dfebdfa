"""Request and response bodies of the organization endpoints."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, field_validator

from pb_registry.fields import Industry, Name, SearchText, StoredMoney, Uscc, Year, given_not_null
from pbkit.domain import SME_SIZE_STANDARD
from pbkit.fields import PrefectureCode, RegionCode
from pbkit.money import Money

OrgKind = Literal["university", "research_institute", "state_owned_enterprise", "enterprise", "bank", "other"]
# Only enterprises have a size class (CONTRACT.md §3).
SIZED_KINDS = ("enterprise", "state_owned_enterprise")
Size = Literal["micro", "small", "medium", "large"]
SmeSector = Literal[tuple(SME_SIZE_STANDARD.sector_labels)]  # type: ignore[valid-type]

_SECTOR_HELP = (
    "sector of the 2011 SME standard (工信部联企业〔2011〕300号): "
    + ", ".join(f"{key} {label}" for key, label in SME_SIZE_STANDARD.sector_labels.items())
    + ". With it and an annual report the size is classified when `size` is not given."
)


class AnnualReportIn(BaseModel):
    revenue: Money = Field(description="营业收入, yuan")
    employees: int = Field(ge=0, le=100_000_000, description="从业人员")
    total_assets: Money | None = Field(default=None, description="资产总额, yuan; classifies construction firms")


class DatedAnnualReport(AnnualReportIn):
    year: Year


class OrganizationIn(BaseModel):
    name: Name
    uscc: Uscc
    kind: OrgKind
    size: Size | None = Field(default=None, description="enterprises and state-owned enterprises only")
    region_code: RegionCode
    industry: Industry | None = None
    sme_sector: SmeSector | None = Field(default=None, description=_SECTOR_HELP)
    annual_report: DatedAnnualReport | None = Field(default=None, description="the latest annual report, if known")


class OrganizationChange(BaseModel):
    """Only the fields sent change; `size`, `industry` and `sme_sector` may be set to null."""

    model_config = ConfigDict(extra="forbid")  # a field that cannot be changed here is refused, not ignored

    name: Name | None = None
    uscc: Uscc | None = None
    kind: OrgKind | None = None
    size: Size | None = None
    region_code: RegionCode | None = None
    industry: Industry | None = None
    sme_sector: SmeSector | None = None

    _not_null = field_validator("name", "uscc", "kind", "region_code")(given_not_null)


class SizeBasis(BaseModel):
    source: Literal["declared", "classified"]
    standard: str | None = None
    sector: str | None = None
    year: int | None = None


class OrganizationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    uscc: str
    kind: OrgKind
    size: Size | None
    size_basis: SizeBasis | None = Field(description="declared by an admin, or classified from an annual report")
    sme_sector: str | None
    region_code: str
    region_name: str | None
    prefecture_code: str
    prefecture_name: str | None
    in_province: bool
    industry: str | None
    industry_label: str | None
    industry_list_version: str | None
    created_at: datetime
    updated_at: datetime


class AnnualReportOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    org_id: str
    year: int
    # Read from a row's fen, or from this model's own JSON when FastAPI checks an answer made earlier.
    revenue: StoredMoney = Field(validation_alias=AliasChoices("revenue_fen", "revenue"))
    employees: int
    total_assets: StoredMoney | None = Field(validation_alias=AliasChoices("total_assets_fen", "total_assets"))
    filed_at: datetime


class FiledReport(BaseModel):
    """What filing a year's report did: the report as stored, and whether it is the year's first."""

    report: AnnualReportOut
    first_of_year: bool


class OrganizationPayload(BaseModel):
    """The organization as its events carry it (docs/EVENTS.md)."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    uscc: str
    kind: str
    size: str | None
    region_code: str
    prefecture_code: str
    in_province: bool
    industry: str | None


class IndustryOut(BaseModel):
    id: str
    label: str


class IndustryList(BaseModel):
    version: str
    items: list[IndustryOut]


class OrganizationFilters(BaseModel):
    """The query of `GET /organizations`: each filter given narrows the list."""

    kind: OrgKind | None = None
    region_code: RegionCode | None = None
    prefecture_code: PrefectureCode | None = Field(default=None, description="every organization of this 市州")
    in_province: bool | None = Field(default=None, description="registered in Guizhou (region code 52…)")
    industry: Industry | None = None
    uscc: Uscc | None = None
    q: SearchText | None = Field(default=None, description="part of the name, e.g. 大学; no control character")
