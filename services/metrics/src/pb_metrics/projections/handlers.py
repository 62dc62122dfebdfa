"""Applying events to the projections: keep the newest state of each aggregate, per generation.

Each fact row holds the `sequence` of the event it came from. An event only
replaces a row when its sequence is higher, so an event seen twice, replayed,
or arriving before an older one of the same aggregate leaves the newest state
in place; a payment is kept by its own id whatever state its deal is in.
Indicators are then computed from the rows, never counted up event by event.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import Insert
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from pb_metrics.models import AnnualReportFact, Base, DealFact, FilingFact, PaymentFact, PledgeFact
from pb_metrics.projections.generations import record_event_time
from pb_metrics.projections.payloads import (
    AnnualReportPayload,
    DealPayload,
    FilingPayload,
    Party,
    PledgePayload,
)
from pbkit.db import is_postgres
from pbkit.events import Event
from pbkit.uow import UnitOfWork

Apply = Callable[[Session, list[int], Event], None]


# Built once per dialect and table: constructing statements costs more than running them.
@functools.cache
def _newest_wins(on_postgres: bool, model: type[Base], key: tuple[str, ...]) -> Insert:
    """Insert a row, or replace the stored one when the new row's sequence is higher."""
    table = model.__table__
    stmt = (postgresql if on_postgres else sqlite).insert(model)
    return stmt.on_conflict_do_update(
        index_elements=[table.c[k] for k in key],
        set_={c.name: stmt.excluded[c.name] for c in table.c if c.name not in key},
        where=table.c.sequence < stmt.excluded.sequence,
    )


@functools.cache
def _first_wins(on_postgres: bool, model: type[Base], key: tuple[str, ...]) -> Insert:
    stmt = (postgresql if on_postgres else sqlite).insert(model)
    return stmt.on_conflict_do_nothing(index_elements=list(key))


def _keep_newest(session: Session, model: type[Base], key: tuple[str, ...], rows: list[dict[str, Any]]) -> None:
    session.execute(_newest_wins(is_postgres(session), model, key), rows)


def apply_deal(session: Session, generations: list[int], event: Event) -> None:
    deal = DealPayload.model_validate(event.data)
    institution = next((p for p in deal.transferors if p.is_in_province_institution), None)
    state = {
        "deal_id": deal.deal_id,
        "sequence": event.sequence,
        "status": deal.status,
        "recorded_on": deal.recorded_on,
        "patent_count": len(deal.patent_numbers),
        "contract_amount": deal.contract_amount,
        "transferee_org_id": deal.transferee.org_id,
        "transferee_prefecture_code": deal.transferee.prefecture,
        "transferee_industry": deal.transferee.industry,
        "sme_inbound": deal.transferee.is_in_province_sme,
        "lead_transferor_kind": deal.transferors[0].kind,
        "inst_outbound": institution is not None,
        "inst_kind": institution.kind if institution else None,
        "inst_prefecture_code": institution.prefecture if institution else None,
    }
    _keep_newest(session, DealFact, ("generation", "deal_id"), [{**state, "generation": g} for g in generations])
    if deal.payment is not None:
        payment = {
            "payment_id": deal.payment.payment_id,
            "deal_id": deal.deal_id,
            "amount": deal.payment.amount,
            "received_on": deal.payment.received_on,
        }
        session.execute(
            _first_wins(is_postgres(session), PaymentFact, ("generation", "payment_id")),
            [{**payment, "generation": g} for g in generations],
        )


def _party_columns(prefix: str, party: Party) -> dict[str, Any]:
    return {
        f"{prefix}_org_id": party.org_id,
        f"{prefix}_prefecture_code": party.prefecture,
        f"{prefix}_industry": party.industry,
        f"{prefix}_sme_in_province": party.is_in_province_sme,
    }


def apply_pledge(session: Session, generations: list[int], event: Event) -> None:
    pledge = PledgePayload.model_validate(event.data)
    state = {
        "pledge_id": pledge.pledge_id,
        "sequence": event.sequence,
        "status": pledge.status,
        "registered_on": pledge.registered_on,
        "amount": pledge.amount,
        **_party_columns("pledgor", pledge.pledgor),
    }
    _keep_newest(session, PledgeFact, ("generation", "pledge_id"), [{**state, "generation": g} for g in generations])


def apply_filing(session: Session, generations: list[int], event: Event) -> None:
    filing = FilingPayload.model_validate(event.data)
    state = {
        "filing_id": filing.filing_id,
        "sequence": event.sequence,
        "status": filing.status,
        "approved_on": filing.approved_on,
        "prefecture_code": filing.prefecture,
        **_party_columns("filer", filing.filer),
    }
    _keep_newest(session, FilingFact, ("generation", "filing_id"), [{**state, "generation": g} for g in generations])


def apply_annual_report(session: Session, generations: list[int], event: Event) -> None:
    report = AnnualReportPayload.model_validate(event.data)
    state = {
        "org_id": report.org_id,
        "year": report.year,
        "sequence": event.sequence,
        "revenue": report.revenue,
        "employees": report.employees,
    }
    _keep_newest(
        session, AnnualReportFact, ("generation", "org_id", "year"), [{**state, "generation": g} for g in generations]
    )


def not_counted(_session: Session, _generations: list[int], _event: Event) -> None:
    """The counting rules read the party snapshots deal, pledge and filing events carry, not these."""


ROUTES: dict[str, Apply] = {
    "pb.organization.registered.v1": not_counted,
    "pb.organization.updated.v1": not_counted,
    "pb.organization.annual_report_filed.v1": apply_annual_report,
    "pb.patent.registered.v1": not_counted,
    "pb.patent.updated.v1": not_counted,
    "pb.patent.ownership_changed.v1": not_counted,
    "pb.deal.submitted.v1": apply_deal,
    "pb.deal.recorded.v1": apply_deal,
    "pb.deal.payment_received.v1": apply_deal,
    "pb.deal.cancelled.v1": apply_deal,
    "pb.pledge.registered.v1": apply_pledge,
    "pb.pledge.released.v1": apply_pledge,
    "pb.filing.submitted.v1": apply_filing,
    "pb.filing.approved.v1": apply_filing,
    "pb.filing.rejected.v1": apply_filing,
    "pb.filing.revoked.v1": apply_filing,
}


class ProjectionHandler:
    """The consumer handler: applies one event into the generations `targets` names."""

    def __init__(self, targets: Callable[[Session], list[int]]):
        self.targets = targets

    def __call__(self, uow: UnitOfWork, event: Event) -> None:
        moment = datetime.fromisoformat(event.time)
        if moment.tzinfo is None:
            raise ValueError(f"event time {event.time!r} has no UTC offset")
        generations = self.targets(uow.session)
        # A type added to the contract later is no error: it is simply not counted yet.
        ROUTES.get(event.type, not_counted)(uow.session, generations, event)
        record_event_time(uow.session, generations, moment)
