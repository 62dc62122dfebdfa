"""What a partner posts as a technology demand (技术需求) and what a reader sees of it."""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, model_validator

from pbkit.fields import Industry, IsoDate, OrgId, PrefectureCode, line, text
from pbkit.money import Money

DemandStatus = Literal["open", "expired"]
MAX_IPC = 20
_IPC = re.compile(r"[A-H][0-9]{2}[A-Z](?: [0-9]{1,4}(?:/[0-9]{2,6})?)?")


def _ipc_class(value: str) -> str:
    """An IPC subclass (`G06F`), main group (`G06F 16`) or full symbol (`G06F 16/27`), folded to the registry's form."""
    folded = " ".join(unicodedata.normalize("NFKC", value).strip().upper().split())
    if len(folded) > 4 and folded[4] != " ":
        folded = f"{folded[:4]} {folded[4:]}"
    if not _IPC.fullmatch(folded):
        raise ValueError("an IPC subclass, main group or symbol, such as G06F, G06F 16 or G06F 16/27")
    return folded


IpcClass = Annotated[str, StringConstraints(max_length=20), AfterValidator(_ipc_class)]
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")


def _chinese(value: str) -> str:
    if not _HAN.search(value):
        raise ValueError("written in Chinese: at least one Chinese character")
    return value


Title = Annotated[line(200, min_length=1, strip=True), AfterValidator(_chinese)]
Description = Annotated[text(5000, min_length=1, strip=True), AfterValidator(_chinese)]


class DemandIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sme_id: OrgId = Field(description="the SME that looks for the technology (an enterprise of size micro, small or medium)")
    title: Title = Field(description="what is sought, in Chinese")
    description: Description = Field(description="the problem, the product, the conditions")
    ipc: list[IpcClass] = Field(default_factory=list, max_length=MAX_IPC, description="IPC classes, if known")
    industry: Industry
    budget_min: Money | None = Field(default=None, description="the least the SME expects to pay (yuan)")
    budget_max: Money | None = Field(default=None, description="the most the SME can pay (yuan)")
    prefecture_code: PrefectureCode = Field(description="where the SME would use the technology")
    expires_on: IsoDate = Field(description="the last day the demand stands: after today, at most 3 years ahead")

    @model_validator(mode="after")
    def _budget_in_order(self) -> DemandIn:
        if self.budget_min is not None and self.budget_max is not None and self.budget_min > self.budget_max:
            raise ValueError("budget_min must not be more than budget_max")
        if len(set(self.ipc)) != len(self.ipc):
            raise ValueError("each IPC class is listed once")
        return self


class BudgetOut(BaseModel):
    min: str | None
    max: str | None


class DemandOut(BaseModel):
    id: str
    status: DemandStatus
    sme_id: str
    sme_name: str
    title: str
    description: str
    ipc: list[str]
    industry: str
    budget: BudgetOut = Field(description="the budget range in yuan; either bound may be absent")
    prefecture_code: str
    posted_on: date
    expires_on: date
    expired_on: date | None = Field(description="the day the expiry job closed it")
    created_at: datetime


class DemandPage(BaseModel):
    items: list[DemandOut]
    next_cursor: str | None


class ReasonsOut(BaseModel):
    shared_terms: list[str] = Field(description="the demand's words the candidate shares, most telling first")
    shared_ipc: list[str] = Field(description="the candidate's IPC symbols in a subclass the demand names")
    fee_within_budget: bool | None = Field(description="the fee due on acceptance is at most budget_max; null when "
                                           "there is no fee (a sleeping patent) or no budget")
    same_industry: bool
    same_prefecture: bool


class MatchOut(BaseModel):
    rank: int
    patent_number: str
    title: str
    kind: Literal["open_licence", "sleeping"]
    declaration_id: str | None = Field(description="the open-licence declaration the patent is under")
    score: str = Field(description="the ranking's score, a decimal string of 4 places (higher is better)")
    reasons: ReasonsOut


class MatchList(BaseModel):
    items: list[MatchOut]


class PatentDemandOut(BaseModel):
    rank: int = Field(description="the patent's rank among the demand's kept matches")
    score: str
    reasons: ReasonsOut
    demand: DemandOut


class PatentDemandList(BaseModel):
    items: list[PatentDemandOut]
    next_cursor: str | None
