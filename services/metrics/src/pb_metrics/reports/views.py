"""/api/v1/programs/{id}/report: the progress table as a download."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response

from pb_metrics.deps import Kit, ProgramId, Reader, Today, Year, consistent_read
from pb_metrics.programs.service import load_program
from pb_metrics.progress.service import progress
from pb_metrics.reports.service import to_csv, to_xlsx

router = APIRouter(prefix="/api/v1/programs", tags=["reports"])

MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


@router.get(
    "/{program_id}/report",
    summary="the year's progress table with Chinese headings, as CSV or Excel",
    description="Amounts are exact in both formats. In the workbook a figure of more than 15 significant "
    "digits, more than an Excel number holds, is a text cell with the exact figure, as the CSV writes it.",
    response_class=Response,
    responses={200: {"content": {t: {} for t in MEDIA_TYPES.values()}}},
)
def report(
    program_id: ProgramId,
    kit: Kit,
    _actor: Reader,
    year: Year,
    today: Today,
    format: Annotated[Literal["csv", "xlsx"], Query()] = "csv",  # noqa: A002 - the contract's parameter name
) -> Response:
    with consistent_read(kit) as session:
        answer = progress(session, load_program(session, program_id), year=year, today=today)
    content = to_csv(answer) if format == "csv" else to_xlsx(answer)
    return Response(
        content,
        media_type=MEDIA_TYPES[format],
        headers={"Content-Disposition": f'attachment; filename="{program_id}-{year}-progress.{format}"'},
    )
