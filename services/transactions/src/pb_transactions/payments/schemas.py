"""Payments received (实际到账) on a recorded deal."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

from pb_transactions.deals.schemas import DealOut, Reference, StoredMoney
from pbkit.fields import PastDate, PositiveMoney


class PaymentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    amount: PositiveMoney
    received_on: PastDate = Field(description="the day the money arrived; not before the contract date")
    reference: Reference | None = Field(
        default=None,
        description="the bank's transaction reference; one payment per reference and deal",
    )


class PaymentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    deal_id: str
    amount: StoredMoney
    received_on: date
    reference: str | None
    created_by: str
    created_at: datetime


class PaymentCreated(PaymentOut):
    deal: DealOut = Field(
        description="the deal after this payment, its received_amount and overpaid_amount included"
    )
