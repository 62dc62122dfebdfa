"""How each indicator of CONTRACT.md §8 is counted from the projected facts.

Every measure is a SELECT of *contributions*: one row per fact that counts
within a date window, with the value it adds and the attributes it is broken
down by. Totals are SQL aggregates over that select; breakdowns group the
same rows, so they always add up to the total.

Counted on every request: at provincial scale (thousands of facts a year)
that is a few milliseconds. At national scale (10 million deals) the place to
add materialised per-year counters is here, refreshed from the fact tables,
keeping these selects as their definition.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import ColumnElement, CompoundSelect, Select, String, and_, distinct, func, literal, select, union_all
from sqlalchemy.orm import Session

from pb_metrics.models import AnnualReportFact, DealFact, FilingFact, PaymentFact, PledgeFact
from pb_metrics.programs.units import rate
from pbkit.domain.regions import PREFECTURES

RECORDED = "recorded"
APPROVED = "approved"
# A release ends a pledge but does not un-count its registration.
REGISTERED_PLEDGE = ("registered", "released")


@dataclass(frozen=True)
class Window:
    generation: int
    start: date
    end: date

    @classmethod
    def years(cls, generation: int, first: int, last: int) -> Window:
        return cls(generation, date(first, 1, 1), date(last, 12, 31))


def _nothing() -> ColumnElement:
    return literal(None, String)


def _row(value, on, entity, prefecture, industry, transferor_kind) -> list[ColumnElement]:  # noqa: ANN001
    return [
        value.label("value"),
        on.label("on"),
        entity.label("entity"),
        prefecture.label("prefecture"),
        industry.label("industry"),
        transferor_kind.label("transferor_kind"),
    ]


# --- deals -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class DealSide:
    """Which deals count (`flag`) and whose prefecture and transferor kind they are broken down by."""

    flag: Callable[[], ColumnElement]
    prefecture: Callable[[], ColumnElement]
    transferor_kind: Callable[[], ColumnElement]


SME_INBOUND = DealSide(
    flag=lambda: DealFact.sme_inbound.is_(True),
    prefecture=lambda: DealFact.transferee_prefecture_code,
    transferor_kind=lambda: DealFact.lead_transferor_kind,
)
INST_OUTBOUND = DealSide(
    flag=lambda: DealFact.inst_outbound.is_(True),
    prefecture=lambda: DealFact.inst_prefecture_code,
    transferor_kind=lambda: DealFact.inst_kind,
)


def _deals(side: DealSide, value: Callable[[], ColumnElement]) -> Callable[[Window], Select]:
    def rows(w: Window) -> Select:
        d = DealFact
        return select(
            *_row(value(), d.recorded_on, d.transferee_org_id, side.prefecture(), d.transferee_industry, side.transferor_kind())
        ).where(d.generation == w.generation, d.status == RECORDED, side.flag(), d.recorded_on.between(w.start, w.end))

    return rows


def _payments(side: DealSide) -> Callable[[Window], Select]:
    """Payments count in the year received, while their deal is recorded and not cancelled."""

    def rows(w: Window) -> Select:
        d, p = DealFact, PaymentFact
        return (
            select(
                *_row(p.amount, p.received_on, d.transferee_org_id, side.prefecture(), d.transferee_industry, side.transferor_kind())
            )
            .join(d, and_(d.generation == p.generation, d.deal_id == p.deal_id))
            .where(p.generation == w.generation, d.status == RECORDED, side.flag(), p.received_on.between(w.start, w.end))
        )

    return rows


# --- pledges and filings ---------------------------------------------------------------------

def _pledges(value: Callable[[], ColumnElement]) -> Callable[[Window], Select]:
    def rows(w: Window) -> Select:
        p = PledgeFact
        return select(
            *_row(value(), p.registered_on, p.pledgor_org_id, p.pledgor_prefecture_code, p.pledgor_industry, _nothing())
        ).where(p.generation == w.generation, p.status.in_(REGISTERED_PLEDGE), p.registered_on.between(w.start, w.end))

    return rows


def _approved_filings(w: Window) -> tuple:
    f = FilingFact
    return (f.generation == w.generation, f.status == APPROVED, f.approved_on.between(w.start, w.end))


def _covered_prefectures(w: Window) -> Select:
    f = FilingFact
    return select(
        *_row(literal(1), f.approved_on, f.prefecture_code, f.prefecture_code, _nothing(), _nothing())
    ).where(*_approved_filings(w), f.prefecture_code.in_(list(PREFECTURES)))


def _filing_smes(w: Window) -> Select:
    f = FilingFact
    return select(
        *_row(literal(1), f.approved_on, f.filer_org_id, f.filer_prefecture_code, f.filer_industry, _nothing())
    ).where(*_approved_filings(w), f.filer_sme_in_province.is_(True))


def _smes_benefited(w: Window) -> CompoundSelect:
    """In-province SMEs (by the snapshot) that received patents in a recorded deal, pledged, or had a filing approved."""
    d, p = DealFact, PledgeFact
    deals = select(
        *_row(literal(1), d.recorded_on, d.transferee_org_id, d.transferee_prefecture_code, d.transferee_industry, _nothing())
    ).where(d.generation == w.generation, d.status == RECORDED, d.sme_inbound.is_(True), d.recorded_on.between(w.start, w.end))
    pledges = select(
        *_row(literal(1), p.registered_on, p.pledgor_org_id, p.pledgor_prefecture_code, p.pledgor_industry, _nothing())
    ).where(
        p.generation == w.generation,
        p.status.in_(REGISTERED_PLEDGE),
        p.pledgor_sme_in_province.is_(True),
        p.registered_on.between(w.start, w.end),
    )
    return union_all(deals, pledges, _filing_smes(w))


@dataclass(frozen=True)
class Measure:
    rows: Callable[[Window], Select | CompoundSelect]
    # Count distinct `entity` values (organizations, prefectures) instead of summing `value`.
    distinct: bool = False

    def total(self, session: Session, window: Window) -> int:
        contributions = self.rows(window).subquery()
        aggregate = (
            func.count(distinct(contributions.c.entity)) if self.distinct else func.coalesce(func.sum(contributions.c.value), 0)
        )
        # PostgreSQL sums bigints into a numeric; the value is an integer either way.
        return int(session.execute(select(aggregate)).scalar_one())


MEASURES: dict[str, Measure] = {
    "sme_inbound_patents": Measure(_deals(SME_INBOUND, lambda: DealFact.patent_count)),
    "sme_inbound_contract_amount": Measure(_deals(SME_INBOUND, lambda: DealFact.contract_amount)),
    "sme_inbound_received_amount": Measure(_payments(SME_INBOUND)),
    "inst_outbound_patents": Measure(_deals(INST_OUTBOUND, lambda: DealFact.patent_count)),
    "inst_outbound_contract_amount": Measure(_deals(INST_OUTBOUND, lambda: DealFact.contract_amount)),
    "inst_outbound_received_amount": Measure(_payments(INST_OUTBOUND)),
    "smes_benefited": Measure(_smes_benefited, distinct=True),
    "filing_prefecture_coverage": Measure(_covered_prefectures, distinct=True),
    "filing_smes": Measure(_filing_smes, distinct=True),
    "pledge_count": Measure(_pledges(lambda: literal(1))),
    "pledge_amount": Measure(_pledges(lambda: PledgeFact.amount)),
}

# Growth, from the year before to the year, of a quantity the benefited SMEs report every year.
GROWTH_OF_BENEFITED: dict[str, Callable[[], ColumnElement]] = {
    "benefited_sme_revenue_growth": lambda: AnnualReportFact.revenue,
    "benefited_sme_employment_growth": lambda: AnnualReportFact.employees,
}


def benefited_growth(session: Session, indicator_id: str, *, generation: int, first_year: int, year: int) -> Decimal | None:
    """(Σ year − Σ year−1) / Σ year−1 over the SMEs benefited from the first year through `year`
    that reported both years; None when there is no such SME or the earlier sum is zero."""
    quantity = GROWTH_OF_BENEFITED[indicator_id]()
    benefited = _smes_benefited(Window.years(generation, first_year, year)).subquery()
    reports = session.execute(
        select(AnnualReportFact.org_id, AnnualReportFact.year, quantity).where(
            AnnualReportFact.generation == generation,
            AnnualReportFact.year.in_((year - 1, year)),
            AnnualReportFact.org_id.in_(select(benefited.c.entity)),
        )
    ).all()
    by_org: dict[str, dict[int, int]] = {}
    for org_id, report_year, amount in reports:
        by_org.setdefault(org_id, {})[report_year] = int(amount)
    both = [years for years in by_org.values() if len(years) == 2]
    before = sum(years[year - 1] for years in both)
    if not both or before == 0:
        return None
    return rate(sum(years[year] for years in both) - before, before)
