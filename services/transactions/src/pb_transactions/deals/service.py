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

from sqlalchemy import ColumnElement, Select, exists, or_, select
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
from pbkit.uow import AuditEntry, UnitOfWork

CREATE = "deal.create"
# The pending step of a deal being imported already recorded (`/deals/batch` with `recorded_on`, `deals.import_`).
IMPORT = "import"
RECORD = "deal.record"
CANCEL = "deal.cancel"

__all__ = ["CANCEL", "CREATE", "RECORD", "DealFilters", "check_submission", "create", "list_deals", "visible_deal"]


# Submission. Precheck: `check_submission` (every patent, owner and party as the registry has them).

def create(uow: UnitOfWork, *, body: DealIn, parties: Parties) -> DealOut:
    """The deal, submitted, with the parties' snapshots the precheck took."""
    conflict = licence_conflicts(uow.session, [(body.license_type, body.patent_numbers, body.contract_date)])[0]
    if conflict:
        raise conflict
    deal = new_deal(body, parties, created_by=uow.actor.client_id, now=datetime.now(UTC))
    uow.session.add(deal)
    uow.session.flush()
    emit_deal_event(uow, deal, DEAL_SUBMITTED)
    audit_submission(uow, deal)
    return DealOut.model_validate(deal)


def new_deal(body: DealIn, parties: Parties, *, created_by: str, now: datetime) -> Deal:
    """The row of a submitted deal, not yet added to a session."""
    deal = Deal(
        id=new_id(),
        **body.model_dump(include={"kind", "license_type", "transferee_id", "contract_date", "pledgee_consent",
                                   "external_ref", "term_start", "term_end"}),
        status="submitted",
        contract_amount_fen=body.contract_amount,
        was_recorded=False,
        received_amount_fen=0,
        created_by=created_by,
        created_at=now,
        updated_at=now,
    )
    deal.patents = [DealPatent(position=i, number=number) for i, number in enumerate(body.patent_numbers)]
    deal.parties = [
        *(DealParty(role="transferor", position=i, **s) for i, s in enumerate(parties.transferors)),
        DealParty(role="transferee", position=0, **parties.transferee),
    ]
    return deal


def audit_submission(uow: UnitOfWork, deal: Deal) -> None:
    uow.audit_all([submission_entry(deal)])


def submission_entry(deal: Deal) -> AuditEntry:
    details = {"kind": deal.kind, "patent_numbers": deal.patent_numbers, "external_ref": deal.external_ref}
    return AuditEntry(CREATE, target_type="deal", target_id=deal.id, details=details)


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
    # A deal being imported (`deals.title`, IMPORT) exists for nobody until the registry applied it.
    stmt = stmt.where(or_(Deal.pending.is_(None), Deal.pending != IMPORT))
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


# DOMAIN.md: an open licence is not allowed on a patent under an exclusive or sole licence, within its term. The
# other way round (Patent Law 2020 art. 51: no exclusive or sole licence while an open-licence declaration stands)
# depends on the declarations, which the registry holds and decides at recording (docs/TITLE_ARBITER.md); a recorded
# open licence alone excludes nothing, since after the declaration's withdrawal it is an ordinary licence.
_EXCLUDING = ("exclusive", "sole")


def _in_force(row: Any, on: date) -> bool:
    """Not ended on `on`: a licence whose term starts later excludes from then, which an open licence given now would
    run into."""
    return row.term_end is None or on <= row.term_end


def licence_conflicts(session: Session, licences: Sequence[tuple[str | None, Sequence[str], date]]) -> list[Conflict | None]:
    """For each (licence type, patent numbers, contract date) of deals to submit, the Conflict with a recorded
    licence in its way on that date, or None: one query for them all."""
    wanted = {number for licence_type, numbers, _ in licences if licence_type == "open" for number in numbers}
    if not wanted:
        return [None] * len(licences)
    recorded = session.execute(
        select(DealPatent.number, Deal.id, Deal.license_type, Deal.term_end)
        .join(Deal, Deal.id == DealPatent.deal_id)
        .where(Deal.kind == "license", Deal.status == "recorded", Deal.license_type.in_(_EXCLUDING),
               DealPatent.number.in_(wanted))
        .order_by(DealPatent.number, Deal.id)
    ).all()
    conflicts: list[Conflict | None] = []
    for licence_type, numbers, on in licences:
        given = set(numbers)
        rows = [r for r in recorded if licence_type == "open" and r.number in given and _in_force(r, on)]
        found = "; ".join(f"patent {r.number} is under the recorded {r.license_type} licence {r.id} within its term"
                          for r in rows)
        conflicts.append(Conflict(f"the {licence_type} licence is not allowed: {found}") if rows else None)
    return conflicts
