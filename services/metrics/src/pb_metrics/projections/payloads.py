"""The `data` of the events the projections read (docs/EVENTS.md), as far as the counting rules need it.

Unknown fields are ignored, so producers may add optional fields freely. A
payload that lacks what a rule needs fails validation: the consumer retries
and then dead-letters it rather than counting it wrongly.
"""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, Field

from pbkit.domain.regions import GUIZHOU_PROVINCE_CODE
from pbkit.money import StoredMoney

SME_SIZES = frozenset({"micro", "small", "medium"})
INSTITUTION_KINDS = frozenset({"university", "research_institute", "state_owned_enterprise"})


class _Payload(BaseModel):
    model_config = ConfigDict(extra="ignore")


class Party(_Payload):
    """A party snapshot taken when the deal, pledge or filing was submitted: the attributes §8 counts by."""

    org_id: str
    kind: str
    size: str | None = None
    region_code: str = Field(pattern=r"^\d{6}$")
    prefecture_code: str | None = Field(default=None, pattern=r"^\d{6}$")
    industry: str | None = None

    @property
    def in_province(self) -> bool:
        return self.region_code.startswith(GUIZHOU_PROVINCE_CODE)

    @property
    def is_in_province_sme(self) -> bool:
        return self.in_province and self.size in SME_SIZES

    @property
    def is_in_province_institution(self) -> bool:
        return self.in_province and self.kind in INSTITUTION_KINDS

    @property
    def prefecture(self) -> str:
        return self.prefecture_code or self.region_code[:4] + "00"


class Payment(_Payload):
    payment_id: str
    amount: StoredMoney
    received_on: date


class DealPayload(_Payload):
    deal_id: str
    status: str
    patent_numbers: list[str] = Field(min_length=1)
    transferors: list[Party] = Field(min_length=1)
    transferee: Party
    contract_amount: StoredMoney
    recorded_on: date | None = None
    payment: Payment | None = None
    license_type: str | None = None


class PledgePayload(_Payload):
    pledge_id: str
    status: str
    pledgor: Party
    amount: StoredMoney
    registered_on: date


class FilingPayload(_Payload):
    filing_id: str
    status: str
    filer: Party
    region_code: str = Field(pattern=r"^\d{6}$")
    prefecture_code: str | None = Field(default=None, pattern=r"^\d{6}$")
    approved_on: date | None = None

    @property
    def prefecture(self) -> str:
        return self.prefecture_code or self.region_code[:4] + "00"


class OpenLicencePayload(_Payload):
    """A declaration as pb.open_licence.declared/withdrawn.v1 carry it: its owner is the first declarant."""

    id: str
    status: str
    declared_on: date
    owner_kind: str
    prefecture_code: str | None = Field(default=None, pattern=r"^\d{6}$")
    industry: str | None = None

    @property
    def is_in_province_institution(self) -> bool:
        # A prefecture code is the registry's, of the owner's region_code: in Guizhou exactly when it starts with 52.
        in_province = self.prefecture_code is not None and self.prefecture_code.startswith(GUIZHOU_PROVINCE_CODE)
        return in_province and self.owner_kind in INSTITUTION_KINDS


class DemandPayload(_Payload):
    id: str
    sme_id: str
    posted_on: date
    sme: Party


class MatchPayload(_Payload):
    demand_id: str
    patent_number: str = Field(min_length=1, max_length=32)


class AnnualReportPayload(_Payload):
    org_id: str
    year: int = Field(ge=1900, le=2200)
    revenue: StoredMoney
    employees: int = Field(ge=0)
