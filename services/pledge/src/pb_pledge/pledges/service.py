"""The pledge rules (专利权质押登记, CNIPA announcement No. 461): who may pledge what, for how long, and once.

Registration is refused when the pledgor does not own a patent, the patent is
not in force, a co-owner has not consented, the debt term runs past the
patent's expiry, or the patent is already under an active pledge. That last
rule is this service's own: it is held by the `active_pledge_patents`
primary key, not by the registry's `pledged` flag (which follows our events
and may lag behind a release).

Registration is a command of two steps (`pbkit.commands`): the precheck
`check_registration` asks the registry before the unit of work opens, so no
transaction waits on the network; the action `register_pledge` then only
checks this service's own table, writes, emits and audits. Release is an
action alone (`release_pledge`): everything it needs is this service's own.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Select, delete, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from pb_pledge.events import PLEDGE_REGISTERED, PLEDGE_RELEASED
from pb_pledge.models import ActivePledgePatent, Pledge, PledgedPatent
from pb_pledge.pledges.patent_terms import last_day_of_protection
from pb_pledge.pledges.schemas import PledgeIn, PledgeOut, PledgeStatus, ReleaseIn
from pbkit.context import Actor
from pbkit.errors import Conflict, Forbidden, NotFound, RuleBroken
from pbkit.events import utcnow
from pbkit.ids import new_id
from pbkit.money import format_money
from pbkit.parties import party_snapshot
from pbkit.queries import at_least, at_most, equals, where_given
from pbkit.registry_client import RegistryLookups
from pbkit.uow import UnitOfWork

AGGREGATE = "pledge"
REGISTERED = "registered"
RELEASED = "released"
# What an event carries beside `pledge_id` (docs/EVENTS.md), in this order.
_EVENT_FIELDS = (
    "status", "pledgor", "pledgee", "patent_numbers", "amount", "registered_on", "term_start", "term_end",
    "registration_no", "released_on", "co_owner_consent",
)


@dataclass(frozen=True)
class Parties:
    """The pledge's parties as the registry described them at registration (`pbkit.parties` snapshots)."""

    pledgee_id: str
    pledgee: dict[str, Any]
    pledgor: dict[str, Any]


def check_registration(*, actor: Actor, registry: RegistryLookups, body: PledgeIn) -> Parties:
    """The precheck: the pledge against the registry, asked with the caller's own token, before the unit of work
    opens. Forbidden or RuleBroken when it cannot be registered, Unavailable when the registry cannot be reached."""
    pledgee_id = _pledgee_id(actor, body)
    errors: list[dict[str, Any]] = []
    pledgee = _pledgee_snapshot(registry, actor, pledgee_id, errors)
    pledgor = _pledgor_snapshot(registry, body, pledgee_id, errors)
    _check_patents(registry, body, errors)
    if errors:
        raise RuleBroken("the pledge cannot be registered: " + "; ".join(e["msg"] for e in errors), errors=errors)
    return Parties(pledgee_id=pledgee_id, pledgee=pledgee, pledgor=pledgor)


def register_pledge(*, uow: UnitOfWork, body: PledgeIn, parties: Parties) -> PledgeOut:
    """The action: register a pledge that passed `check_registration`, unless a patent is already under an active
    pledge (Conflict)."""
    _refuse_patents_under_active_pledge(uow.session, body.patent_numbers)

    pledge = Pledge(
        id=new_id(),
        status=REGISTERED,
        pledgor_id=body.pledgor_id,
        pledgee_id=parties.pledgee_id,
        pledgor=parties.pledgor,
        pledgee=parties.pledgee,
        amount_fen=body.amount,
        registered_on=body.registered_on,
        term_start=body.term_start,
        term_end=body.term_end,
        registration_no=body.registration_no,
        co_owner_consent=body.co_owner_consent,
        released_on=None,
        created_by=uow.actor.client_id,
        created_at=utcnow(),
        patents=[PledgedPatent(patent_number=n, position=i) for i, n in enumerate(body.patent_numbers)],
    )
    uow.session.add(pledge)
    uow.session.flush()
    _hold_patents(uow.session, pledge)
    uow.emit(event_type=PLEDGE_REGISTERED, aggregate_type=AGGREGATE, aggregate_id=pledge.id, data=event_data(pledge))
    uow.audit(
        "pledge.register",
        target_type=AGGREGATE,
        target_id=pledge.id,
        details={
            "pledgor_id": pledge.pledgor_id,
            "pledgee_id": pledge.pledgee_id,
            "patent_numbers": pledge.patent_numbers,
            "amount": format_money(pledge.amount_fen),
            "registered_on": pledge.registered_on,
        },
    )
    return PledgeOut.model_validate(pledge)


