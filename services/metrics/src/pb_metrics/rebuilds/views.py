"""/api/v1/admin/rebuild: rebuild the projections from the event log."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from pb_metrics.deps import AdminOnly, Command, Kit, RebuildId, RebuildWorkers
from pb_metrics.rebuilds import service
from pbkit.web.links import creating

router = APIRouter(prefix="/api/v1/admin", tags=["admin"])


@router.post(
    "/rebuild",
    summary="drop the projections and rebuild them from every topic's beginning (admin)",
    description="Answers at once with the rebuild's id; progress keeps answering from the current "
    "projections until the rebuilt ones have caught up, then switches to them. 409 while one is under way.",
    **creating("get_rebuild_api_v1_admin_rebuild__rebuild_id__get", parameter="rebuild_id", status=202),
)
def start_rebuild(_admin: AdminOnly, workers: RebuildWorkers, command: Command) -> JSONResponse:
    answer = command(
        operation="projections.rebuild",
        body={},
        action=lambda uow, _checked: service.request_rebuild(uow=uow, stale_after=workers.stale_after),
    )
    workers.wake()  # the rebuild is committed: the worker finds it pending
    return answer


@router.get("/rebuild/{rebuild_id}", summary="a rebuild's status (admin)")
def get_rebuild(rebuild_id: RebuildId, kit: Kit, _admin: AdminOnly) -> dict[str, Any]:
    with kit.read_session() as session:  # never behind the batches the rebuild writes
        return service.get_rebuild(session, rebuild_id).model_dump(mode="json")
