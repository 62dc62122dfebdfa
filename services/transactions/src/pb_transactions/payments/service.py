"""Payments: money received on a recorded deal, added to the deal's received amount."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from pb_transactions.deals.events import PAYMENT_RECEIVED, deal_json, emit_deal_event
from pb_transactions.deals.service import UowFactory, visible_deal
from pb_transactions.models import Payment
from pb_transactions.payments.schemas import PaymentIn, PaymentOut
from pbkit.context import Actor
from pbkit.ids import new_id
from pbkit.money import format_money
from pbkit.uow import UnitOfWork
from pbkit.web.idempotency import Outcome, run_idempotent
from pbkit.web.pagination import PageParams, paginate
from pbkit.web.problems import Conflict, Unprocessable

RECEIVE = "deal.payment"


def receive(*, uow_factory: UowFactory, deal_id: str, body: PaymentIn, key: str | None) -> Outcome:
    return run_idempotent(
        uow_factory, key=key, operation=RECEIVE, body={"deal_id": deal_id, "payment": body},
        action=lambda uow: (201, _receive(uow, deal_id=deal_id, body=body)),
    )


def _receive(uow: UnitOfWork, *, deal_id: str, body: PaymentIn) -> dict[str, Any]:
    deal = visible_deal(uow.session, actor=uow.actor, deal_id=deal_id, for_update=True)
    if body.received_on < deal.contract_date:
        raise Unprocessable.field(["body", "received_on"], f"received_on is before the contract date {deal.contract_date}")
    if deal.status != "recorded":
        raise Conflict(f"deal {deal_id} is {deal.status}; payments are taken on recorded deals only")
    if body.reference is not None and uow.session.scalars(
        select(Payment.id).where(Payment.deal_id == deal_id, Payment.reference == body.reference)
    ).first():
        raise Conflict(f"a payment with reference {body.reference!r} is already recorded on deal {deal_id}")
    payment = Payment(
        id=new_id(),
        deal_id=deal.id,
        amount_fen=body.amount,
        received_on=body.received_on,
        reference=body.reference,
        created_by=uow.actor.client_id,
        created_at=datetime.now(UTC),
    )
    uow.session.add(payment)
    deal.received_amount_fen += body.amount
    deal.updated_at = payment.created_at
    out = payment_out(payment)
    emit_deal_event(uow, deal, PAYMENT_RECEIVED, payment={
        "payment_id": payment.id,
        "amount": out["amount"],
        "received_on": out["received_on"],
        "reference": payment.reference,
    })
    uow.audit(RECEIVE, target_type="deal", target_id=deal.id,
              details={"payment_id": payment.id, "amount": out["amount"], "received_on": out["received_on"]})
    return {**out, "deal": deal_json(deal)}


def payment_out(payment: Payment) -> dict[str, Any]:
    return PaymentOut(
        id=payment.id,
        deal_id=payment.deal_id,
        amount=format_money(payment.amount_fen),
        received_on=payment.received_on,
        reference=payment.reference,
        created_by=payment.created_by,
        created_at=payment.created_at,
    ).model_dump(mode="json")


def list_payments(*, session: Session, actor: Actor, deal_id: str, page: PageParams) -> dict[str, Any]:
    visible_deal(session, actor=actor, deal_id=deal_id)
    stmt = select(Payment).where(Payment.deal_id == deal_id)
    return paginate(session, stmt, key=Payment.id, params=page, to_item=payment_out)
