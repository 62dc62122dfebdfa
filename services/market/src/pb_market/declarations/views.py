"""The open-licence API (CONTRACT §9): declare, withdraw, the catalogue."""

from __future__ import annotations

import re
import unicodedata
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from fastapi.responses import JSONResponse
from pydantic import AfterValidator, StringConstraints

from pb_market.declarations import acceptances, service, title
from pb_market.declarations.schemas import (
    AcceptanceIn,
    AcceptanceOut,
    DeclarationStatus,
    FeeBasis,
    OpenLicenceIn,
    OpenLicenceOut,
    OpenLicencePage,
    WithdrawIn,
    declaration_out,
)
from pb_market.deps import (
    AcceptanceReader,
    ActorUow,
    Arbiter,
    Command,
    Deals,
    Declarant,
    Kit,
    Pagination,
    Reader,
    Registry,
    Today,
)
from pb_market.models import Acceptance, OpenLicence
from pbkit.fields import Identifier, Industry, PrefectureCode
from pbkit.money import Money
from pbkit.queries import Page, paginate
from pbkit.web.links import links_to

router = APIRouter(prefix="/api/v1", tags=["open licences"])

DeclarationId = Annotated[Identifier, Path(description="the declaration's id")]
_IPC_PREFIX = re.compile(r"[A-H](?:[0-9]{2}(?:[A-Z](?: ?[0-9]{1,4}(?:/[0-9]{0,6})?)?)?)?")


def _ipc_prefix(text: str) -> str:
    folded = " ".join(unicodedata.normalize("NFKC", text).strip().upper().split())
    if not _IPC_PREFIX.fullmatch(folded):
        raise ValueError("an IPC section, class, subclass, group or symbol, such as G06F or G06F 16/27")
    return folded if len(folded) <= 4 or folded[4] == " " else f"{folded[:4]} {folded[4:]}"


IpcPrefix = Annotated[str, StringConstraints(max_length=20), AfterValidator(_ipc_prefix)]
Words = Annotated[str, StringConstraints(min_length=1, max_length=200)]


@router.post(
    "/open-licences",
    status_code=201,
    response_model=OpenLicenceOut,
    summary="declare an open licence (开放许可声明; admin, or a partner whose organization is the owner)",
    responses={201: {"links": links_to("get_api_v1_open_licences__declaration_id__get",
                                       "withdraw_api_v1_open_licences__declaration_id__withdraw_post",
                                       parameter="declaration_id")},
               409: {"description": "the registry refuses the declaration (the reason is in `detail`); nothing changed"},
               503: {"description": "the registry cannot be reached; a retry (or the recovery job) finishes it"}},
)
def declare(body: OpenLicenceIn, actor: Declarant, registry: Registry, arbiter: Arbiter, actor_uow: ActorUow,
            today: Today, command: Command) -> JSONResponse:
    return command(
        operation="open_licence.declare",
        body=body,
        precheck=lambda: title.begin_declaration(
            uow_factory=actor_uow, arbiter=arbiter, body=body, today=today,
            snapshot=service.check_declaration(actor=actor, registry=registry, body=body),
        ),
        action=lambda uow, declaration_id: title.complete_declaration(uow, declaration_id),
    )


@router.post(
    "/open-licences/{declaration_id}/withdraw",
    response_model=OpenLicenceOut,
    summary="withdraw an open licence (admin, or the owner's partner); the licences given under it stay",
    responses={409: {"description": "already withdrawn, or a withdrawal is in progress"}},
)
def withdraw(declaration_id: DeclarationId, body: WithdrawIn, _actor: Declarant, arbiter: Arbiter,
             actor_uow: ActorUow, today: Today, command: Command) -> JSONResponse:
    withdrawn_on = body.withdrawn_on or today
    return command(
        operation=f"open_licence.withdraw:{declaration_id}",
        body=body,
        precheck=lambda: title.begin_withdrawal(uow_factory=actor_uow, arbiter=arbiter, declaration_id=declaration_id,
                                                withdrawn_on=withdrawn_on),
        action=lambda uow, _: title.complete_withdrawal(uow, declaration_id, withdrawn_on),
    )


