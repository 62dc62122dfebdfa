"""Payments: money received on a recorded deal, added to the deal's received amount."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from pb_transactions.deals.events import emit_deal_event
from pb_transactions.deals.service import visible_deal
from pb_transactions.events import DEAL_PAYMENT_RECEIVED
from pb_transactions.models import MAX_TOTAL_FEN, Payment
from pb_transactions.payments.schemas import PaymentCreated, PaymentIn, PaymentOut
from pbkit.context import Actor
from pbkit.errors import Conflict, RuleBroken
from pbkit.ids import new_id
from pbkit.money import format_money
from pbkit.queries import PageParams, paginate
from pbkit.uow import UnitOfWork

RECEIVE = "deal.payment"


def receive(uow: UnitOfWork, *, deal_id: str, body: PaymentIn) -> PaymentCreated:
    """The action of `POST /api/v1/deals/{deal_id}/payments` (nothing to ask the registry)."""
    deal = visible_deal(uow.session, actor=uow.actor, deal_id=deal_id, for_update=True)
    if body.received_on < deal.contract_date:
        raise RuleBroken.field(["body", "received_on"], f"received_on is before the contract date {deal.contract_date}")
    if deal.status != "recorded":
        raise Conflict(f"deal {deal_id} is {deal.status}; payments are taken on recorded deals only")
    if deal.received_amount_fen + body.amount > MAX_TOTAL_FEN:
        # Out of reach with amounts bounded at 10^12 yuan (10^24 payments); refused cleanly all the same.
        raise Conflict(f"deal {deal_id} cannot hold a received total above {format_money(MAX_TOTAL_FEN)}")
    if body.reference is not None and uow.session.scalars(
        select(Payment.id).where(Payment.deal_id == deal_id, Payment.reference == body.reference)
    ).first():
        raise Conflict(f"a payment with reference {body.reference!r} is already recorded on deal {deal_id}")
    payment = Payment(
        id=new_id(),
        deal_id=deal.id,
        deal=deal,
        amount_fen=body.amount,
        received_on=body.received_on,
        reference=body.reference,
        created_by=uow.actor.client_id,
        created_at=datetime.now(UTC),
    )
    uow.session.add(payment)
    # Every payment counts, beyond the contract amount too (royalties): the deal shows the excess as overpaid_amount.
    deal.received_amount_fen += body.amount
    deal.updated_at = payment.created_at
    out = PaymentOut.model_validate(payment).model_dump(mode="json")
    emit_deal_event(uow, deal, DEAL_PAYMENT_RECEIVED, payment={
        "payment_id": payment.id,
        "amount": out["amount"],
        "received_on": out["received_on"],
        "reference": payment.reference,
    })
    uow.audit(RECEIVE, target_type="deal", target_id=deal.id,
              details={"payment_id": payment.id, "amount": out["amount"], "received_on": out["received_on"]})
    return PaymentCreated.model_validate(payment)


def list_payments(*, session: Session, actor: Actor, deal_id: str, page: PageParams) -> dict[str, Any]:
    visible_deal(session, actor=actor, deal_id=deal_id)
    stmt = select(Payment).where(Payment.deal_id == deal_id)
    return paginate(session, stmt, key=Payment.id, params=page, to_item=PaymentOut.model_validate)
