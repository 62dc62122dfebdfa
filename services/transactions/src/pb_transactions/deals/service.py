"""Deals: submitted → recorded → cancelled (CONTRACT.md §4).

Each command (`pbkit.commands`) has two steps. Its precheck asks the registry,
outside any transaction; its action changes the deal in one unit of work and,
under the deal's row lock, re-checks what only this service knows: the deal's
state, the licences it has recorded, and the transfers it has recorded that
the registry may not have applied yet.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, exists, select
from sqlalchemy.orm import Session

from pb_transactions.deals.events import emit_deal_event
from pb_transactions.deals.registry_checks import Parties, check_recording, check_reversal, check_submission
from pb_transactions.deals.schemas import TITLE_KINDS, CancelIn, DealIn, DealOut, RecordIn
from pb_transactions.events import DEAL_CANCELLED, DEAL_RECORDED, DEAL_SUBMITTED
from pb_transactions.models import Deal, DealParty, DealPatent
from pbkit.commands import UowFactory
from pbkit.context import Actor
from pbkit.db import lock_for_transaction
from pbkit.errors import Conflict, NotFound
from pbkit.ids import new_id
from pbkit.queries import PageParams, at_least, at_most, equals, paginate, where_given
from pbkit.registry_client import RegistryLookups
from pbkit.uow import UnitOfWork

CREATE = "deal.create"
RECORD = "deal.record"
CANCEL = "deal.cancel"

__all__ = [
    "CANCEL", "CREATE", "RECORD", "DealFilters", "cancel", "check_cancellation", "check_record", "check_submission",
    "create", "list_deals", "record", "visible_deal",
]


# Submission. Precheck: `check_submission` (every patent, owner and party as the registry has them).

def create(uow: UnitOfWork, *, body: DealIn, parties: Parties) -> DealOut:
    """The deal, submitted, with the parties' snapshots the precheck took."""
    _refuse_licence_conflicts(uow.session, license_type=body.license_type, numbers=body.patent_numbers)
    now = datetime.now(UTC)
    deal = Deal(
        id=new_id(),
        kind=body.kind,
        license_type=body.license_type,
        status="submitted",
        transferee_id=body.transferee_id,
        contract_date=body.contract_date,
        contract_amount_fen=body.contract_amount,
        pledgee_consent=body.pledgee_consent,
        external_ref=body.external_ref,
        was_recorded=False,
        received_amount_fen=0,
        created_by=uow.actor.client_id,
        created_at=now,
        updated_at=now,
    )
    deal.patents = [DealPatent(position=i, number=number) for i, number in enumerate(body.patent_numbers)]
    deal.parties = [
        *(DealParty(role="transferor", position=i, **s) for i, s in enumerate(parties.transferors)),
        DealParty(role="transferee", position=0, **parties.transferee),
    ]
    uow.session.add(deal)
    uow.session.flush()
    emit_deal_event(uow, deal, DEAL_SUBMITTED)
    uow.audit(
        CREATE,
        target_type="deal",
        target_id=deal.id,
        details={"kind": deal.kind, "patent_numbers": deal.patent_numbers, "external_ref": deal.external_ref},
    )
    return DealOut.model_validate(deal)


# Recording: submitted → recorded (登记/备案生效), if the registry still backs the deal.

def check_record(*, uow_factory: UowFactory, registry: RegistryLookups, deal_id: str, body: RecordIn) -> None:
    """The precheck: a submitted deal must still agree with the registry. A deal in any other state is
    refused by `record` itself (409), so the registry is not asked for it."""
    deal = _read(uow_factory, deal_id)
    if deal.status == "submitted":
        check_recording(deal, recorded_on=body.recorded_on, registry=registry)


def record(uow: UnitOfWork, *, deal_id: str, body: RecordIn) -> DealOut:
    deal = visible_deal(uow.session, actor=uow.actor, deal_id=deal_id, for_update=True)
    if deal.status != "submitted":
        raise Conflict(f"deal {deal_id} is {deal.status}; only a submitted deal can be recorded")
    _lock_patents(uow.session, deal.patent_numbers)
    _refuse_licence_conflicts(uow.session, license_type=deal.license_type, numbers=deal.patent_numbers)
    _refuse_unapplied_title_changes(uow.session, deal)
    deal.status = "recorded"
    deal.recorded_on = body.recorded_on
    deal.recordation_no = body.recordation_no
    deal.recorded_at = deal.updated_at = datetime.now(UTC)
    deal.was_recorded = True
    emit_deal_event(uow, deal, DEAL_RECORDED)
    uow.audit(RECORD, target_type="deal", target_id=deal.id, details=body.model_dump(mode="json"))
    return DealOut.model_validate(deal)


# Cancellation: submitted or recorded → cancelled. The registry reverts a recorded transfer itself when it
# sees the cancellation event; here we only make sure it can.

def check_cancellation(*, uow_factory: UowFactory, registry: RegistryLookups, deal_id: str) -> None:
    """The precheck: a recorded transfer or equity contribution can be reverted only while the registry
    shows the transferee alone as the owner. No other deal needs the registry."""
    deal = _read(uow_factory, deal_id)
    if deal.status == "recorded" and deal.kind in TITLE_KINDS:
        check_reversal(deal, registry=registry)


