"""The deal as readers and consumers see it: the API representation and the event payload (docs/EVENTS.md)."""

from __future__ import annotations

from typing import Any

from pb_transactions.deals.schemas import DealOut
from pb_transactions.models import Deal, DealParty
from pbkit.money import format_money
from pbkit.parties import PartySnapshot
from pbkit.uow import UnitOfWork

AGGREGATE = "deal"
SUBMITTED = "pb.deal.submitted.v1"
RECORDED = "pb.deal.recorded.v1"
PAYMENT_RECEIVED = "pb.deal.payment_received.v1"
CANCELLED = "pb.deal.cancelled.v1"

# docs/EVENTS.md: every deal event carries the whole deal, so any single one is enough for a consumer.
_EVENT_FIELDS = (
    "kind", "license_type", "patent_numbers", "patent_count", "transferors", "transferee",
    "contract_date", "contract_amount", "pledgee_consent", "external_ref", "status", "recorded_on",
    "recordation_no", "was_recorded", "cancelled_on", "cancel_reason", "received_amount", "created_by",
)


def deal_out(deal: Deal) -> DealOut:
    return DealOut(
        id=deal.id,
        kind=deal.kind,
        license_type=deal.license_type,
        patent_numbers=deal.patent_numbers,
        patent_count=len(deal.patents),
        transferor_ids=deal.transferor_ids,
        transferee_id=deal.transferee_id,
        transferors=[_snapshot(p) for p in deal.transferors],
        transferee=_snapshot(deal.transferee),
        contract_date=deal.contract_date,
        contract_amount=format_money(deal.contract_amount_fen),
        pledgee_consent=deal.pledgee_consent,
        external_ref=deal.external_ref,
        status=deal.status,
        recorded_on=deal.recorded_on,
        recordation_no=deal.recordation_no,
        was_recorded=deal.was_recorded,
        cancelled_on=deal.cancelled_on,
        cancel_reason=deal.cancel_reason,
        received_amount=format_money(deal.received_amount_fen),
        created_by=deal.created_by,
        created_at=deal.created_at,
        updated_at=deal.updated_at,
    )


def deal_json(deal: Deal) -> dict[str, Any]:
    return deal_out(deal).model_dump(mode="json")


def _snapshot(party: DealParty) -> PartySnapshot:
    return PartySnapshot.model_validate(party, from_attributes=True)


def emit_deal_event(uow: UnitOfWork, deal: Deal, event_type: str, **extra: Any) -> None:
    """Put the event into the outbox of this unit of work; the relay publishes it after the commit."""
    state = deal_out(deal).model_dump(mode="json", include=set(_EVENT_FIELDS))
    data = {"deal_id": deal.id, **{name: state[name] for name in _EVENT_FIELDS}, **extra}
    uow.emit(event_type=event_type, aggregate_type=AGGREGATE, aggregate_id=deal.id, data=data)
