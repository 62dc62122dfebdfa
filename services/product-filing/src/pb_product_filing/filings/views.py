"""The filings API (CONTRACT §6): submit, review, read."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from pb_product_filing.deps import AdminOnly, Command, FilingId, Kit, Pagination, Reader, Registry, Submitter, Today
from pb_product_filing.filings import service
from pb_product_filing.filings.schemas import (
    ApproveIn,
    FilingFilters,
    FilingIn,
    FilingOut,
    ReasonIn,
)
from pbkit.queries import Page
from pbkit.web.links import creating

router = APIRouter(prefix="/api/v1/filings", tags=["filings"])


@router.post("", response_model=FilingOut, summary="submit a patent-product filing (partner or admin)", **creating(
    "get_api_v1_filings__filing_id__get", "approve_api_v1_filings__filing_id__approve_post",
    "reject_api_v1_filings__filing_id__reject_post", "revoke_api_v1_filings__filing_id__revoke_post",
    parameter="filing_id",
))
def submit(body: FilingIn, _actor: Submitter, registry: Registry, command: Command) -> JSONResponse:
    # The registry is asked before the unit of work opens, and not at all for a retry of an answered key:
    # that one is replayed, even while the registry is down.
    return command(
        operation="filing.submit",
        body=body,
        precheck=lambda: service.checked_filer(registry=registry, request=body),
        action=lambda uow, filer: service.submit_filing(uow=uow, request=body, filer=filer),
    )


@router.post("/{filing_id}/approve", response_model=FilingOut, summary="approve a submitted filing (admin)")
def approve(filing_id: FilingId, body: ApproveIn, _admin: AdminOnly, today: Today, command: Command) -> JSONResponse:
    # Each review's fingerprint holds the filing id: one key cannot approve two filings.
    return command(
        operation="filing.approve",
        body={"filing_id": filing_id, "request": body},
        action=lambda uow, _: service.approve_filing(
            uow=uow, filing_id=filing_id, approved_on=body.approved_on, today=today
        ),
    )


@router.post("/{filing_id}/reject", response_model=FilingOut, summary="reject a submitted filing (admin)")
def reject(filing_id: FilingId, body: ReasonIn, _admin: AdminOnly, command: Command) -> JSONResponse:
    return command(
        operation="filing.reject",
        body={"filing_id": filing_id, "request": body},
        action=lambda uow, _: service.reject_filing(uow=uow, filing_id=filing_id, reason=body.reason),
    )


@router.post("/{filing_id}/revoke", response_model=FilingOut, summary="revoke an approved filing (admin)")
def revoke(filing_id: FilingId, body: ReasonIn, _admin: AdminOnly, command: Command) -> JSONResponse:
    return command(
        operation="filing.revoke",
        body={"filing_id": filing_id, "request": body},
        action=lambda uow, _: service.revoke_filing(uow=uow, filing_id=filing_id, reason=body.reason),
    )


@router.get("/{filing_id}", response_model=FilingOut, summary="one filing")
def get(filing_id: FilingId, kit: Kit, actor: Reader) -> FilingOut:
    with kit.read_session() as session:
        return service.find_filing(session=session, actor=actor, filing_id=filing_id)


@router.get("", response_model=Page[FilingOut], summary="filings, oldest first")
def list_(kit: Kit, actor: Reader, page: Pagination, filters: Annotated[FilingFilters, Query()]) -> dict[str, Any]:
    with kit.read_session() as session:
        return service.list_filings(session=session, actor=actor, page=page, **filters.model_dump())
