"""Taking an open licence (Patent Law art. 51): the licensee's written notice, and the `open` licence deal it makes
through the transactions service's public API, on the declared terms.

Two local steps around the transactions service, as a declaration goes around the registry:

1. `begin_acceptance` writes the acceptance as pending (shown to no one) in a unit of work that commits first,
   then asks the transactions service for the deal, keyed by the acceptance (`deals_client`), so that asking again
   makes no second deal;
2. a refusal (409, 422) drops the pending acceptance and is the client's answer; an unreachable service leaves it
   pending, and the client's retry of the same acceptance, or the recovery job (`recover_acceptances`), drives the
   same one again; otherwise
   `complete_acceptance` keeps the deal's id, in the command helper's unit of work, with its event.

The deal is submitted, not recorded: recording follows the normal path (the admin records it, the registry
decides), then payments, and metrics counts it as any licence.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import select

from pb_market.declarations.schemas import AcceptanceIn, AcceptanceOut, fee_out
from pb_market.declarations.service import ACTIVE, AGGREGATE, find_declaration
from pb_market.events import OPEN_LICENCE_ACCEPTED
from pb_market.models import Acceptance, OpenLicence
from pbkit.commands import UowFactory
from pbkit.context import Actor
from pbkit.errors import Conflict, RuleBroken
from pbkit.events import utcnow
from pbkit.ids import new_id
from pbkit.money import format_money
from pbkit.parties import party_snapshot
from pbkit.registry_client import RegistryLookups
from pbkit.uow import UnitOfWork

PENDING, ACCEPTED = "pending", "accepted"
SME_SIZES = ("micro", "small", "medium")
DealMaker = Callable[[str, dict[str, Any]], dict[str, Any]]
"""(acceptance id, deal body) → the deal the transactions service holds for it."""


def check_licensee(*, registry: RegistryLookups, body: AcceptanceIn) -> dict[str, Any]:
    """The precheck: the licensee is a registered SME. Its snapshot, or RuleBroken."""
    org = registry.organization(body.licensee_id)
    loc = ["body", "licensee_id"]
    if org is None:
        raise RuleBroken.field(loc, f"no organization {body.licensee_id} in the registry")
    if org["kind"] != "enterprise" or org.get("size") not in SME_SIZES:
        raise RuleBroken.field(loc, f"{org['name']} is not an SME (an enterprise of size micro, small or medium)")
    return party_snapshot(org)


def term_end(start: date, years: int) -> date:
    """The last day of a term of `years` years from `start`."""
    try:
        anniversary = start.replace(year=start.year + years)
    except ValueError:  # 29 February, in a year that has none
        anniversary = start.replace(year=start.year + years, day=28) + timedelta(days=1)
    return anniversary - timedelta(days=1)


def begin_acceptance(*, uow_factory: UowFactory, make_deal: DealMaker, declaration_id: str, body: AcceptanceIn,
                     licensee: dict[str, Any], today: date) -> tuple[str, dict[str, Any]]:
    accepted_on = body.accepted_on or today
    with uow_factory() as uow:
        declaration = find_declaration(uow.session, declaration_id, for_update=True)
        _refuse_unless_open(declaration, body, accepted_on)
        acceptance = _own_pending(uow, declaration_id, body.licensee_id, accepted_on) or _pending(
            uow, declaration, body.licensee_id, licensee, accepted_on)
        acceptance_id, deal = acceptance.id, _deal_body(declaration, acceptance)
        uow.commit()
    return acceptance_id, _ask(uow_factory, make_deal, acceptance_id, deal)


def _ask(uow_factory: UowFactory, make_deal: DealMaker, acceptance_id: str, deal: dict[str, Any]) -> dict[str, Any]:
    """The deal of the acceptance; a refusal drops the pending acceptance (nothing of it stays) and is raised."""
    try:
        return make_deal(acceptance_id, deal)
    except (Conflict, RuleBroken) as refusal:
        with uow_factory() as uow:
            pending = uow.session.get(Acceptance, acceptance_id, with_for_update=True)
            if pending is not None and pending.status == PENDING:
                uow.session.delete(pending)
                uow.audit("open_licence.accept.refused", target_type=AGGREGATE, target_id=pending.declaration_id,
                          details={"acceptance_id": acceptance_id, "reason": refusal.detail})
            uow.commit()
        raise


def recover_acceptances(*, uow_factory: UowFactory, make_deal: DealMaker, older_than: timedelta, limit: int = 100) -> int:
    """One round of recovery: each acceptance left pending longer than `older_than` (the transactions service was
    unreachable, or the answer was lost), oldest first, asks for its deal again (found by its reference if it was
    made) and completes it, or drops it when refused. `make_deal` acts with this service's own credential, an admin,
    who finds the deal whoever made it. Unavailable ends the round. Returns how many were stale."""
    cutoff = datetime.now(UTC) - older_than
    with uow_factory() as uow:
        stale = [(a.id, _deal_body(uow.session.get(OpenLicence, a.declaration_id), a)) for a in uow.session.scalars(
            select(Acceptance).where(Acceptance.status == PENDING, Acceptance.created_at < cutoff)
            .order_by(Acceptance.created_at).limit(limit))]
    for acceptance_id, deal in stale:
        try:
            made = _ask(uow_factory, make_deal, acceptance_id, deal)
        except (Conflict, RuleBroken):
            continue
        with uow_factory() as uow:
            complete_acceptance(uow, acceptance_id, made)
            uow.commit()
    return len(stale)


def complete_acceptance(uow: UnitOfWork, acceptance_id: str, deal: dict[str, Any]) -> AcceptanceOut:
    acceptance = uow.session.get(Acceptance, acceptance_id, with_for_update=True)
    if acceptance is None:
        raise Conflict("the acceptance was not begun, or its deal was refused meanwhile")
    declaration = uow.session.get(OpenLicence, acceptance.declaration_id)
    if acceptance.status == PENDING:
        acceptance.status, acceptance.deal_id = ACCEPTED, deal["id"]
        out = acceptance_out(acceptance, declaration)
        uow.emit(event_type=OPEN_LICENCE_ACCEPTED, aggregate_type=AGGREGATE, aggregate_id=declaration.id,
                 data={**out.model_dump(mode="json", exclude={"created_at"}), "licensee": acceptance.licensee,
                       "patent_numbers": declaration.patent_numbers, "declarant_ids": declaration.declarant_ids})
        uow.audit("open_licence.accept", target_type=AGGREGATE, target_id=declaration.id,
                  details={"acceptance_id": acceptance.id, "deal_id": deal["id"], "licensee_id": acceptance.licensee_id})
    return acceptance_out(acceptance, declaration)


def acceptance_out(acceptance: Acceptance, declaration: OpenLicence) -> AcceptanceOut:
    return AcceptanceOut(
        id=acceptance.id, declaration_id=acceptance.declaration_id, licensee_id=acceptance.licensee_id,
        accepted_on=acceptance.accepted_on, term_start=acceptance.term_start, term_end=acceptance.term_end,
        deal_id=acceptance.deal_id or "", fee_due=format_money(acceptance.due_fen), fee=fee_out(declaration),
        created_at=acceptance.created_at,
    )


def visible_acceptances(actor: Actor, declaration_id: str) -> Any:
    stmt = select(Acceptance).where(Acceptance.declaration_id == declaration_id, Acceptance.status == ACCEPTED)
    if actor.role == "partner":
        stmt = stmt.where(Acceptance.created_by == actor.client_id)
    return stmt


def _refuse_unless_open(declaration: OpenLicence, body: AcceptanceIn, accepted_on: date) -> None:
    if declaration.status != ACTIVE or declaration.pending is not None:
        state = "withdrawn" if declaration.status != ACTIVE else "being withdrawn"
        raise Conflict(f"open-licence declaration {declaration.id} is {state}: it is open to no new licensee")
    if body.licensee_id in declaration.declarant_ids:
        raise RuleBroken.field(["body", "licensee_id"], "a declarant does not take its own open licence")
    if accepted_on < declaration.declared_on:
        raise RuleBroken.field(["body", "accepted_on"],
                               f"accepted_on must not be before the declaration ({declaration.declared_on.isoformat()})")


def _own_pending(uow: UnitOfWork, declaration_id: str, licensee_id: str, accepted_on: date) -> Acceptance | None:
    """This client's acceptance of the same licence left pending (the transactions service was unreachable): it is
    driven again instead of a second one."""
    return uow.session.scalars(
        select(Acceptance).where(Acceptance.declaration_id == declaration_id, Acceptance.licensee_id == licensee_id,
                                 Acceptance.accepted_on == accepted_on, Acceptance.status == PENDING,
                                 Acceptance.created_by == uow.actor.client_id).with_for_update()
    ).first()


def _pending(uow: UnitOfWork, declaration: OpenLicence, licensee_id: str, licensee: dict[str, Any],
             accepted_on: date) -> Acceptance:
    acceptance = Acceptance(
        id=new_id(), status=PENDING, declaration_id=declaration.id, licensee_id=licensee_id, licensee=licensee,
        accepted_on=accepted_on, term_start=accepted_on, term_end=term_end(accepted_on, declaration.term_years),
        deal_id=None, due_fen=declaration.due_fen, created_by=uow.actor.client_id, created_at=utcnow(),
    )
    uow.session.add(acceptance)
    uow.session.flush()
    return acceptance


def _deal_body(declaration: OpenLicence, acceptance: Acceptance) -> dict[str, Any]:
    """An `open` licence of every declared patent, from all the declarants, on the declared terms."""
    return {
        "kind": "license", "license_type": "open", "patent_numbers": declaration.patent_numbers,
        "transferor_ids": declaration.declarant_ids, "transferee_id": acceptance.licensee_id,
        "contract_date": acceptance.accepted_on.isoformat(), "contract_amount": format_money(acceptance.due_fen),
        "term_start": acceptance.term_start.isoformat(), "term_end": acceptance.term_end.isoformat(),
        "pledgee_consent": declaration.pledgee_consent,
    }
