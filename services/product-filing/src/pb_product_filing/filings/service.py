"""The filing rules: who may file which product with which patents, the review workflow, and its events.

Each command has the two steps `pbkit.commands.idempotent_command` runs: what the registry decides is
checked first, outside any transaction (`checked_filer`), so no transaction waits on the network; then
the change is written in the caller's unit of work, together with its outbox event and its audit entry,
and the helper commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from pb_product_filing.events import FILING_APPROVED, FILING_REJECTED, FILING_REVOKED, FILING_SUBMITTED
from pb_product_filing.filings.schemas import FilingEventData, FilingIn, FilingOut
from pb_product_filing.models import Filing
from pbkit.context import Actor
from pbkit.domain import validate_region_code
from pbkit.errors import Conflict, NotFound, RuleBroken, Violation
from pbkit.events import utcnow
from pbkit.ids import new_id
from pbkit.parties import party_snapshot
from pbkit.queries import PageParams, equals, paginate, where_given
from pbkit.registry_client import RegistryLookups
from pbkit.uow import UnitOfWork

AGGREGATE_TYPE = "filing"
# The programme counts SMEs; state-owned enterprises are counted among the institutions
# (CONTRACT §8, inst_outbound_*), so only `enterprise` may file.
FILER_KINDS = frozenset({"enterprise"})


@dataclass(frozen=True)
class Transition:
    source: str
    target: str
    event_type: str


APPROVE = Transition("submitted", "approved", FILING_APPROVED)
REJECT = Transition("submitted", "rejected", FILING_REJECTED)
REVOKE = Transition("approved", "revoked", FILING_REVOKED)


def checked_filer(*, registry: RegistryLookups, request: FilingIn) -> dict[str, Any]:
    """The precheck of a submission: the filer's snapshot, once the filer and every patent pass the registry's
    facts; otherwise a RuleBroken naming each offence (Unavailable when the registry cannot be reached)."""
    violations: list[Violation] = []
    registry.prefetch(organization_ids=[request.org_id], patent_numbers=request.patent_numbers)
    organization = registry.organization(request.org_id)
    if organization is None:
        violations.append(Violation(["body", "org_id"], f"no organization {request.org_id} in the registry"))
    elif organization["kind"] not in FILER_KINDS:
        violations.append(Violation(
            ["body", "org_id"], f"the filer must be an enterprise; {organization['name']} is a {organization['kind']}"
        ))
    for index, number in enumerate(request.patent_numbers):
        problem = _patent_problem(registry.patent(number), number, request.org_id, organization)
        if problem:
            violations.append(Violation(["body", "patent_numbers", index], problem))
    if violations:
        raise RuleBroken.of(violations, detail="the filing does not meet the filing rules")
    assert organization is not None  # an unknown filer is one of the violations above
    return party_snapshot(organization)


def submit_filing(*, uow: UnitOfWork, request: FilingIn, filer: dict[str, Any]) -> FilingOut:
    """Record a submitted filing by `filer`, the snapshot `checked_filer` returned."""
    region = validate_region_code(request.region_code)
    now = utcnow()
    filing = Filing(
        id=new_id(),
        status="submitted",
        **request.model_dump(include={"org_id", "product_name", "patent_numbers", "industry", "description"}),
        filer=filer,
        region_code=region.code,
        prefecture_code=region.prefecture_code,
        sales_last_year_fen=request.sales_last_year,
        export_last_year_fen=request.export_last_year,
        created_by=uow.actor.client_id,
        created_at=now,
        updated_at=now,
    )
    uow.session.add(filing)
    return _record(uow, filing, event_type=FILING_SUBMITTED, action="filing.submit")


def approve_filing(*, uow: UnitOfWork, filing_id: str, approved_on: date, today: date) -> FilingOut:
    # Backfilled approvals from before the service existed are fine; a recognition dated ahead is not.
    if approved_on > today:
        raise RuleBroken.field(["body", "approved_on"], f"{approved_on} is in the future (today is {today})")
    filing = _begin(uow, filing_id, APPROVE)
    filing.approved_on = approved_on
    return _record(uow, filing, event_type=APPROVE.event_type, action="filing.approve")


def reject_filing(*, uow: UnitOfWork, filing_id: str, reason: str) -> FilingOut:
    filing = _begin(uow, filing_id, REJECT)
    filing.reason = reason
    return _record(uow, filing, event_type=REJECT.event_type, action="filing.reject")


def revoke_filing(*, uow: UnitOfWork, filing_id: str, reason: str) -> FilingOut:
    filing = _begin(uow, filing_id, REVOKE)
    filing.reason = reason
    return _record(uow, filing, event_type=REVOKE.event_type, action="filing.revoke")


def find_filing(*, session: Session, actor: Actor, filing_id: str) -> FilingOut:
    filing = session.get(Filing, filing_id)
    if filing is None or not _visible_to(actor, filing):
        raise NotFound(f"no filing {filing_id}")
    return FilingOut.model_validate(filing)


def list_filings(
    *,
    session: Session,
    actor: Actor,
    page: PageParams,
    status: str | None = None,
    org_id: str | None = None,
    prefecture_code: str | None = None,
) -> dict[str, Any]:
    stmt = where_given(
        select(Filing),
        (actor.client_id if actor.role == "partner" else None, equals(Filing.created_by)),
        (actor.prefecture_code, equals(Filing.prefecture_code)),
        (status, equals(Filing.status)),
        (org_id, equals(Filing.org_id)),
        (prefecture_code, equals(Filing.prefecture_code)),
    )
    return paginate(session, stmt, key=Filing.id, params=page, to_item=FilingOut.model_validate)


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


def _record(uow: UnitOfWork, filing: Filing, *, event_type: str, action: str) -> FilingOut:
    """Write the filing's event and audit entry beside the change; the filing as the client is answered."""
    uow.session.flush()
    data = FilingEventData.model_validate(filing).model_dump(mode="json")
    uow.emit(event_type=event_type, aggregate_type=AGGREGATE_TYPE, aggregate_id=filing.id, data=data)
    uow.audit(action, target_type=AGGREGATE_TYPE, target_id=filing.id, details=data)
    return FilingOut.model_validate(filing)


def _visible_to(actor: Actor, filing: Filing) -> bool:
    """A partner sees the filings it submitted; a prefecture user those in its 市州 (by the filing's region)."""
    if actor.role == "partner":
        return filing.created_by == actor.client_id
    return actor.prefecture_code is None or filing.prefecture_code == actor.prefecture_code
