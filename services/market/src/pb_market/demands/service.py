"""The rules of a technology demand (技术需求): who it is for, what is stored and announced, when it expires.

A demand is posted by a partner or the office for an SME (an enterprise of size micro, small or medium, as the
registry describes it). It stands until its expiry date inclusive; the leader-elected expiry job closes it on the
next day of the programme's calendar and announces it (`pb.demand.expired.v1`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Select, select

from pb_market.demands.schemas import BudgetOut, DemandIn, DemandOut
from pb_market.events import DEMAND_EXPIRED, DEMAND_POSTED
from pb_market.models import Demand
from pbkit.commands import UowFactory
from pbkit.errors import NotFound, RuleBroken
from pbkit.events import utcnow
from pbkit.ids import new_id
from pbkit.money import format_money
from pbkit.parties import party_snapshot
from pbkit.queries import equals, where_given
from pbkit.registry_client import RegistryLookups
from pbkit.uow import UnitOfWork

AGGREGATE = "demand"
OPEN, EXPIRED = "open", "expired"
POST = "demand.post"
SME_SIZES = ("micro", "small", "medium")
MAX_YEARS_AHEAD = 3


def check_demand(*, registry: RegistryLookups, body: DemandIn, today: date) -> dict[str, Any]:
    """The precheck: the SME is a registered SME, the expiry date is after today and at most 3 years ahead.
    Returns the SME's snapshot, or raises RuleBroken."""
    errors: list[dict[str, Any]] = []
    if body.expires_on <= today:
        errors.append({"loc": ["body", "expires_on"], "msg": f"expires_on must be after today ({today.isoformat()})"})
    elif body.expires_on > _years_ahead(today, MAX_YEARS_AHEAD):
        errors.append({"loc": ["body", "expires_on"], "msg": f"expires_on is at most {MAX_YEARS_AHEAD} years ahead"})
    snapshot: dict[str, Any] = {}
    if not errors:
        org = registry.organization(body.sme_id)
        if org is None:
            errors.append({"loc": ["body", "sme_id"], "msg": f"no organization {body.sme_id} in the registry"})
        elif org["kind"] != "enterprise" or org.get("size") not in SME_SIZES:
            errors.append({"loc": ["body", "sme_id"],
                           "msg": f"{org['name']} is not an SME (an enterprise of size micro, small or medium)"})
        else:
            snapshot = party_snapshot(org)
    if errors:
        raise RuleBroken("the demand cannot be posted: " + "; ".join(e["msg"] for e in errors), errors=errors)
    return snapshot


def _years_ahead(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def post(uow: UnitOfWork, *, body: DemandIn, sme: dict[str, Any], today: date) -> DemandOut:
    now = utcnow()
    row = Demand(
        id=new_id(), status=OPEN, sme_id=body.sme_id, sme=sme, title=body.title, description=body.description,
        ipc=list(body.ipc), industry=body.industry, budget_min_fen=body.budget_min, budget_max_fen=body.budget_max,
        prefecture_code=body.prefecture_code, posted_on=today, expires_on=body.expires_on, expired_on=None,
        created_by=uow.actor.client_id, created_at=now, updated_at=now, match_due=True,
    )
    uow.session.add(row)
    uow.session.flush()
    out = demand_out(row)
    uow.emit(event_type=DEMAND_POSTED, aggregate_type=AGGREGATE, aggregate_id=row.id, at=now,
             data={**out.model_dump(mode="json", exclude={"created_at", "sme_name"}), "sme": sme})
    uow.audit(POST, target_type=AGGREGATE, target_id=row.id, details={"sme_id": row.sme_id})
    return out


def expire_due(*, uow_factory: UowFactory, today: date, limit: int = 500) -> int:
    """One round of the expiry job: every open demand whose expiry date is before `today` is closed and announced,
    in batches of `limit`, each its own transaction. Returns how many were closed."""
    closed = 0
    while True:
        with uow_factory() as uow:
            due = uow.session.scalars(
                select(Demand).where(Demand.status == OPEN, Demand.expires_on < today)
                .order_by(Demand.expires_on, Demand.id).limit(limit).with_for_update(skip_locked=True)
            ).all()
            now = utcnow()
            for row in due:
                row.status, row.expired_on, row.updated_at = EXPIRED, today, now
                uow.emit(event_type=DEMAND_EXPIRED, aggregate_type=AGGREGATE, aggregate_id=row.id, at=now,
                         data={"id": row.id, "sme_id": row.sme_id, "expires_on": row.expires_on.isoformat(),
                               "expired_on": today.isoformat()})
            if due:
                uow.audit("demand.expire", target_type=AGGREGATE, details={"ids": [row.id for row in due]})
            uow.commit()
        closed += len(due)
        if len(due) < limit:
            return closed


def find_demand(session: Any, demand_id: str) -> Demand:
    row = session.get(Demand, demand_id)
    if row is None:
        raise NotFound(f"no demand {demand_id}")
    return row


@dataclass(frozen=True)
class DemandFilter:
    status: str | None = None
    sme_id: str | None = None
    industry: str | None = None
    prefecture_code: str | None = None


def listing(f: DemandFilter) -> Select:
    return where_given(
        select(Demand),
        (f.status, equals(Demand.status)),
        (f.sme_id, equals(Demand.sme_id)),
        (f.industry, equals(Demand.industry)),
        (f.prefecture_code, equals(Demand.prefecture_code)),
    )


def demand_out(row: Demand) -> DemandOut:
    money = lambda fen: None if fen is None else format_money(fen)  # noqa: E731
    return DemandOut(
        id=row.id, status=row.status, sme_id=row.sme_id, sme_name=row.sme.get("name", ""), title=row.title,
        description=row.description, ipc=row.ipc, industry=row.industry,
        budget=BudgetOut(min=money(row.budget_min_fen), max=money(row.budget_max_fen)),
        prefecture_code=row.prefecture_code, posted_on=row.posted_on, expires_on=row.expires_on,
        expired_on=row.expired_on, created_at=row.created_at,
    )
