"""Patent endpoints: every role reads, admins register and correct."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from pb_registry.deps import ActorUow, AdminOnly, Command, Kit, NumberInPath, Pagination, Reader, Today
from pb_registry.models import Patent, PatentHistoryEntry
from pb_registry.patents import service
from pb_registry.patents.schemas import HistoryEntryOut, PatentChange, PatentFilters, PatentIn, PatentOut
from pbkit.commands import idempotent_command
from pbkit.queries import Page, paginate
from pbkit.web.links import creating

router = APIRouter(prefix="/api/v1", tags=["patents"])


@router.post(
    "/patents",
    response_model=PatentOut,
    summary="register a patent (admin)",
    description=(
        "The number's check character is verified and its type digit must agree with `type`; the number "
        "is stored and answered in its canonical form. Every owner must be a registered organization. "
        "A patent registered twice is a 409."
    ),
    **creating(
        "get_patent_api_v1_patents__number__get", "update_patent_api_v1_patents__number__patch",
        "patent_history_api_v1_patents__number__history_get", parameter="number", field="number",
    ),
)
def register_patent(body: PatentIn, _admin: AdminOnly, today: Today, command: Command) -> JSONResponse:
    return command(
        operation="patent.register",
        body=body,
        action=lambda uow, _: service.register_patent(uow=uow, data=body, today=today),
    )


_BANK_SEES_ITS_OWN_PLEDGES = (
    "A bank sees in `pledge_ids` only its own pledges (those whose pledgee is its organization); `pledged` "
    "is true while any pledge exists, whoever the pledgee. Every other role sees every pledge."
)


@router.get(
    "/patents",
    response_model=Page[PatentOut],
    summary="search patents",
    description=_BANK_SEES_ITS_OWN_PLEDGES + " `pledged=true` finds every pledged patent, for banks too.",
)
def list_patents(kit: Kit, reader: Reader, page: Pagination, filters: Annotated[PatentFilters, Query()]) -> dict[str, Any]:
    stmt = service.patents_query(**filters.model_dump(), scope=reader.prefecture_code)
    with kit.read_session() as session:
        return paginate(
            session, stmt, key=Patent.number, params=page, to_item=lambda patent: service.patent_seen_by(reader, patent)
        )


@router.get(
    "/patents/{number}",
    response_model=PatentOut,
    summary="one patent, by any accepted form of its number",
    description=_BANK_SEES_ITS_OWN_PLEDGES,
)
def get_patent(number: NumberInPath, kit: Kit, reader: Reader) -> PatentOut:
    with kit.read_session() as session:
        return service.patent_seen_by(
            reader, service.get_patent(session=session, number=number, scope=reader.prefecture_code)
        )


@router.patch(
    "/patents/{number}",
    response_model=PatentOut,
    summary="correct a patent's title, status, grant date or IPC (admin)",
    description="Owners, licensees and pledges are not changed here: they follow recorded deals and pledges.",
)
def update_patent(number: NumberInPath, body: PatentChange, _admin: AdminOnly, today: Today, uow: ActorUow) -> Any:
    # A PATCH documents no Idempotency-Key: sending the same correction again changes nothing more.
    return idempotent_command(
        uow,
        key=None,
        operation="patent.update",
        body={"number": number, "change": body},
        action=lambda uow, _: service.update_patent(uow=uow, number=number, change=body, today=today),
    )


@router.get(
    "/patents/{number}/history",
    response_model=Page[HistoryEntryOut],
    summary="the chain of title: registration, ownership changes, licences, pledges, in order",
    description=(
        "Every entry, for every role. A bank sees its own pledges in full; in an entry of another bank's pledge "
        "(`pledge_registered`, `pledge_released`) `details.pledge_id`, `details.pledgee_id` and `cause.event_id` "
        "are null, so it sees when the patent was pledged and released, not by or to whom."
    ),
)
def patent_history(number: NumberInPath, kit: Kit, reader: Reader, page: Pagination) -> dict[str, Any]:
    with kit.read_session() as session:
        service.get_patent(session=session, number=number, scope=reader.prefecture_code)
        return paginate(
            session, service.history_query(number), key=PatentHistoryEntry.id, params=page,
            to_item=lambda entry: service.history_entry_seen_by(reader, entry),
        )
