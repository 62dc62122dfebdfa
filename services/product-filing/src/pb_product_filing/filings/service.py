"""The filing rules: who may file which product with which patents, the review workflow, and its events.

Each write takes a UnitOfWork and leaves the commit to its caller; every
change is written together with its outbox event and its audit entry. What
the registry decides is checked before the unit of work opens
(`checked_filer`), so no transaction waits on the network.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from pb_product_filing.filings.schemas import FilingIn, FilingOut, money_or_none
from pb_product_filing.models import Filing
from pbkit.context import Actor
from pbkit.domain import validate_region_code
from pbkit.events import utcnow
from pbkit.ids import new_id
from pbkit.parties import party_snapshot
from pbkit.registry_client import RegistryLookups
from pbkit.uow import UnitOfWork
from pbkit.web.pagination import PageParams, paginate
from pbkit.web.problems import Conflict, NotFound, Unprocessable

AGGREGATE_TYPE = "filing"
# The programme counts SMEs; state-owned enterprises are counted among the institutions
# (CONTRACT §8, inst_outbound_*), so only `enterprise` may file.
FILER_KINDS = frozenset({"enterprise"})


@dataclass(frozen=True)
class Transition:
    source: str
    target: str
    event_type: str


APPROVE = Transition("submitted", "approved", "pb.filing.approved.v1")
REJECT = Transition("submitted", "rejected", "pb.filing.rejected.v1")
REVOKE = Transition("approved", "revoked", "pb.filing.revoked.v1")


def submit_filing(*, uow: UnitOfWork, request: FilingIn, filer: dict[str, Any]) -> Filing:
    """Record a submitted filing by `filer`, the snapshot `checked_filer` returned."""
    region = validate_region_code(request.region_code)
    now = utcnow()
    filing = Filing(
        id=new_id(),
        status="submitted",
        org_id=request.org_id,
        filer=filer,
        product_name=request.product_name,
        patent_numbers=list(request.patent_numbers),
        region_code=region.code,
        prefecture_code=region.prefecture_code,
        industry=request.industry,
        description=request.description,
        sales_last_year_fen=request.sales_last_year,
        export_last_year_fen=request.export_last_year,
        created_by=uow.actor.client_id,
        created_at=now,
        updated_at=now,
    )
    uow.session.add(filing)
    _record(uow, filing, event_type="pb.filing.submitted.v1", action="filing.submit")
    return filing


def approve_filing(*, uow: UnitOfWork, filing_id: str, approved_on: date, today: date) -> Filing:
    # Backfilled approvals from before the service existed are fine; a recognition dated ahead is not.
    if approved_on > today:
        raise Unprocessable.field(["body", "approved_on"], f"{approved_on} is in the future (today is {today})")
    filing = _begin(uow, filing_id, APPROVE)
    filing.approved_on = approved_on
    _record(uow, filing, event_type=APPROVE.event_type, action="filing.approve")
    return filing


def reject_filing(*, uow: UnitOfWork, filing_id: str, reason: str) -> Filing:
    filing = _begin(uow, filing_id, REJECT)
    filing.reason = reason
    _record(uow, filing, event_type=REJECT.event_type, action="filing.reject")
    return filing


def revoke_filing(*, uow: UnitOfWork, filing_id: str, reason: str) -> Filing:
    filing = _begin(uow, filing_id, REVOKE)
    filing.reason = reason
    _record(uow, filing, event_type=REVOKE.event_type, action="filing.revoke")
    return filing


def find_filing(*, session: Session, actor: Actor, filing_id: str) -> Filing:
    filing = session.get(Filing, filing_id)
    if filing is None or not _visible_to(actor, filing):
        raise NotFound(f"no filing {filing_id}")
    return filing


def list_filings(
    *,
    session: Session,
    actor: Actor,
    page: PageParams,
    status: str | None = None,
    org_id: str | None = None,
    prefecture_code: str | None = None,
) -> dict[str, Any]:
    stmt = select(Filing)
    if actor.role == "partner":
        stmt = stmt.where(Filing.created_by == actor.client_id)
    if status is not None:
        stmt = stmt.where(Filing.status == status)
    if org_id is not None:
        stmt = stmt.where(Filing.org_id == org_id)
    if prefecture_code is not None:
        stmt = stmt.where(Filing.prefecture_code == prefecture_code)
    return paginate(session, stmt, key=Filing.id, params=page, to_item=FilingOut.of)


def filing_event_data(filing: Filing) -> dict[str, Any]:
    """The whole filing as every pb.filing.*.v1 event carries it (docs/EVENTS.md)."""
    return {
        "filing_id": filing.id,
        "status": filing.status,
        "filer": filing.filer,
        "product_name": filing.product_name,
        "patent_numbers": list(filing.patent_numbers),
        "region_code": filing.region_code,
        "prefecture_code": filing.prefecture_code,
        "industry": filing.industry,
        "sales_last_year": money_or_none(filing.sales_last_year_fen),
        "export_last_year": money_or_none(filing.export_last_year_fen),
        "approved_on": filing.approved_on.isoformat() if filing.approved_on else None,
        "reason": filing.reason,
    }


def checked_filer(*, registry: RegistryLookups, request: FilingIn) -> dict[str, Any]:
    """The filer's snapshot, once the filer and every patent pass the registry's facts; otherwise a 422 naming
    each offence (503 when the registry cannot be reached). Asked before the unit of work opens."""
    errors: list[dict[str, Any]] = []
    organization = registry.organization(request.org_id)
    if organization is None:
        errors.append({"loc": ["body", "org_id"], "msg": f"no organization {request.org_id} in the registry"})
    elif organization["kind"] not in FILER_KINDS:
        errors.append({
            "loc": ["body", "org_id"],
            "msg": f"the filer must be an enterprise; {organization['name']} is a {organization['kind']}",
        })
    for index, number in enumerate(request.patent_numbers):
        problem = _patent_problem(registry.patent(number), number, request.org_id, organization)
        if problem:
            errors.append({"loc": ["body", "patent_numbers", index], "msg": problem})
    if errors:
        raise Unprocessable("the filing does not meet the filing rules", errors=errors)
    assert organization is not None  # an unknown filer is one of the errors above
    return party_snapshot(organization)


def _patent_problem(
    patent: dict[str, Any] | None, number: str, org_id: str, organization: dict[str, Any] | None
) -> str | None:
    if patent is None:
        return f"no patent {number} in the registry"
    if patent["status"] != "valid":
        return f"patent {number} is {patent['status']}; a product is filed with valid patents"
    holders = set(patent.get("owner_ids", [])) | set(patent.get("licensee_ids", []))
    if organization is not None and org_id not in holders:
        return f"patent {number} is neither owned by nor licensed to the filer"
    return None


def _begin(uow: UnitOfWork, filing_id: str, transition: Transition) -> Filing:
    # Locked until commit, so two reviewers cannot both move the same filing.
    filing = uow.session.get(Filing, filing_id, with_for_update=True)
    if filing is None:
        raise NotFound(f"no filing {filing_id}")
    if filing.status != transition.source:
        raise Conflict(
            f"filing {filing_id} is {filing.status}; only a {transition.source} filing can be {transition.target}"
        )
    filing.status = transition.target
    filing.updated_at = utcnow()
    return filing


def _record(uow: UnitOfWork, filing: Filing, *, event_type: str, action: str) -> None:
    uow.session.flush()
    data = filing_event_data(filing)
    uow.emit(event_type=event_type, aggregate_type=AGGREGATE_TYPE, aggregate_id=filing.id, data=data)
    uow.audit(action, target_type=AGGREGATE_TYPE, target_id=filing.id, details=data)


def _visible_to(actor: Actor, filing: Filing) -> bool:
    return actor.role != "partner" or filing.created_by == actor.client_id

