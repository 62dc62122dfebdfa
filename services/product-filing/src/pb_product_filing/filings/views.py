"""The filings API (CONTRACT §6): submit, review, read."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse

from pb_product_filing.filings import service
from pb_product_filing.filings.schemas import (
    ApproveIn,
    FilingIn,
    FilingOut,
    FilingStatus,
    OrganizationId,
    ReasonIn,
)
from pbkit.context import Actor
from pbkit.dates import Today
from pbkit.fields import PrefectureCode
from pbkit.registry_client import Registry
from pbkit.service import Kit, actor_uow
from pbkit.uow import UnitOfWork
from pbkit.web.auth import AdminOnly, require_roles
from pbkit.web.idempotency import IdempotencyKeyHeader, answered_before, idempotent_response
from pbkit.web.pagination import Page, Pagination

router = APIRouter(prefix="/api/v1/filings", tags=["filings"])

Filer = Annotated[Actor, Depends(require_roles("admin", "partner"))]
Reader = Annotated[Actor, Depends(require_roles("admin", "partner", "viewer"))]


@router.post("", status_code=201, response_model=FilingOut, summary="submit a patent-product filing (partner or admin)")
def submit(body: FilingIn, kit: Kit, actor: Filer, registry: Registry, key: IdempotencyKeyHeader = None) -> JSONResponse:
    uow_factory = actor_uow(kit, actor)
    # The registry is asked before the unit of work opens, and not at all for a retry of an answered key:
    # that one is replayed, even while the registry is down.
    filer = None if answered_before(uow_factory, key) else service.checked_filer(registry=registry, request=body)

    def create(uow: UnitOfWork) -> tuple[int, FilingOut]:
        return 201, FilingOut.of(service.submit_filing(uow=uow, request=body, filer=filer))

    return idempotent_response(uow_factory, key=key, operation="filing.submit", body=body, action=create)


@router.post("/{filing_id}/approve", response_model=FilingOut, summary="approve a submitted filing (admin)")
def approve(filing_id: str, body: ApproveIn, kit: Kit, actor: AdminOnly, today: Today,
            key: IdempotencyKeyHeader = None) -> JSONResponse:
    def act(uow: UnitOfWork) -> tuple[int, FilingOut]:
        filing = service.approve_filing(uow=uow, filing_id=filing_id, approved_on=body.approved_on, today=today)
        return 200, FilingOut.of(filing)

    return _review(kit, actor, key, "filing.approve", filing_id, body, act)


@router.post("/{filing_id}/reject", response_model=FilingOut, summary="reject a submitted filing (admin)")
def reject(filing_id: str, body: ReasonIn, kit: Kit, actor: AdminOnly, key: IdempotencyKeyHeader = None) -> JSONResponse:
    def act(uow: UnitOfWork) -> tuple[int, FilingOut]:
        return 200, FilingOut.of(service.reject_filing(uow=uow, filing_id=filing_id, reason=body.reason))

    return _review(kit, actor, key, "filing.reject", filing_id, body, act)


@router.post("/{filing_id}/revoke", response_model=FilingOut, summary="revoke an approved filing (admin)")
def revoke(filing_id: str, body: ReasonIn, kit: Kit, actor: AdminOnly, key: IdempotencyKeyHeader = None) -> JSONResponse:
    def act(uow: UnitOfWork) -> tuple[int, FilingOut]:
        return 200, FilingOut.of(service.revoke_filing(uow=uow, filing_id=filing_id, reason=body.reason))

    return _review(kit, actor, key, "filing.revoke", filing_id, body, act)


@router.get("/{filing_id}", response_model=FilingOut, summary="one filing")
def get(filing_id: str, kit: Kit, actor: Reader) -> FilingOut:
    with kit.session_factory() as session:
        return FilingOut.of(service.find_filing(session=session, actor=actor, filing_id=filing_id))


@router.get("", response_model=Page[FilingOut], summary="filings, oldest first")
def list_(
    kit: Kit,
    actor: Reader,
    page: Pagination,
    status: Annotated[FilingStatus | None, Query()] = None,
    org_id: Annotated[OrganizationId | None, Query(description="the filer")] = None,
    prefecture_code: Annotated[
        PrefectureCode | None, Query(description="市州 code, e.g. 520100; a retired one means its successor")
    ] = None,
) -> dict[str, Any]:
    with kit.session_factory() as session:
        return service.list_filings(
            session=session, actor=actor, page=page, status=status, org_id=org_id, prefecture_code=prefecture_code
        )


def _review(
    kit: Kit,
    actor: Actor,
    key: str | None,
    operation: str,
    filing_id: str,
    body: ApproveIn | ReasonIn,
    act: Callable[[UnitOfWork], tuple[int, FilingOut]],
) -> JSONResponse:
    # The filing id is part of the fingerprint: one key cannot approve two filings.
    return idempotent_response(
        actor_uow(kit, actor), key=key, operation=operation, body={"filing_id": filing_id, "request": body}, action=act
    )
