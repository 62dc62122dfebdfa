"""Deals: submission, and what every reader sees of them (CONTRACT.md §4).

Submission is a command (`pbkit.commands`) of two steps: its precheck asks the
registry, outside any transaction, whether the deal agrees with it; its action
writes the deal in one unit of work. Recording and cancelling change title,
which the registry decides: they are in `deals.title`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, exists, select
from sqlalchemy.orm import Session

from pb_transactions.deals.events import emit_deal_event
from pb_transactions.deals.registry_checks import Parties, check_submission
from pb_transactions.deals.schemas import DealIn, DealOut
from pb_transactions.events import DEAL_SUBMITTED
from pb_transactions.models import Deal, DealParty, DealPatent
from pbkit.context import Actor
from pbkit.errors import Conflict, NotFound
from pbkit.ids import new_id
from pbkit.queries import PageParams, at_least, at_most, equals, paginate, where_given
from pbkit.uow import UnitOfWork

CREATE = "deal.create"
RECORD = "deal.record"
CANCEL = "deal.cancel"

__all__ = ["CANCEL", "CREATE", "RECORD", "DealFilters", "check_submission", "create", "list_deals", "visible_deal"]


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


def visible_deal(session: Session, *, actor: Actor, deal_id: str, for_update: bool = False) -> Deal:
    """The deal if this client may see it: a partner only sees the deals it created, a prefecture user those
    with a party in its 市州 (404 for others, so that no one learns the ids of deals out of reach)."""
    stmt = _visible_to(select(Deal).where(Deal.id == deal_id), actor)
    if for_update:
        stmt = stmt.with_for_update()
    deal = session.scalars(stmt).first()
    if deal is None:
        raise NotFound(f"no deal {deal_id}")
    return deal


def _visible_to(stmt: Select, actor: Actor) -> Select:
    if actor.role == "partner":
        return stmt.where(Deal.created_by == actor.client_id)
    if actor.prefecture_code is not None:
        return stmt.where(Deal.parties.any(DealParty.prefecture_code == actor.prefecture_code))
    return stmt


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
