"""Deal events → owners and licensees.

A deal is in force while it is recorded and not cancelled. Every deal event carries the whole deal,
so the event with the highest `sequence` tells whether it is in force; older ones change nothing.
Each patent of the deal then has an effect that is applied or not: a transfer or equity contribution
makes the transferee the sole owner (undone: the transferors again), a licence adds its licensee.

Deals are keyed by deal id, so two deals' events can arrive in either order. A transfer is applied
only while the patent's owners are its transferors, and undone only while they are its transferee;
otherwise it waits, and every change of a patent's owners retries the effects waiting on it. So a
chain of transfers reaches the same owners whatever order its events arrive in.
"""

from __future__ import annotations

import logging

from sqlalchemy import select
from sqlalchemy.orm import Session

from pb_registry.models import DealEffect, DealReaction, Organization, Patent
from pb_registry.patents.service import Cause
from pb_registry.patents.title import add_licence, change_owners, remove_licence
from pb_registry.reactions.payloads import DealState, UnknownReference
from pbkit.events import Event
from pbkit.uow import UnitOfWork

log = logging.getLogger(__name__)


def react_to_deal(uow: UnitOfWork, event: Event) -> None:
    deal = DealState.model_validate(event.data)
    session = uow.session
    reaction = session.get(DealReaction, deal.deal_id, with_for_update=True)
    if reaction is not None and event.sequence <= reaction.last_sequence:
        return
    in_force = deal.status == "recorded"
    if reaction is None:
        reaction = _new_reaction(session, deal)
    if reaction.cause_event_id is None or reaction.in_force != in_force:
        reaction.cause_event_id, reaction.cause_event_type = event.id, event.type
    reaction.in_force = in_force
    reaction.last_sequence = event.sequence
    reaction.recorded_on = deal.recorded_on
    reaction.cancelled_on = deal.cancelled_on
    session.flush()
    for number in sorted(effect.number for effect in reaction.effects):  # one lock order across consumers
        settle(uow, number)


def settle(uow: UnitOfWork, number: str) -> None:
    """Apply or undo every effect on the patent that differs from its deal, as far as its owners allow."""
    session = uow.session
    patent = session.get(Patent, number, with_for_update=True)
    progressed = True
    while progressed:
        progressed = False
        for effect in _unsettled(session, number):
            progressed |= _settle_effect(uow, patent, effect)
    for effect in _unsettled(session, number):
        log.info(
            "deal %s waits to %s patent %s: its owners are %s",
            effect.deal_id,
            "apply to" if effect.deal.in_force else "undo on",
            number,
            patent.owner_ids,
        )


def _unsettled(session: Session, number: str) -> list[DealEffect]:
    return list(
        session.scalars(
            select(DealEffect)
            .join(DealReaction)
            .where(DealEffect.number == number, DealEffect.applied != DealReaction.in_force)
            .order_by(DealEffect.deal_id)
        )
    )


def _settle_effect(uow: UnitOfWork, patent: Patent, effect: DealEffect) -> bool:
    deal = effect.deal
    cause = Cause(deal.cause_event_id, deal.cause_event_type)
    if deal.kind == "license":
        if deal.in_force:
            add_licence(
                uow=uow,
                patent=patent,
                deal_id=deal.deal_id,
                licensee_id=deal.transferee_id,
                license_type=deal.license_type,
                recorded_on=deal.recorded_on,
                cause=cause,
            )
        else:
            remove_licence(uow=uow, patent=patent, deal_id=deal.deal_id, cancelled_on=deal.cancelled_on, cause=cause)
    else:
        owners = set(patent.owner_ids)
        expected = set(deal.transferor_ids) if deal.in_force else {deal.transferee_id}
        if owners != expected:
            return False
        change_owners(
            uow=uow,
            patent=patent,
            owner_ids=[deal.transferee_id] if deal.in_force else list(deal.transferor_ids),
            effective_on=deal.recorded_on if deal.in_force else deal.cancelled_on,
            cause=cause,
            deal_id=deal.deal_id,
            reverted=not deal.in_force,
        )
    effect.applied = deal.in_force
    uow.session.flush()
    return True


def _new_reaction(session: Session, deal: DealState) -> DealReaction:
    numbers = list(dict.fromkeys(deal.patent_numbers))
    missing = [n for n in numbers if session.get(Patent, n) is None]
    if missing:
        raise UnknownReference(f"deal {deal.deal_id} names patents the registry does not have: {', '.join(missing)}")
    org_ids = {deal.transferee.org_id, *(t.org_id for t in deal.transferors)}
    known = set(session.scalars(select(Organization.id).where(Organization.id.in_(org_ids))))
    if org_ids - known:
        raise UnknownReference(f"deal {deal.deal_id} names unknown organizations: {', '.join(sorted(org_ids - known))}")
    reaction = DealReaction(
        deal_id=deal.deal_id,
        kind=deal.kind,
        license_type=deal.license_type,
        transferor_ids=[t.org_id for t in deal.transferors],
        transferee_id=deal.transferee.org_id,
        last_sequence=0,
        in_force=False,
        effects=[DealEffect(number=number, applied=False) for number in numbers],
    )
    session.add(reaction)
    return reaction
