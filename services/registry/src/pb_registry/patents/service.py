"""Patents: registration, corrections, reads and search; the chain of title's entries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Select, exists, select
from sqlalchemy.orm import Session, joinedload, selectinload

from pb_registry.events import PATENT_REGISTERED, PATENT_UPDATED
from pb_registry.models import (
    Organization,
    Patent,
    PatentHistoryEntry,
    PatentIPC,
    PatentLicence,
    PatentOwner,
    PatentPledge,
)
from pb_registry.patents.schemas import HistoryEntryOut, PatentChange, PatentIn, PatentOut, PatentPayload
from pbkit.context import Actor
from pbkit.domain import parse_patent_number
from pbkit.errors import Conflict, NotFound, RuleBroken
from pbkit.events import utcnow
from pbkit.ids import new_id
from pbkit.queries import equals, where_given
from pbkit.uow import UnitOfWork

AGGREGATE = "patent"
PLEDGE_KINDS = ("pledge_registered", "pledge_released")
LOAD_ALL = (selectinload(Patent.owners), selectinload(Patent.ipc), selectinload(Patent.licences), selectinload(Patent.pledges),
            selectinload(Patent.open_declarations))
# One patent read: its few owners, IPC symbols, pledges and open-licence declarations joined into the one query,
# its licences (an open licence may have many licensees) in one more.
LOAD_ONE = (joinedload(Patent.owners), joinedload(Patent.ipc), joinedload(Patent.pledges),
            joinedload(Patent.open_declarations), selectinload(Patent.licences))


@dataclass(frozen=True)
class Cause:
    """The event that made the registry change a patent."""

    event_id: str | None
    event_type: str | None


def register_patent(*, uow: UnitOfWork, data: PatentIn, today: date) -> PatentOut:
    """The action of POST /patents: the new patent, its first chain-of-title entry, its event and audit entry."""
    errors = _check_number_and_dates(data.number, data.type, data.filing_date, data.grant_date, today=today)
    errors += _check_owners(uow.session, data.owner_ids)
    if errors:
        raise RuleBroken("invalid patent: " + "; ".join(e["msg"] for e in errors), errors=errors)
    _require_new_number(uow.session, data.number)
    now = utcnow()
    patent = Patent(
        **data.model_dump(include={"number", "title", "type", "status", "filing_date", "grant_date"}),
        created_at=now, updated_at=now,
    )
    set_owners(patent, data.owner_ids)
    _set_ipc(patent, data.ipc)
    uow.session.add(patent)
    uow.session.flush()
    event = uow.emit(event_type=PATENT_REGISTERED, aggregate_type=AGGREGATE, aggregate_id=patent.number, data=event_data(patent))
    record_history(
        uow,
        patent,
        kind="registered",
        owners_before=[],
        effective_on=data.grant_date or data.filing_date,
        details={"status": data.status},
        cause=Cause(event.id, event.type),
    )
    uow.audit("patent.register", target_type=AGGREGATE, target_id=patent.number, details=data.model_dump(mode="json"))
    return PatentOut.model_validate(patent)


def update_patent(*, uow: UnitOfWork, number: str, change: PatentChange, today: date) -> PatentOut:
    patent = get_patent(session=uow.session, number=number, for_update=True)
    given = change.model_dump(exclude_unset=True)
    if "grant_date" in given:
        errors = _check_number_and_dates(patent.number, patent.type, patent.filing_date, given["grant_date"], today=today)
        if errors:
            raise RuleBroken(errors[0]["msg"], errors=errors)
    before = event_data(patent)
    for field in ("title", "status", "grant_date"):
        if field in given:
            setattr(patent, field, given[field])
    if "ipc" in given:
        _set_ipc(patent, given["ipc"])
    after = event_data(patent)
    changed = {k: {"from": before[k], "to": after[k]} for k in after if before[k] != after[k]}
    if changed:
        patent.updated_at = utcnow()
        uow.emit(event_type=PATENT_UPDATED, aggregate_type=AGGREGATE, aggregate_id=patent.number, data=after)
        uow.audit("patent.update", target_type=AGGREGATE, target_id=patent.number, details=changed)
    return PatentOut.model_validate(patent)


def get_patent(*, session: Session, number: str, for_update: bool = False, scope: str | None = None) -> Patent:
    """The patent of a canonical number, with its owners, IPC, licences and pledges loaded; with a `scope` (a
    prefecture user's 市州), only a patent with an owner in that prefecture."""
    # FOR UPDATE cannot lock the nullable side of an outer join: a locked read loads the collections apart.
    patent = session.get(Patent, number, options=LOAD_ALL if for_update else LOAD_ONE, with_for_update=for_update)
    if patent is None or (scope is not None and session.scalar(select(_owned_in(scope, number))) is not True):
        raise NotFound(f"no patent {number}")
    return patent


def patents_query(
    *,
    owner_id: str | None = None,
    licensee_id: str | None = None,
    type: str | None = None,  # noqa: A002 - the contract's query parameter
    status: str | None = None,
    ipc: str | None = None,
    q: str | None = None,
    pledged: bool | None = None,
    scope: str | None = None,
) -> Select:
    """The patents the filters give; a `scope` (a prefecture user's 市州) narrows them to those with an owner
    registered in that prefecture."""
    has_pledge = exists().where(PatentPledge.number == Patent.number)
    return where_given(
        select(Patent).options(*LOAD_ALL),
        (scope, lambda prefecture: _owned_in(prefecture, Patent.number)),
        (owner_id, _owned_by),
        (licensee_id, _licensed_to),
        (type, equals(Patent.type)),
        (status, equals(Patent.status)),
        (ipc, _classified_under),
        (q or None, lambda part: Patent.title.contains(part, autoescape=True)),
        (pledged, lambda flagged: has_pledge if flagged else ~has_pledge),
    )


def _owned_in(prefecture_code: str, number: Any) -> ColumnElement[bool]:
    """Whether the patent `number` (a value or a column) has an owner registered in the prefecture."""
    return exists().where(
        PatentOwner.number == number,
        PatentOwner.org_id == Organization.id,
        Organization.prefecture_code == prefecture_code,
    )


def _owned_by(org_id: str) -> ColumnElement[bool]:
    return Patent.number.in_(select(PatentOwner.number).where(PatentOwner.org_id == org_id))


def _licensed_to(org_id: str) -> ColumnElement[bool]:
    return Patent.number.in_(select(PatentLicence.number).where(PatentLicence.licensee_id == org_id))


def _classified_under(ipc: str) -> ColumnElement[bool]:
    """An IPC symbol (exact), or a section, class, subclass or main group (everything under it)."""
    if "/" in ipc:
        matches = PatentIPC.symbol == ipc
    elif " " in ipc:  # a main group: its own symbols, not those of a longer group number
        matches = PatentIPC.symbol.startswith(ipc + "/", autoescape=True)
    else:
        matches = PatentIPC.symbol.startswith(ipc, autoescape=True)
    return Patent.number.in_(select(PatentIPC.number).where(matches))


def _own_pledge(actor: Actor, pledgee_id: str | None) -> bool:
    return actor.org_id is not None and pledgee_id == actor.org_id


def patent_seen_by(actor: Actor, patent: Patent) -> PatentOut:
    """The patent as `actor` may see it: a bank sees only its own pledges in `pledge_ids` (CONTRACT §3).

    `pledged` stays true while any pledge exists, so a bank still learns that the patent is encumbered.
    Every other role sees every pledge.
    """
    answer = PatentOut.model_validate(patent)
    if actor.role != "bank":
        return answer
    own = [pledge.pledge_id for pledge in patent.pledges if _own_pledge(actor, pledge.pledgee_id)]
    return answer.model_copy(update={"pledge_ids": own})


def history_entry_seen_by(actor: Actor, entry: PatentHistoryEntry) -> HistoryEntryOut:
    """A chain-of-title entry as `actor` may see it.

    A bank keeps every entry, so the chain stays whole and in order (it shows when the patent was pledged
    and released), but in an entry of another bank's pledge the pledge's and the pledgee's ids, and the id
    of the pledge event that caused it, are null.
    """
    answer = HistoryEntryOut.model_validate(entry)
    if actor.role != "bank" or entry.kind not in PLEDGE_KINDS or _own_pledge(actor, entry.details.get("pledgee_id")):
        return answer
    return answer.model_copy(
        update={
            "details": {key: None for key in entry.details},
            "cause": answer.cause.model_copy(update={"event_id": None}),
        }
    )


def history_query(number: str) -> Select:
    return select(PatentHistoryEntry).where(PatentHistoryEntry.number == number)


def event_data(patent: Patent) -> dict[str, Any]:
    """The patent as docs/EVENTS.md carries it, plus its licensees and pledges (optional additions)."""
    return PatentPayload.model_validate(patent).model_dump(mode="json")


def set_owners(patent: Patent, owner_ids: list[str]) -> None:
    current = {owner.org_id: owner for owner in patent.owners}
    patent.owners = [current.get(org_id) or PatentOwner(org_id=org_id) for org_id in owner_ids]
    for position, owner in enumerate(patent.owners):
        owner.position = position


def record_history(
    uow: UnitOfWork,
    patent: Patent,
    *,
    kind: str,
    owners_before: list[str],
    effective_on: date | None,
    details: dict[str, Any],
    cause: Cause,
) -> None:
    uow.session.add(
        PatentHistoryEntry(
            id=new_id(),
            number=patent.number,
            at=utcnow(),
            kind=kind,
            effective_on=effective_on,
            owners_before=owners_before,
            owners_after=patent.owner_ids,
            details=details,
            cause_event_id=cause.event_id,
            cause_event_type=cause.event_type,
        )
    )


def _set_ipc(patent: Patent, symbols: list[str]) -> None:
    unique = list(dict.fromkeys(symbols))
    current = {row.symbol: row for row in patent.ipc}
    patent.ipc = [current.get(symbol) or PatentIPC(symbol=symbol) for symbol in unique]
    for position, row in enumerate(patent.ipc):
        row.position = position


def _require_new_number(session: Session, number: str) -> None:
    if session.get(Patent, number) is not None:
        raise Conflict(
            f"patent {number} is already registered", errors=[{"loc": ["body", "number"], "msg": "already registered"}]
        )


def _check_number_and_dates(
    number: str, patent_type: str, filing_date: date, grant_date: date | None, *, today: date
) -> list[dict[str, Any]]:
    parsed = parse_patent_number(number)
    errors = []
    if parsed.patent_type != patent_type:
        errors.append(
            {"loc": ["body", "type"], "msg": f"number {number} is of a {parsed.patent_type} (type digit {parsed.type_digit})"}
        )
    # The number carries the year it was given; the 申请日 can be earlier (a PCT entry keeps its international
    # filing date, a divisional application its parent's), never later.
    if filing_date.year > parsed.year:
        errors.append({"loc": ["body", "filing_date"], "msg": f"number {number} was filed in {parsed.year}"})
    if filing_date > today:
        errors.append({"loc": ["body", "filing_date"], "msg": "filing date is in the future"})
    if grant_date is not None and grant_date < filing_date:
        errors.append({"loc": ["body", "grant_date"], "msg": "grant date precedes the filing date"})
    if grant_date is not None and grant_date > today:
        errors.append({"loc": ["body", "grant_date"], "msg": "grant date is in the future"})
    return errors


def _check_owners(session: Session, owner_ids: list[str]) -> list[dict[str, Any]]:
    known = set(session.scalars(select(Organization.id).where(Organization.id.in_(owner_ids))))
    errors, seen = [], set()
    for index, org_id in enumerate(owner_ids):
        if org_id in seen:
            errors.append({"loc": ["body", "owner_ids", index], "msg": f"{org_id} is listed twice"})
        elif org_id not in known:
            errors.append({"loc": ["body", "owner_ids", index], "msg": f"no organization {org_id!r} is registered"})
        seen.add(org_id)
    return errors