@router.get("/open-licences/{declaration_id}", response_model=OpenLicenceOut, summary="one declaration (every role)")
def get(declaration_id: DeclarationId, kit: Kit, _reader: Reader) -> OpenLicenceOut:
    with kit.read_session() as session:
        return declaration_out(service.find_declaration(session, declaration_id))


@router.get(
    "/open-licences",
    response_model=OpenLicencePage,
    summary="the catalogue of open licences, oldest first (every role)",
    description=(
        "Active declarations unless `status` says otherwise. Every filter given narrows the list: `ipc` is a prefix "
        "of one of the patents' IPC symbols (`G06F`, `G06F 16`, `G06F 16/27`); `fee_min` and `fee_max` bound "
        "`fee.due_on_acceptance`; `q` is Chinese full text over the patents' titles and the description, segmented "
        "with jieba: a declaration matches when it holds every word of the query."
    ),
)
def catalogue(
    kit: Kit,
    _reader: Reader,
    page: Pagination,
    status: Annotated[DeclarationStatus | None, Query()] = "active",
    ipc: Annotated[IpcPrefix | None, Query(description="IPC class prefix, e.g. G06F")] = None,
    industry: Annotated[Industry | None, Query()] = None,
    prefecture_code: Annotated[PrefectureCode | None, Query(description="the first declarant's prefecture")] = None,
    fee_basis: Annotated[FeeBasis | None, Query()] = None,
    fee_min: Annotated[Money | None, Query(description="at least this due on acceptance (yuan)")] = None,
    fee_max: Annotated[Money | None, Query(description="at most this due on acceptance (yuan)")] = None,
    q: Annotated[Words | None, Query(description="Chinese full text")] = None,
) -> dict[str, Any]:
    stmt = service.catalogue(service.CatalogueFilter(
        status=status, ipc=ipc, industry=industry, prefecture_code=prefecture_code, fee_basis=fee_basis,
        fee_min=fee_min, fee_max=fee_max, q=q,
    ))
    with kit.read_session() as session:
        return paginate(session, stmt, key=OpenLicence.id, params=page, to_item=declaration_out)


@router.post(
    "/open-licences/{declaration_id}/acceptances",
    status_code=201,
    response_model=AcceptanceOut,
    summary="take an open licence for an SME (the written notice of art. 51; partner or admin): makes its deal",
    responses={201: {"links": links_to("list_acceptances_api_v1_open_licences__declaration_id__acceptances_get",
                                       "get_api_v1_open_licences__declaration_id__get",
                                       parameter="declaration_id", field="declaration_id")},
               409: {"description": "the declaration is withdrawn, or the transactions service refuses the deal"},
               503: {"description": "the transactions service or the registry cannot be reached; retry"}},
)
def accept(declaration_id: DeclarationId, body: AcceptanceIn, _actor: Declarant, registry: Registry, deals: Deals,
           actor_uow: ActorUow, today: Today, command: Command) -> JSONResponse:
    return command(
        operation=f"open_licence.accept:{declaration_id}",
        body=body,
        precheck=lambda: acceptances.begin_acceptance(
            uow_factory=actor_uow, make_deal=deals, declaration_id=declaration_id, body=body, today=today,
            licensee=acceptances.check_licensee(registry=registry, body=body),
        ),
        action=lambda uow, made: acceptances.complete_acceptance(uow, made[0], made[1]),
    )


@router.get(
    "/open-licences/{declaration_id}/acceptances",
    response_model=Page[AcceptanceOut],
    summary="the licences taken under a declaration, oldest first (admin and viewer all; a partner those it made)",
)
def list_acceptances(declaration_id: DeclarationId, kit: Kit, actor: AcceptanceReader, page: Pagination) -> dict[str, Any]:
    with kit.read_session() as session:
        declaration = service.find_declaration(session, declaration_id)
        return paginate(session, acceptances.visible_acceptances(actor, declaration_id), key=Acceptance.id, params=page,
                        to_item=lambda row: acceptances.acceptance_out(row, declaration))
