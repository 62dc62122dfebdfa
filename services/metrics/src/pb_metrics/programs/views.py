"""/api/v1/programs: programs, their targets and baselines."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import select

from pb_metrics.deps import ActorUow, AdminOnly, BaselineYear, Command, Kit, Pagination, ProgramId, ScopedReader
from pb_metrics.models import Program
from pb_metrics.programs import service
from pb_metrics.programs.schemas import BaselineIn, ProgramIn, ProgramUpdate
from pbkit.commands import idempotent_command
from pbkit.queries import paginate
from pbkit.web.links import creating

router = APIRouter(prefix="/api/v1/programs", tags=["programs"])


@router.post("", summary="create a program from indicators of the catalog (admin)", **creating(
    "get_program_api_v1_programs__program_id__get", "update_program_api_v1_programs__program_id__put",
    "set_baseline_api_v1_programs__program_id__baselines__year__put",
    "get_progress_api_v1_programs__program_id__progress_get",
    "get_breakdown_api_v1_programs__program_id__progress__indicator_id__breakdown_get",
    "report_api_v1_programs__program_id__report_get", parameter="program_id",
))
def create_program(body: ProgramIn, _admin: AdminOnly, command: Command) -> JSONResponse:
    return command(
        operation="program.create",
        body=body,
        action=lambda uow, _checked: service.create_program(uow=uow, body=body),
    )


@router.get("", summary="programs")
def list_programs(kit: Kit, _actor: ScopedReader, page: Pagination) -> dict[str, Any]:
    with kit.read_session() as session:
        return paginate(
            session,
            select(Program),
            key=Program.id,
            params=page,
            to_item=lambda p: service.program_answer(session, p.id).model_dump(mode="json"),
        )


@router.get("/{program_id}", summary="a program with its indicators, targets and baseline")
def get_program(program_id: ProgramId, kit: Kit, _actor: ScopedReader) -> dict[str, Any]:
    with kit.read_session() as session:
        return service.program_answer(session, program_id).model_dump(mode="json")


# A PUT replaces what it names, so a retry changes nothing more: no Idempotency-Key; one commit all the same.
@router.put(
    "/{program_id}",
    summary="rename a program or change its targets (admin)",
    description="Only the fields given change; each listed indicator must belong to the program.",
)
def update_program(
    program_id: ProgramId, body: ProgramUpdate, _admin: AdminOnly, units_of_work: ActorUow
) -> dict[str, Any]:
    return idempotent_command(
        units_of_work,
        key=None,
        operation="program.update",
        body=body,
        action=lambda uow, _checked: service.update_program(uow=uow, program_id=program_id, body=body),
    )


@router.put(
    "/{program_id}/baselines/{year}",
    summary="set the values of the year before the program's first (admin)",
    description="Replaces the baseline: counts as JSON integers, money as yuan strings. "
    "Only the year before `first_year` takes a baseline (422 otherwise).",
)
def set_baseline(
    program_id: ProgramId, year: BaselineYear, body: BaselineIn, _admin: AdminOnly, units_of_work: ActorUow
) -> dict[str, Any]:
    return idempotent_command(
        units_of_work,
        key=None,
        operation="program.baseline.set",
        body=body,
        action=lambda uow, _checked: service.set_baseline(uow=uow, program_id=program_id, year=year, body=body),
    )
