"""Bodies of the title commands (docs/TITLE_ARBITER.md): what the transactions and pledge services ask the registry."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from pb_registry.fields import Identifier
from pbkit.fields import IsoDate, PatentNumbers

DealKind = Literal["transfer", "license", "equity_contribution"]
LicenseType = Literal["exclusive", "sole", "ordinary", "open"]
CommandState = Literal["applied", "undone"]


class _Command(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TitleChangeIn(_Command):
    """A deal being recorded: a transfer or equity contribution moves title, a licence adds its licensee."""

    kind: DealKind
    license_type: LicenseType | None = None
    patent_numbers: PatentNumbers = Field(min_length=1, max_length=100)
    transferor_ids: list[Identifier] = Field(min_length=1, max_length=100)
    transferee_id: Identifier
    pledgee_consent: bool = Field(default=False, description="the pledgee's recorded consent, for a pledged patent")
    effective_on: IsoDate = Field(description="the deal's recorded_on")
    term_start: IsoDate | None = Field(default=None, description="a licence's term: an exclusive or sole one excludes others only within it")
    term_end: IsoDate | None = None


class BatchedTitleChange(TitleChangeIn):
    deal_id: Identifier = Field(description="the transactions service's deal id: the key of its command")


class TitleChangesIn(_Command):
    changes: list[BatchedTitleChange] = Field(min_length=1, max_length=1000)


class ReversalIn(_Command):
    effective_on: IsoDate = Field(description="the day the deal was cancelled")


class EncumbranceIn(_Command):
    """A pledge being registered on patents its pledgor owns."""

    pledgor_id: Identifier
    pledgee_id: Identifier
    patent_numbers: PatentNumbers = Field(min_length=1, max_length=100)
    co_owner_consent: bool = False
    registered_on: IsoDate


class ReleaseIn(_Command):
    released_on: IsoDate


class OpenLicenceDeclarationIn(_Command):
    """An open-licence declaration (开放许可声明) the market service makes on patents its declarants own."""

    declarant_ids: list[Identifier] = Field(min_length=1, max_length=100, description="every current owner of every patent")
    patent_numbers: PatentNumbers = Field(min_length=1, max_length=100)
    pledgee_consent: bool = Field(default=False, description="the pledgee's recorded consent, for a pledged patent")
    declared_on: IsoDate


class OpenLicenceWithdrawalIn(_Command):
    withdrawn_on: IsoDate


class PatentTitleOut(BaseModel):
    number: str
    owner_ids: list[str]
    licensee_ids: list[str]
    pledged: bool


class TitleCommandOut(BaseModel):
    """The command's outcome: `applied`, or `undone` once reverted or released. A repeat answers the same."""

    key: str = Field(description="`deal:<deal_id>`, `pledge:<pledge_id>` or `open_licence:<declaration_id>`")
    state: CommandState
    patents: list[PatentTitleOut]


class TitleChangeResult(BaseModel):
    deal_id: str
    status: int = Field(description="200 when applied (or applied before, with the same terms), else 409 or 422")
    outcome: TitleCommandOut | None = None
    detail: str | None = Field(default=None, description="why the change was refused")


class TitleChangesOut(BaseModel):
    results: list[TitleChangeResult]
