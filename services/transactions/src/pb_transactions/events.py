"""What the transactions service publishes and consumes (CONTRACT.md §7): its event catalogue."""

from __future__ import annotations

from pbkit.events import EventCatalog

DEALS_TOPIC = "pb.transactions.deals"
DEAL_SUBMITTED = "pb.deal.submitted.v1"
DEAL_RECORDED = "pb.deal.recorded.v1"
DEAL_PAYMENT_RECEIVED = "pb.deal.payment_received.v1"
DEAL_CANCELLED = "pb.deal.cancelled.v1"

EVENTS = EventCatalog(
    publishes={DEALS_TOPIC: (DEAL_SUBMITTED, DEAL_RECORDED, DEAL_PAYMENT_RECEIVED, DEAL_CANCELLED)},
    consumes=(),
)
