"""The payments API: money received on a recorded deal (CONTRACT.md §4)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from pb_transactions.deals.views import DEAL_OPERATIONS
from pb_transactions.deps import Command, DealId, Kit, Pagination, Reader, Submitter
from pb_transactions.payments import service
from pb_transactions.payments.schemas import PaymentCreated, PaymentIn
from pbkit.web.links import creating

router = APIRouter(prefix="/api/v1", tags=["payments"])


@router.post(
    "/deals/{deal_id}/payments",
    summary="record money received on a recorded deal (the creating partner, admin)",
    description=(
        "Only on a recorded deal (409 otherwise). `amount` is more than 0.00; `received_on` is not before "
        "the contract date (422). A `reference` already used on this deal is a 409 (the same bank "
        "transfer posted twice). Payments are not capped by the contract amount (a royalty licence may "
        "bring in more): each one is accepted and counted in the deal's `received_amount`, and what "
        "exceeds the contract amount shows as the deal's `overpaid_amount`. A payment that would take the received total past what a deal "
        "holds (36 digits of yuan, out of reach of real payments) is a 409. A partner reaches only the "
        "deals it created (404 for others). Honours `Idempotency-Key`."
    ),
    **creating(*DEAL_OPERATIONS, parameter="deal_id", field="deal_id", model=PaymentCreated),
)
def receive_payment(deal_id: DealId, body: PaymentIn, _payer: Submitter, command: Command) -> JSONResponse:
    return command(
        operation=service.RECEIVE, body={"deal_id": deal_id, "payment": body},
        action=lambda uow, _: service.receive(uow, deal_id=deal_id, body=body),
    )


@router.get("/deals/{deal_id}/payments", summary="the payments of a deal, oldest first")
def list_payments(deal_id: DealId, kit: Kit, actor: Reader, page: Pagination) -> dict[str, Any]:
    with kit.read_session() as session:
        return service.list_payments(session=session, actor=actor, deal_id=deal_id, page=page)
