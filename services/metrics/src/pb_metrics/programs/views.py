"""/api/v1/programs: programs, their targets and baselines."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path
from sqlalchemy import select

from pb_metrics.models import Program
from pb_metrics.programs import service
from pb_metrics.programs.schemas import BaselineIn, ProgramIn, ProgramUpdate
from pbkit.context import Actor
from pbkit.service import Kit
from pbkit.web.auth import AdminOnly, require_roles
from pbkit.web.idempotency import IdempotencyKeyHeader, idempotent_response
from pbkit.web.pagination import Pagination, paginate

router = APIRouter(prefix="/api/v1/programs", tags=["programs"])
Reader = Annotated[Actor, Depends(require_roles("admin", "viewer"))]
ProgramId = Annotated[str, Path(max_length=64)]


@router.post("", status_code=201, summary="create a program from indicators of the catalog (admin)")
def create_program(body: ProgramIn, kit: Kit, actor: AdminOnly, key: IdempotencyKeyHeader = None):  # noqa: ANN201
    return idempotent_response(
        lambda: kit.uow(actor),
        key=key,
        operation="program.create",
        body=body,
        action=lambda uow: (201, service.create_program(uow=uow, body=body)),
    )


@router.get("", summary="programs")
def list_programs(kit: Kit, _actor: Reader, page: Pagination) -> dict[str, Any]:
    with kit.session_factory() as session:
        return paginate(
            session,
            select(Program),
            key=Program.id,
            params=page,
            to_item=lambda p: service.program_json(service.load_program(session, p.id)),
        )


@router.get("/{program_id}", summary="a program with its indicators, targets and baseline")
def get_program(program_id: ProgramId, kit: Kit, _actor: Reader) -> dict[str, Any]:
    with kit.session_factory() as session:
        return service.program_json(service.load_program(session, program_id))


@router.put(
    "/{program_id}",
    summary="rename a program or change its targets (admin)",
    description="Only the fields given change; each listed indicator must belong to the program.",
)
def update_program(program_id: ProgramId, body: ProgramUpdate, kit: Kit, actor: AdminOnly) -> dict[str, Any]:
    with kit.uow(actor) as uow:
        answer = service.update_program(uow=uow, program_id=program_id, body=body)
        uow.commit()
    return answer


@router.put(
    "/{program_id}/baselines/{year}",
    summary="set the values of the year before the program's first (admin)",
    description="Replaces the baseline: counts as JSON integers, money as yuan strings. "
    "Only the year before `first_year` takes a baseline (422 otherwise).",
)
def set_baseline(program_id: ProgramId, year: int, body: BaselineIn, kit: Kit, actor: AdminOnly) -> dict[str, Any]:
    with kit.uow(actor) as uow:
        answer = service.set_baseline(uow=uow, program_id=program_id, year=year, body=body)
        uow.commit()
    return answer
