"""How each indicator of CONTRACT.md §8 is counted from the projected facts.

Every measure is a SELECT of *contributions*: one row per fact that counts
within a date window, with the value it adds and the attributes it is broken
down by. Totals are SQL aggregates over that select; breakdowns group the
same rows, so they always add up to the total. The statements are built once,
with the generation and the window as bound parameters.

Counted on every request: at provincial scale (thousands of facts a year)
that is a few milliseconds. At national scale (10 million deals) the place to
add materialised per-year counters is here, refreshed from the fact tables,
keeping these selects as their definition.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    ColumnElement,
    CompoundSelect,
    Date,
    Integer,
    Numeric,
    Select,
    String,
    and_,
    bindparam,
    cast,
    distinct,
    func,
    literal,
    select,
    union_all,
)
from sqlalchemy.orm import Session

from pb_metrics.models import AnnualReportFact, DealFact, FilingFact, PaymentFact, PledgeFact
from pb_metrics.programs.units import rate
from pbkit.db import is_postgres
from pbkit.domain.regions import PREFECTURES

RECORDED = "recorded"
APPROVED = "approved"
# A release ends a pledge but does not un-count its registration.
REGISTERED_PLEDGE = ("registered", "released")

GENERATION = bindparam("generation", type_=Integer)
START = bindparam("start", type_=Date)
END = bindparam("end", type_=Date)


@dataclass(frozen=True)
class Window:
    generation: int
    start: date
    end: date

    @classmethod
    def years(cls, generation: int, first: int, last: int) -> Window:
        return cls(generation, date(first, 1, 1), date(last, 12, 31))

    def params(self) -> dict[str, Any]:
        return {"generation": self.generation, "start": self.start, "end": self.end}


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


# --- deals -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class DealSide:
    """Which deals count (`flag`) and whose prefecture and transferor kind they are broken down by."""

    flag: ColumnElement
    prefecture: ColumnElement
    transferor_kind: ColumnElement


SME_INBOUND = DealSide(
    DealFact.sme_inbound.is_(True), DealFact.transferee_prefecture_code, DealFact.lead_transferor_kind
)
INST_OUTBOUND = DealSide(DealFact.inst_outbound.is_(True), DealFact.inst_prefecture_code, DealFact.inst_kind)


def _deals(side: DealSide, value: ColumnElement) -> Select:
    d = DealFact
    return select(
        *_row(value, d.recorded_on, d.transferee_org_id, side.prefecture, d.transferee_industry, side.transferor_kind)
    ).where(d.generation == GENERATION, d.status == RECORDED, side.flag, d.recorded_on.between(START, END))


def _payments(side: DealSide) -> Select:
    """Payments count in the year received, while their deal is recorded and not cancelled."""
    d, p = DealFact, PaymentFact
    return (
        select(
            *_row(
                p.amount, p.received_on, d.transferee_org_id, side.prefecture, d.transferee_industry, side.transferor_kind
            )
        )
        .join(d, and_(d.generation == p.generation, d.deal_id == p.deal_id))
        .where(p.generation == GENERATION, d.status == RECORDED, side.flag, p.received_on.between(START, END))
    )


# --- pledges and filings -----------------------------------------------------------------------

def _pledges(value: ColumnElement) -> Select:
    p = PledgeFact
    return select(
        *_row(value, p.registered_on, p.pledgor_org_id, p.pledgor_prefecture_code, p.pledgor_industry, _nothing())
    ).where(p.generation == GENERATION, p.status.in_(REGISTERED_PLEDGE), p.registered_on.between(START, END))


_APPROVED_FILINGS = (
    FilingFact.generation == GENERATION,
    FilingFact.status == APPROVED,
    FilingFact.approved_on.between(START, END),
)


def _covered_prefectures() -> Select:
    f = FilingFact
    return select(
        *_row(literal(1), f.approved_on, f.prefecture_code, f.prefecture_code, _nothing(), _nothing())
    ).where(*_APPROVED_FILINGS, f.prefecture_code.in_(list(PREFECTURES)))


def _filing_smes() -> Select:
    f = FilingFact
    return select(
        *_row(literal(1), f.approved_on, f.filer_org_id, f.filer_prefecture_code, f.filer_industry, _nothing())
    ).where(*_APPROVED_FILINGS, f.filer_sme_in_province.is_(True))


def _smes_benefited() -> CompoundSelect:
    """In-province SMEs (by the snapshot) that received patents in a recorded deal, pledged,
    or had a filing approved."""
    d, p = DealFact, PledgeFact
    deals = select(
        *_row(literal(1), d.recorded_on, d.transferee_org_id, d.transferee_prefecture_code, d.transferee_industry,
              _nothing())
    ).where(
        d.generation == GENERATION, d.status == RECORDED, d.sme_inbound.is_(True), d.recorded_on.between(START, END)
    )
    pledges = select(
        *_row(literal(1), p.registered_on, p.pledgor_org_id, p.pledgor_prefecture_code, p.pledgor_industry, _nothing())
    ).where(
        p.generation == GENERATION,
        p.status.in_(REGISTERED_PLEDGE),
        p.pledgor_sme_in_province.is_(True),
        p.registered_on.between(START, END),
    )
    return union_all(deals, pledges, _filing_smes())


# SQLite's SUM stops with "integer overflow" past 2⁶³ − 1, which 100,000 amounts of 10¹⁴ fen (the bound of
# CONTRACT.md §9) exceed. There each value is split at 10⁹ and the two parts are summed apart: every part sum
# stays below 2⁶³ until a billion rows of the largest BIGINT, and Python joins them exactly.
_SPLIT = 10**9


@dataclass(frozen=True)
class Measure:
    rows: Select | CompoundSelect
    # Count distinct `entity` values (organizations, prefectures) instead of summing `value`.
    distinct: bool = False
    _numeric_total: Select = field(init=False, repr=False)
    _split_total: Select = field(init=False, repr=False)

    def __post_init__(self) -> None:
        contributions = self.rows.subquery()
        value = contributions.c.value
        if self.distinct:
            count = func.count(distinct(contributions.c.entity))
            numeric, split = select(count), select(literal(0), count)
        else:
            # PostgreSQL: NUMERIC has no overflow to speak of, and the driver answers a Decimal, never a float.
            numeric = select(func.coalesce(func.sum(cast(value, Numeric)), 0))
            split = select(
                func.coalesce(func.sum(value.op("/")(_SPLIT)), 0), func.coalesce(func.sum(value.op("%")(_SPLIT)), 0)
            )
        object.__setattr__(self, "_numeric_total", numeric)
        object.__setattr__(self, "_split_total", split)

    def total(self, session: Session, window: Window) -> int:
        """The exact total, as a Python integer, on both backends."""
        if is_postgres(session):
            return _exact_int(session.execute(self._numeric_total, window.params()).scalar_one())
        high, low = session.execute(self._split_total, window.params()).one()
        return _exact_int(high) * _SPLIT + _exact_int(low)

    def contributions(self, session: Session, window: Window) -> list[Any]:
        return list(session.execute(self.rows, window.params()).all())


def _exact_int(value: Any) -> int:
    """An aggregate as an integer: an int or an integral Decimal; a float would already have lost digits."""
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        raise TypeError(f"an aggregate of integers came back as {type(value).__name__}")
    if isinstance(value, Decimal) and value != value.to_integral_value():
        raise ValueError(f"an aggregate of integers came back as {value}")
    return int(value)


SMES_BENEFITED = Measure(_smes_benefited(), distinct=True)

MEASURES: dict[str, Measure] = {
    "sme_inbound_patents": Measure(_deals(SME_INBOUND, DealFact.patent_count)),
    "sme_inbound_contract_amount": Measure(_deals(SME_INBOUND, DealFact.contract_amount)),
    "sme_inbound_received_amount": Measure(_payments(SME_INBOUND)),
    "inst_outbound_patents": Measure(_deals(INST_OUTBOUND, DealFact.patent_count)),
    "inst_outbound_contract_amount": Measure(_deals(INST_OUTBOUND, DealFact.contract_amount)),
    "inst_outbound_received_amount": Measure(_payments(INST_OUTBOUND)),
    "smes_benefited": SMES_BENEFITED,
    "filing_prefecture_coverage": Measure(_covered_prefectures(), distinct=True),
    "filing_smes": Measure(_filing_smes(), distinct=True),
    "pledge_count": Measure(_pledges(literal(1))),
    "pledge_amount": Measure(_pledges(PledgeFact.amount)),
}


def _reports_of_benefited(quantity: ColumnElement) -> Select:
    benefited = SMES_BENEFITED.rows.subquery()
    r = AnnualReportFact
    return select(r.org_id, r.year, quantity).where(
        r.generation == GENERATION,
        r.year.in_((bindparam("previous_year", type_=Integer), bindparam("year", type_=Integer))),
        r.org_id.in_(select(benefited.c.entity)),
    )


# Growth, from the year before to the year, of a quantity the benefited SMEs report every year.
GROWTH_OF_BENEFITED: dict[str, Select] = {
    "benefited_sme_revenue_growth": _reports_of_benefited(AnnualReportFact.revenue),
    "benefited_sme_employment_growth": _reports_of_benefited(AnnualReportFact.employees),
}


def benefited_growth(
    session: Session, indicator_id: str, *, generation: int, first_year: int, year: int
) -> Decimal | None:
    """(Σ year − Σ year−1) / Σ year−1 over the SMEs benefited from the first year through `year`
    that reported both years; None when there is no such SME or the earlier sum is zero."""
    params = Window.years(generation, first_year, year).params() | {"previous_year": year - 1, "year": year}
    by_org: dict[str, dict[int, int]] = {}
    for org_id, report_year, amount in session.execute(GROWTH_OF_BENEFITED[indicator_id], params):
        by_org.setdefault(org_id, {})[report_year] = int(amount)
    both = [years for years in by_org.values() if len(years) == 2]
    before = sum(years[year - 1] for years in both)
    if not both or before == 0:
        return None
    return rate(sum(years[year] for years in both) - before, before)