def cancel(uow: UnitOfWork, *, deal_id: str, body: CancelIn, today: date) -> DealOut:
    """Cancelled on `today`, the programme's calendar day."""
    deal = visible_deal(uow.session, actor=uow.actor, deal_id=deal_id, for_update=True)
    if deal.status == "cancelled":
        raise Conflict(f"deal {deal_id} is already cancelled")
    if deal.status == "recorded" and deal.kind in TITLE_KINDS:
        _lock_patents(uow.session, deal.patent_numbers)
        _refuse_when_passed_on(uow.session, deal)
    deal.status = "cancelled"
    deal.cancelled_on = today
    deal.cancel_reason = body.reason
    deal.updated_at = datetime.now(UTC)
    emit_deal_event(uow, deal, DEAL_CANCELLED)
    uow.audit(CANCEL, target_type="deal", target_id=deal.id,
              details={"reason": body.reason, "was_recorded": deal.was_recorded})
    return DealOut.model_validate(deal)


def _read(uow_factory: UowFactory, deal_id: str) -> DealOut:
    """The deal as it stands, read and let go before the registry is asked."""
    with uow_factory() as uow:
        return DealOut.model_validate(visible_deal(uow.session, actor=uow.actor, deal_id=deal_id))


def visible_deal(session: Session, *, actor: Actor, deal_id: str, for_update: bool = False) -> Deal:
    """The deal if this client may see it: a partner only sees the deals it created (404 for others,
    so that no partner learns another's deal ids)."""
    stmt = _visible_to(select(Deal).where(Deal.id == deal_id), actor)
    if for_update:
        stmt = stmt.with_for_update()
    deal = session.scalars(stmt).first()
    if deal is None:
        raise NotFound(f"no deal {deal_id}")
    return deal


def _visible_to(stmt: Select, actor: Actor) -> Select:
    return stmt.where(Deal.created_by == actor.client_id) if actor.role == "partner" else stmt


@dataclass(frozen=True)
class DealFilters:
    status: str | None = None
    kind: str | None = None
    transferee_id: str | None = None
    transferor_id: str | None = None
    recorded_from: date | None = None
    recorded_to: date | None = None
    external_ref: str | None = None


def list_deals(*, session: Session, actor: Actor, filters: DealFilters, page: PageParams) -> dict[str, Any]:
    stmt = where_given(
        _visible_to(select(Deal), actor),
        (filters.status, equals(Deal.status)),
        (filters.kind, equals(Deal.kind)),
        (filters.transferee_id, equals(Deal.transferee_id)),
        (filters.transferor_id, _has_transferor),
        (filters.recorded_from, at_least(Deal.recorded_on)),
        (filters.recorded_to, at_most(Deal.recorded_on)),
        (filters.external_ref, equals(Deal.external_ref)),
    )
    return paginate(session, stmt, key=Deal.id, params=page, to_item=DealOut.model_validate)


def _has_transferor(org_id: str) -> ColumnElement[bool]:
    return exists().where(DealParty.deal_id == Deal.id, DealParty.role == "transferor", DealParty.org_id == org_id)


def _lock_patents(session: Session, numbers: Iterable[str]) -> None:
    """Serialise the recordings and cancellations touching a patent, so two deals cannot both pass the
    checks below at once; in sorted order, so that two deals sharing patents cannot deadlock."""
    for number in sorted(numbers):
        lock_for_transaction(session, f"patent:{number}")


# Patent Law 2020 art. 51: a patent under an open licence may not be licensed exclusively or solely;
# DOMAIN.md: an open licence is not allowed on a patent under an exclusive or sole licence.
_LICENCES_IN_THE_WAY = {"open": ("exclusive", "sole"), "exclusive": ("open",), "sole": ("open",)}


def _refuse_licence_conflicts(session: Session, *, license_type: str | None, numbers: Sequence[str]) -> None:
    in_the_way = _LICENCES_IN_THE_WAY.get(license_type or "")
    if not in_the_way:
        return
    rows = session.execute(
        select(DealPatent.number, Deal.id, Deal.license_type)
        .join(Deal, Deal.id == DealPatent.deal_id)
        .where(
            Deal.kind == "license",
            Deal.status == "recorded",
            Deal.license_type.in_(in_the_way),
            DealPatent.number.in_(numbers),
        )
        .order_by(DealPatent.number)
    ).all()
    if rows:
        found = "; ".join(f"patent {r.number} is under the recorded {r.license_type} licence {r.id}" for r in rows)
        raise Conflict(f"the {license_type} licence is not allowed: {found}")


def _latest_title_deal(session: Session, number: str, *, other_than: str | None = None) -> Deal | None:
    """The last recorded, uncancelled transfer or equity contribution of this patent made here."""
    stmt = (
        select(Deal)
        .join(DealPatent, DealPatent.deal_id == Deal.id)
        .where(DealPatent.number == number, Deal.kind.in_(TITLE_KINDS), Deal.status == "recorded")
        .order_by(Deal.recorded_at.desc(), Deal.id.desc())
        .limit(1)
    )
    if other_than is not None:
        stmt = stmt.where(Deal.id != other_than)
    return session.scalars(stmt).first()


def _refuse_unapplied_title_changes(session: Session, deal: Deal) -> None:
    """The registry applies a recorded transfer when it consumes our event, a moment later: until then
    it still shows the old owners. Our own recordings are the fresher truth, so the transferors must be
    the owners they left behind (a patent cannot be sold twice in that moment)."""
    for number in deal.patent_numbers:
        latest = _latest_title_deal(session, number, other_than=deal.id)
        if latest is not None and any(org_id != latest.transferee_id for org_id in deal.transferor_ids):
            raise Conflict(
                f"patent {number} passed to {latest.transferee_id} by the recorded deal {latest.id}; "
                "the transferors no longer own it"
            )


def _refuse_when_passed_on(session: Session, deal: Deal) -> None:
    for number in deal.patent_numbers:
        latest = _latest_title_deal(session, number)
        if latest is not None and latest.id != deal.id:
            raise Conflict(
                f"patent {number} passed on from the transferee by the later recorded deal {latest.id}; "
                "cancel that one first"
            )
