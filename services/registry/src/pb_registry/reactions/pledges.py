"""Pledge events → the `pledged` flag and `pledge_ids` of each pledged patent.

A pledge is in force while registered and not released; the event with the highest `sequence`
tells which, so a `released` seen before its `registered` leaves the patent unpledged.
"""

from __future__ import annotations

from pb_registry.models import Patent, PledgeReaction
from pb_registry.patents.service import Cause
from pb_registry.patents.title import add_pledge, remove_pledge
from pb_registry.reactions.payloads import PledgeState, UnknownReference
from pbkit.events import Event
from pbkit.uow import UnitOfWork


def react_to_pledge(uow: UnitOfWork, event: Event) -> None:
    pledge = PledgeState.model_validate(event.data)
    session = uow.session
    reaction = session.get(PledgeReaction, pledge.pledge_id, with_for_update=True)
    if reaction is not None and event.sequence <= reaction.last_sequence:
        return
    numbers = sorted(set(pledge.patent_numbers))  # one lock order across consumers
    patents = {number: session.get(Patent, number, with_for_update=True) for number in numbers}
    missing = [number for number, patent in patents.items() if patent is None]
    if missing:
        raise UnknownReference(f"pledge {pledge.pledge_id} names patents the registry does not have: {', '.join(missing)}")
    if reaction is None:
        reaction = PledgeReaction(pledge_id=pledge.pledge_id, patent_numbers=numbers)
        session.add(reaction)
    reaction.last_sequence = event.sequence
    reaction.in_force = pledge.status == "registered"
    cause = Cause(event.id, event.type)
    for patent in patents.values():
        pledged_here = pledge.pledge_id in patent.pledge_ids
        if reaction.in_force and not pledged_here:
            add_pledge(
                uow=uow,
                patent=patent,
                pledge_id=pledge.pledge_id,
                pledgee_id=pledge.pledgee.org_id if pledge.pledgee else None,
                registered_on=pledge.registered_on,
                cause=cause,
            )
        elif not reaction.in_force and pledged_here:
            remove_pledge(uow=uow, patent=patent, pledge_id=pledge.pledge_id, released_on=pledge.released_on, cause=cause)
