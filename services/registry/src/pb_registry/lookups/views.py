"""`POST /api/v1/lookups`: what a submission names, asked in one round trip by the other services."""

from __future__ import annotations

from fastapi import APIRouter

from pb_registry.deps import Kit, Reader
from pb_registry.lookups import service
from pb_registry.lookups.schemas import LookupIn, LookupOut

router = APIRouter(prefix="/api/v1", tags=["lookups"])


@router.post(
    "/lookups",
    response_model=LookupOut,
    summary="many organizations and patents at once (any role; what a deal, pledge or filing names)",
    description=(
        "Reads only: each organization and patent as its own GET answers it to this caller (a bank sees in "
        "`pledge_ids` only its own pledges), and null for one the registry does not know. Up to 5,000 of each. "
        "The transactions, pledge and product-filing services check a submission with one such call."
    ),
)
def look_up(body: LookupIn, kit: Kit, reader: Reader) -> LookupOut:
    with kit.read_session() as session:
        return service.look_up(session=session, reader=reader, request=body)