def release_pledge(*, uow: UnitOfWork, pledge_id: str, body: ReleaseIn) -> PledgeOut:
    """Release (注销) a registered pledge: its patents may be pledged again."""
    pledge = find_visible_pledge(session=uow.session, actor=uow.actor, pledge_id=pledge_id, for_update=True)
    if pledge.status != REGISTERED:
        raise Conflict(f"pledge {pledge.id} was already released on {pledge.released_on.isoformat()}")
    if body.released_on < pledge.registered_on:
        raise RuleBroken.field(
            ["body", "released_on"], f"released_on must not be before registered_on ({pledge.registered_on.isoformat()})"
        )
    pledge.status = RELEASED
    pledge.released_on = body.released_on
    uow.session.execute(delete(ActivePledgePatent).where(ActivePledgePatent.pledge_id == pledge.id))
    uow.emit(event_type=PLEDGE_RELEASED, aggregate_type=AGGREGATE, aggregate_id=pledge.id, data=event_data(pledge))
    uow.audit("pledge.release", target_type=AGGREGATE, target_id=pledge.id, details={"released_on": body.released_on})
    return PledgeOut.model_validate(pledge)


def find_visible_pledge(*, session: Session, actor: Actor, pledge_id: str, for_update: bool = False) -> Pledge:
    """The pledge, if this caller may know of it. Another bank's pledge is "not found", never "forbidden"."""
    pledge = session.get(Pledge, pledge_id, with_for_update=for_update)
    if pledge is None or (actor.role == "bank" and pledge.pledgee_id != actor.org_id):
        raise NotFound(f"no pledge {pledge_id}")
    return pledge


def visible_pledges(
    *,
    actor: Actor,
    status: PledgeStatus | None = None,
    pledgor_id: str | None = None,
    registered_from: date | None = None,
    registered_to: date | None = None,
) -> Select:
    """The pledges this caller may see, narrowed by the filters it gave. A bank's own scope comes first: the
    filters narrow it, never widen it."""
    stmt = select(Pledge)
    if actor.role == "bank":
        stmt = stmt.where(Pledge.pledgee_id == actor.org_id)
    return where_given(
        stmt,
        (status, equals(Pledge.status)),
        (pledgor_id, equals(Pledge.pledgor_id)),
        (registered_from, at_least(Pledge.registered_on)),
        (registered_to, at_most(Pledge.registered_on)),
    )


def event_data(pledge: Pledge) -> dict[str, Any]:
    """The whole pledge as docs/EVENTS.md fixes it (plus `co_owner_consent`, an addition), in the form a reader gets."""
    state = PledgeOut.model_validate(pledge).model_dump(mode="json", include=set(_EVENT_FIELDS))
    return {"pledge_id": pledge.id, **{name: state[name] for name in _EVENT_FIELDS}}


def _pledgee_id(actor: Actor, body: PledgeIn) -> str:
    if actor.role == "bank":
        if body.pledgee_id is not None and body.pledgee_id != actor.org_id:
            raise Forbidden("a bank registers pledges for its own organization only")
        return actor.org_id
    if body.pledgee_id is None:
        raise RuleBroken.field(["body", "pledgee_id"], "pledgee_id is required when an admin registers a pledge for a bank")
    return body.pledgee_id


