"""The pledge rules (专利权质押登记, CNIPA announcement No. 461): who may pledge what, for how long, and once.

Registration is refused when the pledgor does not own a patent, the patent is
not in force, a co-owner has not consented, the debt term runs past the
patent's expiry, or the patent is already under an active pledge.

`check_registration` asks the registry before any unit of work opens, so no
transaction waits on the network, and refuses early what the registry's
answers already rule out (422). It advises: the registry decides ownership
and the one active pledge again, under the patents' locks, when it is asked
to encumber them (`pledges.title`). This service's `active_pledge_patents`
primary key holds the one-active-pledge rule among its own pledges too.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Select, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from pb_pledge.models import ActivePledgePatent, Pledge
from pb_pledge.pledges.patent_terms import last_day_of_protection
from pb_pledge.pledges.schemas import PledgeIn, PledgeOut, PledgeStatus
from pbkit.context import Actor
from pbkit.errors import Conflict, Forbidden, NotFound, RuleBroken
from pbkit.parties import party_snapshot
from pbkit.queries import at_least, at_most, equals, where_given
from pbkit.registry_client import RegistryLookups

AGGREGATE = "pledge"
PENDING = "pending"  # being registered: shown to no one until the registry applied it (pledges.title)
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
    registry.prefetch(organization_ids=[pledgee_id, body.pledgor_id], patent_numbers=body.patent_numbers)
    errors: list[dict[str, Any]] = []
    pledgee = _pledgee_snapshot(registry, actor, pledgee_id, errors)
    pledgor = _pledgor_snapshot(registry, body, pledgee_id, errors)
    _check_patents(registry, body, errors)
    if errors:
        raise RuleBroken("the pledge cannot be registered: " + "; ".join(e["msg"] for e in errors), errors=errors)
    return Parties(pledgee_id=pledgee_id, pledgee=pledgee, pledgor=pledgor)


def find_visible_pledge(*, session: Session, actor: Actor, pledge_id: str, for_update: bool = False) -> Pledge:
    """The pledge, if this caller may know of it. Another bank's pledge is "not found", never "forbidden"."""
    pledge = session.get(Pledge, pledge_id, with_for_update=for_update)
    if pledge is None or pledge.status == PENDING or (actor.role == "bank" and pledge.pledgee_id != actor.org_id):
        raise NotFound(f"no pledge {pledge_id}")
    if actor.prefecture_code is not None and pledge.pledgor.get("prefecture_code") != actor.prefecture_code:
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
    stmt = select(Pledge).where(Pledge.status != PENDING)
    if actor.role == "bank":
        stmt = stmt.where(Pledge.pledgee_id == actor.org_id)
    if actor.prefecture_code is not None:
        stmt = stmt.where(Pledge.pledgor["prefecture_code"].as_string() == actor.prefecture_code)
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


def refuse_patents_under_active_pledge(session: Session, numbers: list[str]) -> None:
    held = set(session.scalars(select(ActivePledgePatent.patent_number).where(ActivePledgePatent.patent_number.in_(numbers))))
    if held:
        raise _already_pledged([(i, n) for i, n in enumerate(numbers) if n in held])


def hold_patents(session: Session, pledge: Pledge) -> None:
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
