"""Applying events to the projections: keep the newest state of each aggregate, per generation.

Each fact row holds the `sequence` of the event it came from. An event only
replaces a row when its sequence is higher, so an event seen twice, replayed,
or arriving before an older one of the same aggregate leaves the newest state
in place; a payment is kept by its own id whatever state its deal is in.

Events are applied a batch at a time: the rows of every event are collected,
the newest per fact kept, and each table written with one statement per
generation; the totals then move by what the facts changed
(projections/aggregates.py). One event is a batch of one.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from datetime import date, datetime
from typing import Any

from sqlalchemy import Insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from pb_metrics.models import (
    AnnualReportFact,
    Base,
    DealFact,
    DealPatentFact,
    DemandFact,
    FilingFact,
    Generation,
    MatchFact,
    OpenLicenceFact,
    PaymentFact,
    PledgeFact,
)
from pb_metrics.projections.aggregates import Touched, refresh
from pb_metrics.projections.generations import record_event_time
from pb_metrics.projections.payloads import (
    AnnualReportPayload,
    DealPayload,
    DemandPayload,
    FilingPayload,
    MatchPayload,
    OpenLicencePayload,
    Party,
    PledgePayload,
)
from pbkit.db import is_postgres
from pbkit.events import Event
from pbkit.uow import UnitOfWork

# A fact row an event gives: its table, and the row without its generation.
FactRow = tuple[type[Base], dict[str, Any]]
Rows = Callable[[Event], Iterator[FactRow]]


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


KEYS: dict[type[Base], tuple[str, ...]] = {
    DealFact: ("generation", "deal_id"),
    PaymentFact: ("generation", "payment_id"),
    PledgeFact: ("generation", "pledge_id"),
    FilingFact: ("generation", "filing_id"),
    AnnualReportFact: ("generation", "org_id", "year"),
    DealPatentFact: ("generation", "deal_id", "patent_number"),
    OpenLicenceFact: ("generation", "declaration_id"),
    DemandFact: ("generation", "demand_id"),
    MatchFact: ("generation", "demand_id", "patent_number"),
}
# Facts without a state of their own (a payment, a deal's patent, a proposed match): the first row seen stays.
FIRST_WINS = frozenset({PaymentFact, DealPatentFact, MatchFact})


def deal_rows(event: Event) -> Iterator[FactRow]:
    deal = DealPayload.model_validate(event.data)
    institution = next((p for p in deal.transferors if p.is_in_province_institution), None)
    yield DealFact, {
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
        "license_type": deal.license_type,
    }
    for number in dict.fromkeys(deal.patent_numbers):
        yield DealPatentFact, {"deal_id": deal.deal_id, "patent_number": number}
    if deal.payment is not None:
        yield PaymentFact, {
            "payment_id": deal.payment.payment_id,
            "deal_id": deal.deal_id,
            "amount": deal.payment.amount,
            "received_on": deal.payment.received_on,
        }


def _party_columns(prefix: str, party: Party) -> dict[str, Any]:
    return {
        f"{prefix}_org_id": party.org_id,
        f"{prefix}_prefecture_code": party.prefecture,
        f"{prefix}_industry": party.industry,
        f"{prefix}_sme_in_province": party.is_in_province_sme,
    }


def pledge_rows(event: Event) -> Iterator[FactRow]:
    pledge = PledgePayload.model_validate(event.data)
    yield PledgeFact, {
        "pledge_id": pledge.pledge_id,
        "sequence": event.sequence,
        "status": pledge.status,
        "registered_on": pledge.registered_on,
        "amount": pledge.amount,
        **_party_columns("pledgor", pledge.pledgor),
    }


def filing_rows(event: Event) -> Iterator[FactRow]:
    filing = FilingPayload.model_validate(event.data)
    yield FilingFact, {
        "filing_id": filing.filing_id,
        "sequence": event.sequence,
        "status": filing.status,
        "approved_on": filing.approved_on,
        "prefecture_code": filing.prefecture,
        **_party_columns("filer", filing.filer),
    }


def annual_report_rows(event: Event) -> Iterator[FactRow]:
    report = AnnualReportPayload.model_validate(event.data)
    yield AnnualReportFact, {
        "org_id": report.org_id,
        "year": report.year,
        "sequence": event.sequence,
        "revenue": report.revenue,
        "employees": report.employees,
    }


def open_licence_rows(event: Event) -> Iterator[FactRow]:
    declaration = OpenLicencePayload.model_validate(event.data)
    yield OpenLicenceFact, {
        "declaration_id": declaration.id,
        "sequence": event.sequence,
        "status": declaration.status,
        "declared_on": declaration.declared_on,
        "owner_kind": declaration.owner_kind,
        "prefecture_code": declaration.prefecture_code,
        "industry": declaration.industry,
        "inst_in_province": declaration.is_in_province_institution,
    }


def demand_rows(event: Event) -> Iterator[FactRow]:
    demand = DemandPayload.model_validate(event.data)
    yield DemandFact, {
        "demand_id": demand.id,
        "sequence": event.sequence,
        "sme_id": demand.sme_id,
        "posted_on": demand.posted_on,
        "year_end": date(demand.posted_on.year, 12, 31),
        "sme_prefecture_code": demand.sme.prefecture,
        "sme_industry": demand.sme.industry,
    }


def match_rows(event: Event) -> Iterator[FactRow]:
    match = MatchPayload.model_validate(event.data)
    yield MatchFact, {"demand_id": match.demand_id, "patent_number": match.patent_number}


def not_counted(_event: Event) -> Iterator[FactRow]:
    """The counting rules read the party snapshots deal, pledge and filing events carry, not these."""
    yield from ()


ROUTES: dict[str, Rows] = {
    "pb.organization.registered.v1": not_counted,
    "pb.organization.updated.v1": not_counted,
    "pb.organization.annual_report_filed.v1": annual_report_rows,
    "pb.patent.registered.v1": not_counted,
    "pb.patent.updated.v1": not_counted,
    "pb.patent.ownership_changed.v1": not_counted,
    "pb.deal.submitted.v1": deal_rows,
    "pb.deal.recorded.v1": deal_rows,
    "pb.deal.payment_received.v1": deal_rows,
    "pb.deal.cancelled.v1": deal_rows,
    "pb.pledge.registered.v1": pledge_rows,
    "pb.pledge.released.v1": pledge_rows,
    "pb.filing.submitted.v1": filing_rows,
    "pb.filing.approved.v1": filing_rows,
    "pb.filing.rejected.v1": filing_rows,
    "pb.filing.revoked.v1": filing_rows,
    "pb.open_licence.declared.v1": open_licence_rows,
    "pb.open_licence.withdrawn.v1": open_licence_rows,
    # The licence an acceptance makes is a deal: it counts through the transactions topic.
    "pb.open_licence.accepted.v1": not_counted,
    # A demand counts as posted: its expiry changes no indicator (and its event carries no SME snapshot).
    "pb.demand.posted.v1": demand_rows,
    "pb.demand.expired.v1": not_counted,
    "pb.match.proposed.v1": match_rows,
}


class FactBatch:
    """The fact rows of a batch of events: per table and fact, the newest state (a payment: the first seen)."""

    def __init__(self, events: list[Event]):
        self.rows: dict[type[Base], dict[tuple[Any, ...], dict[str, Any]]] = {model: {} for model in KEYS}
        self.touched = Touched()
        self.newest: datetime | None = None
        for event in events:
            moment = datetime.fromisoformat(event.time)
            if moment.tzinfo is None:
                raise ValueError(f"event time {event.time!r} has no UTC offset")
            self.newest = moment if self.newest is None else max(self.newest, moment)
            # A type added to the contract later is no error: it is simply not counted yet.
            for model, row in ROUTES.get(event.type, not_counted)(event):
                self._keep(model, row)

    def _keep(self, model: type[Base], row: dict[str, Any]) -> None:
        key = tuple(row[k] for k in KEYS[model][1:])
        kept = self.rows[model].get(key)
        if kept is None or (model not in FIRST_WINS and kept["sequence"] < row["sequence"]):
            self.rows[model][key] = row
        if model is DealFact:
            self.touched.deal_ids.add(row["deal_id"])
            # The SME's demands: this deal may convert one of them.
            self.touched.transferees.add(row["transferee_org_id"])
        elif model in (PaymentFact, DealPatentFact):
            self.touched.deal_ids.add(row["deal_id"])
        elif model is PledgeFact:
            self.touched.pledge_ids.add(row["pledge_id"])
        elif model is FilingFact:
            self.touched.filing_ids.add(row["filing_id"])
        elif model is OpenLicenceFact:
            self.touched.declaration_ids.add(row["declaration_id"])
        elif model in (DemandFact, MatchFact):
            self.touched.demand_ids.add(row["demand_id"])
        else:
            self.touched.report_orgs.add(row["org_id"])

    def write(self, session: Session, generation: int) -> None:
        on_postgres = is_postgres(session)
        for model, rows in self.rows.items():
            if rows:
                statement = (_first_wins if model in FIRST_WINS else _newest_wins)(on_postgres, model, KEYS[model])
                # In key order: two writers of one generation then lock rows in the same order.
                session.execute(statement, [{**row, "generation": generation} for _key, row in sorted(rows.items())])


def apply_events(session: Session, generations: list[int], events: list[Event]) -> None:
    """Apply `events` into each of `generations`: facts, totals and the time of the newest event."""
    batch = FactBatch(events)
    # The rebuild's consumer and the live one both write into a generation being rebuilt: one at a time.
    session.execute(
        select(Generation.generation).where(Generation.generation.in_(generations))
        .order_by(Generation.generation).with_for_update()
    ).all()
    if batch.touched:
        for generation in generations:
            refresh(session, generation, batch.touched, functools.partial(batch.write, session, generation))
    if batch.newest is not None:
        record_event_time(session, generations, batch.newest)


class ProjectionHandler:
    """The consumer handler: applies events into the generations `targets` names, one batch or one event."""

    def __init__(self, targets: Callable[[Session], list[int]]):
        self.targets = targets

    def __call__(self, uow: UnitOfWork, event: Event) -> None:
        self.apply_batch(uow, [event])

    def apply_batch(self, uow: UnitOfWork, events: list[Event]) -> None:
        apply_events(uow.session, self.targets(uow.session), events)