def _pledgee_snapshot(
    registry: RegistryLookups, actor: Actor, pledgee_id: str, errors: list[dict[str, Any]]
) -> dict[str, Any]:
    org = registry.organization(pledgee_id)
    if org is not None and org["kind"] == "bank":
        return party_snapshot(org)
    if actor.role == "bank":
        # The client's own credential names an organization that is not a bank: not the caller's input.
        raise Forbidden(f"this client's organization {pledgee_id} is not a registered bank")
    msg = f"no organization {pledgee_id}" if org is None else f"organization {pledgee_id} is a {org['kind']}, not a bank"
    errors.append({"loc": ["body", "pledgee_id"], "msg": msg})
    return {}


def _pledgor_snapshot(
    registry: RegistryLookups, body: PledgeIn, pledgee_id: str, errors: list[dict[str, Any]]
) -> dict[str, Any]:
    if body.pledgor_id == pledgee_id:
        errors.append({"loc": ["body", "pledgor_id"], "msg": "the pledgor cannot be the pledgee bank itself"})
        return {}
    org = registry.organization(body.pledgor_id)
    if org is None:
        errors.append({"loc": ["body", "pledgor_id"], "msg": f"no organization {body.pledgor_id}"})
        return {}
    return party_snapshot(org)


def _check_patents(registry: RegistryLookups, body: PledgeIn, errors: list[dict[str, Any]]) -> None:
    for index, number in enumerate(body.patent_numbers):
        loc = ["body", "patent_numbers", index]
        patent = registry.patent(number)
        if patent is None:
            errors.append({"loc": loc, "msg": f"no patent {number} in the registry"})
            continue
        if patent["status"] != "valid":
            errors.append({"loc": loc, "msg": f"patent {number} is {patent['status']}; only a valid patent can be pledged"})
        owners = patent["owner_ids"]
        if body.pledgor_id not in owners:
            errors.append({"loc": loc, "msg": f"patent {number} is not owned by the pledgor {body.pledgor_id}"})
        elif len(owners) > 1 and not body.co_owner_consent:
            others = ", ".join(o for o in owners if o != body.pledgor_id)
            errors.append({
                "loc": loc,
                "msg": f"patent {number} is co-owned with {others}: every co-owner must consent (co_owner_consent: true)",
            })
        expires = last_day_of_protection(patent["type"], date.fromisoformat(patent["filing_date"]))
        if body.term_end > expires:
            errors.append({
                "loc": ["body", "term_end"],
                "msg": f"term_end runs past the expiry of patent {number} (in force until {expires.isoformat()})",
            })


def _refuse_patents_under_active_pledge(session: Session, numbers: list[str]) -> None:
    held = set(session.scalars(select(ActivePledgePatent.patent_number).where(ActivePledgePatent.patent_number.in_(numbers))))
    if held:
        raise _already_pledged([(i, n) for i, n in enumerate(numbers) if n in held])


def _hold_patents(session: Session, pledge: Pledge) -> None:
    # The check above loses a race with a request that commits in between; the primary key wins it, and the
    # loser is a Conflict naming the item. When the winner was the same client with the same Idempotency-Key,
    # the command helper answers that Conflict with the winner's answer instead (`pbkit.commands`).
    # Rows go in sorted order so that two pledges sharing patents wait on each other instead of deadlocking.
    numbers = pledge.patent_numbers
    for number in sorted(numbers):
        try:
            session.execute(insert(ActivePledgePatent).values(patent_number=number, pledge_id=pledge.id))
        except IntegrityError:
            raise _already_pledged([(numbers.index(number), number)]) from None


def _already_pledged(items: list[tuple[int, str]]) -> Conflict:
    listed = ", ".join(n for _, n in items)
    return Conflict(
        f"already under an active pledge: {listed}",
        errors=[{"loc": ["body", "patent_numbers", i], "msg": f"patent {n} is already under an active pledge"} for i, n in items],
    )
