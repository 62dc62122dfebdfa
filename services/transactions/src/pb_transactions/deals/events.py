"""The deal events' payload (docs/EVENTS.md): every deal event carries the whole deal."""

from __future__ import annotations

from typing import Any

from pb_transactions.deals.schemas import DealOut
from pb_transactions.models import Deal
from pbkit.uow import Emission, UnitOfWork

AGGREGATE = "deal"

# docs/EVENTS.md: every deal event carries the whole deal, so any single one is enough for a consumer.
_EVENT_FIELDS = (
    "kind", "license_type", "patent_numbers", "patent_count", "transferors", "transferee",
    "contract_date", "contract_amount", "pledgee_consent", "external_ref", "status", "recorded_on",
    "recordation_no", "was_recorded", "cancelled_on", "cancel_reason", "received_amount", "created_by",
    "term_start", "term_end",
)


def emit_deal_event(uow: UnitOfWork, deal: Deal, event_type: str, **extra: Any) -> None:
    """Put the event into the outbox of this unit of work; the relay publishes it after the commit."""
    uow.emit_all([deal_emission(DealOut.model_validate(deal), event_type, **extra)])


def deal_emission(deal: DealOut, event_type: str, **extra: Any) -> Emission:
    """The event of `deal` as it stands (the answer read from its row), to emit (`UnitOfWork.emit_all`)."""
    state = deal.model_dump(mode="json", include=set(_EVENT_FIELDS))
    data = {"deal_id": deal.id, **{name: state[name] for name in _EVENT_FIELDS}, **extra}
    return Emission(event_type, AGGREGATE, deal.id, data)
