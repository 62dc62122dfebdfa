"""/api/v1/admin/rebuild: rebuild the projections from the event log."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import JSONResponse

from pb_metrics.rebuilds import service
from pb_metrics.rebuilds.worker import Rebuilds
from pbkit.service import Kit
from pbkit.web.auth import AdminOnly
from pbkit.web.idempotency import IdempotencyKeyHeader, run_idempotent

router = APIRouter(prefix="/api/v1/admin", tags=["admin"])


def rebuilds_of(request: Request) -> Rebuilds:
    return request.app.state.rebuilds


RebuildWorkers = Annotated[Rebuilds, Depends(rebuilds_of)]


@router.post(
    "/rebuild",
    status_code=202,
    summary="drop the projections and rebuild them from every topic's beginning (admin)",
    description="Answers at once with the rebuild's id; progress keeps answering from the current "
    "projections until the rebuilt ones have caught up, then switches to them. 409 while one is under way.",
)
def start_rebuild(
    kit: Kit, actor: AdminOnly, workers: RebuildWorkers, key: IdempotencyKeyHeader = None
) -> JSONResponse:
    status, payload = run_idempotent(
        lambda: kit.uow(actor),
        key=key,
        operation="projections.rebuild",
        body={},
        action=lambda uow: (202, service.request_rebuild(uow=uow, stale_after=workers.stale_after)),
    )
    workers.start(payload["id"])
    return JSONResponse(payload, status_code=status)


@router.get("/rebuild/{rebuild_id}", summary="a rebuild's status (admin)")
def get_rebuild(rebuild_id: Annotated[str, Path(max_length=36)], kit: Kit, _admin: AdminOnly) -> dict[str, Any]:
    with kit.session_factory() as session:
        return service.get_rebuild(session, rebuild_id)
