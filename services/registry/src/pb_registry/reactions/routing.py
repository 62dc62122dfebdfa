"""Which event types the registry reacts to, and with what (CONTRACT.md §7, docs/EVENTS.md)."""

from __future__ import annotations

from pb_registry.events import DEALS_TOPIC, PLEDGES_TOPIC
from pb_registry.reactions.deals import react_to_deal
from pb_registry.reactions.pledges import react_to_pledge
from pbkit.consumer import ConsumerSpec, Handler
from pbkit.events import Event
from pbkit.uow import UnitOfWork

# Every deal event carries the whole deal, so each of them can bring a deal in or out of force.
REACTIONS: dict[str, Handler] = {
    "pb.deal.submitted.v1": react_to_deal,
    "pb.deal.recorded.v1": react_to_deal,
    "pb.deal.payment_received.v1": react_to_deal,
    "pb.deal.cancelled.v1": react_to_deal,
    "pb.pledge.registered.v1": react_to_pledge,
    "pb.pledge.released.v1": react_to_pledge,
}


def react(uow: UnitOfWork, event: Event) -> None:
    reaction = REACTIONS.get(event.type)
    if reaction is not None:  # types added to these topics later are not the registry's business
        reaction(uow, event)


REACTIONS_CONSUMER = ConsumerSpec("registry-reactions", [DEALS_TOPIC, PLEDGES_TOPIC], react)
