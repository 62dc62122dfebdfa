"""How each indicator of CONTRACT.md §8 is counted from the projected facts.

Every measure is a SELECT of *contributions*: one row per fact that counts
within a date window, with the value it adds, the fact it comes from and the
attributes it is broken down by. These selects are the definition of each
indicator. Progress does not run them over all facts: the consumer keeps
per-year totals (projections/aggregates.py) by running them over the facts
an event batch touched, before and after the batch, and adding the
difference. `Measure.total` runs them over every fact: the recount the
totals are checked against.
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
    exists,
    func,
    literal,
    select,
    union_all,
)
from sqlalchemy.orm import Session

from pb_metrics.models import (
    DealFact,
    DealPatentFact,
    DemandFact,
    FilingFact,
    MatchFact,
    OpenLicenceFact,
    PaymentFact,
    PledgeFact,
)
from pbkit.db import any_of, is_postgres
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


def _row(value, on, entity, prefecture, industry, transferor_kind, fact) -> list[ColumnElement]:  # noqa: ANN001
    return [
        fact.label("fact"),
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


def _deals(side: DealSide, value: ColumnElement) -> Branch:
    d = DealFact
    return Branch(
        select(
            *_row(value, d.recorded_on, d.transferee_org_id, side.prefecture, d.transferee_industry,
                  side.transferor_kind, d.deal_id)
        ).where(d.generation == GENERATION, d.status == RECORDED, side.flag),
        fact=d.deal_id,
        entity=d.transferee_org_id,
    )


def _payments(side: DealSide) -> Branch:
    """Payments count in the year received, while their deal is recorded and not cancelled."""
    d, p = DealFact, PaymentFact
    return Branch(
        select(
            *_row(p.amount, p.received_on, d.transferee_org_id, side.prefecture, d.transferee_industry,
                  side.transferor_kind, p.deal_id)
        )
        .join(d, and_(d.generation == p.generation, d.deal_id == p.deal_id))
        .where(p.generation == GENERATION, d.status == RECORDED, side.flag),
        # A payment is touched with its deal: its contribution follows the deal's state.
        fact=p.deal_id,
        entity=d.transferee_org_id,
    )


# --- pledges and filings -----------------------------------------------------------------------

def _pledges(value: ColumnElement, *, smes_only: bool = False) -> Branch:
    p = PledgeFact
    rows = select(
        *_row(value, p.registered_on, p.pledgor_org_id, p.pledgor_prefecture_code, p.pledgor_industry, _nothing(),
              p.pledge_id)
    ).where(p.generation == GENERATION, p.status.in_(REGISTERED_PLEDGE))
    if smes_only:
        rows = rows.where(p.pledgor_sme_in_province.is_(True))
    return Branch(rows, fact=p.pledge_id, entity=p.pledgor_org_id)


_APPROVED_FILINGS = (
    FilingFact.generation == GENERATION,
    FilingFact.status == APPROVED,
)


def _covered_prefectures() -> Branch:
    f = FilingFact
    rows = select(
        *_row(literal(1), f.approved_on, f.prefecture_code, f.prefecture_code, _nothing(), _nothing(), f.filing_id)
    ).where(*_APPROVED_FILINGS, f.prefecture_code.in_(list(PREFECTURES)))
    return Branch(rows, fact=f.filing_id, entity=f.prefecture_code)


def _filing_smes() -> Branch:
    f = FilingFact
    rows = select(
        *_row(literal(1), f.approved_on, f.filer_org_id, f.filer_prefecture_code, f.filer_industry, _nothing(),
              f.filing_id)
    ).where(*_APPROVED_FILINGS, f.filer_sme_in_province.is_(True))
    return Branch(rows, fact=f.filing_id, entity=f.filer_org_id)


def _smes_benefited() -> tuple[Branch, ...]:
    """In-province SMEs (by the snapshot) that received patents in a recorded deal, pledged,
    or had a filing approved."""
    d = DealFact
    deals = Branch(
        select(
            *_row(literal(1), d.recorded_on, d.transferee_org_id, d.transferee_prefecture_code,
                  d.transferee_industry, _nothing(), d.deal_id)
        ).where(
            d.generation == GENERATION, d.status == RECORDED, d.sme_inbound.is_(True),
        ),
        fact=d.deal_id,
        entity=d.transferee_org_id,
    )
    return deals, _pledges(literal(1), smes_only=True), _filing_smes()


# --- open licensing and supply-demand matching (issue 15) --------------------------------------

# A withdrawal ends a declaration but does not un-count it: it was declared.
DECLARED = ("active", "withdrawn")
OPEN = "open"


def _open_licence_declarations() -> Branch:
    """Declarations whose first declarant is an in-province institution, in the year of `declared_on`; broken down by
    that declarant's prefecture and kind and the declaration's industry."""
    o = OpenLicenceFact
    rows = select(
        *_row(literal(1), o.declared_on, o.declaration_id, o.prefecture_code, o.industry, o.owner_kind,
              o.declaration_id)
    ).where(o.generation == GENERATION, o.status.in_(DECLARED), o.inst_in_province.is_(True))
    return Branch(rows, fact=o.declaration_id, entity=o.declaration_id)


def _sme_open_licence_deals() -> Branch:
    """Recorded `open` licence deals whose licensee (the transferee) is an in-province SME: one each."""
    branch = _deals(SME_INBOUND, literal(1))
    return Branch(branch.counted.where(DealFact.license_type == OPEN), fact=branch.fact, entity=branch.entity)


def _converting_deal() -> ColumnElement:
    """A recorded deal, from the day the demand was posted to the end of that year, whose transferee is the
    demand's SME and with a patent among the demand's matches."""
    d, dp, m, q = DealFact, DealPatentFact, MatchFact, DemandFact
    return exists().where(
        d.generation == q.generation, d.transferee_org_id == q.sme_id, d.status == RECORDED,
        d.recorded_on.between(q.posted_on, q.year_end),
        dp.generation == d.generation, dp.deal_id == d.deal_id,
        m.generation == d.generation, m.demand_id == q.demand_id, m.patent_number == dp.patent_number,
    )


def _demands(*, converted: bool) -> Branch:
    """Demands in the year posted (the denominator), or those a deal converted (the numerator), by the SME's
    prefecture and industry."""
    q = DemandFact
    rows = select(
        *_row(literal(1), q.posted_on, q.demand_id, q.sme_prefecture_code, q.sme_industry, _nothing(), q.demand_id)
    ).where(q.generation == GENERATION)
    if converted:
        rows = rows.where(_converting_deal())
    return Branch(rows, fact=q.demand_id, entity=q.demand_id)


# SQLite's SUM stops with "integer overflow" past 2⁶³ − 1, which 100,000 amounts of 10¹⁴ fen (the bound of
# CONTRACT.md §9) exceed. There each value is split at 10⁹ and the two parts are summed apart: every part sum
# stays below 2⁶³ until a billion rows of the largest BIGINT, and Python joins them exactly.
_SPLIT = 10**9


# The facts a batch touched, by kind: the parameter (a list of ids) `Branch.of_facts` selects them by. Each list
# is one parameter (`any_of`), so the union of every branch is one statement for batches of any size.
FACT_IDS = {
    DealFact: "deal_ids",
    PaymentFact: "deal_ids",
    PledgeFact: "pledge_ids",
    FilingFact: "filing_ids",
    OpenLicenceFact: "declaration_ids",
    DemandFact: "demand_ids",
}
ENTITIES = "entities"
FIRST_ID, LAST_ID = bindparam("first_id", type_=String), bindparam("last_id", type_=String)


@dataclass(frozen=True)
class Branch:
    """One select of contributions, from one kind of fact, at any date."""

    counted: Select
    # The id it is touched by (a payment: its deal's), and what a distinct count counts.
    fact: ColumnElement
    entity: ColumnElement

    @property
    def on(self) -> ColumnElement:
        return self.counted.selected_columns.on.element

    @property
    def rows(self) -> Select:
        """The contributions within the window START..END."""
        return self.counted.where(self.on.between(START, END))

    def of_facts(self) -> Select:
        """The contributions of the facts in the batch's id list of this kind (found by id, whatever the date)."""
        return self.counted.where(any_of(self.fact, FACT_IDS[self.fact.class_]))

    def of_id_range(self) -> Select:
        """The contributions of the facts of this kind with ids FIRST_ID..LAST_ID."""
        return self.counted.where(self.fact.between(FIRST_ID, LAST_ID))

    def of_entities(self) -> Select:
        return self.counted.where(any_of(self.entity, ENTITIES))


@dataclass(frozen=True)
class Measure:
    branches: tuple[Branch, ...]
    # Count distinct `entity` values (organizations, prefectures) instead of summing `value`.
    distinct: bool = False
    _numeric_total: Select = field(init=False, repr=False)
    _split_total: Select = field(init=False, repr=False)

    @classmethod
    def of(cls, *branches: Branch, distinct: bool = False) -> Measure:
        return cls(branches, distinct)

    @property
    def rows(self) -> Select | CompoundSelect:
        return self.branches[0].rows if len(self.branches) == 1 else union_all(*(b.rows for b in self.branches))

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
            return exact_int(session.execute(self._numeric_total, window.params()).scalar_one())
        high, low = session.execute(self._split_total, window.params()).one()
        return exact_int(high) * _SPLIT + exact_int(low)

    def contributions(self, session: Session, window: Window) -> list[Any]:
        return list(session.execute(self.rows, window.params()).all())


def exact_int(value: Any) -> int:
    """An aggregate as an integer: an int or an integral Decimal; a float would already have lost digits."""
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        raise TypeError(f"an aggregate of integers came back as {type(value).__name__}")
    if isinstance(value, Decimal) and value != value.to_integral_value():
        raise ValueError(f"an aggregate of integers came back as {value}")
    return int(value)


MEASURES: dict[str, Measure] = {
    "sme_inbound_patents": Measure.of(_deals(SME_INBOUND, DealFact.patent_count)),
    "sme_inbound_contract_amount": Measure.of(_deals(SME_INBOUND, DealFact.contract_amount)),
    "sme_inbound_received_amount": Measure.of(_payments(SME_INBOUND)),
    "inst_outbound_patents": Measure.of(_deals(INST_OUTBOUND, DealFact.patent_count)),
    "inst_outbound_contract_amount": Measure.of(_deals(INST_OUTBOUND, DealFact.contract_amount)),
    "inst_outbound_received_amount": Measure.of(_payments(INST_OUTBOUND)),
    "smes_benefited": Measure.of(*_smes_benefited(), distinct=True),
    "filing_prefecture_coverage": Measure.of(_covered_prefectures(), distinct=True),
    "filing_smes": Measure.of(_filing_smes(), distinct=True),
    "pledge_count": Measure.of(_pledges(literal(1))),
    "pledge_amount": Measure.of(_pledges(PledgeFact.amount)),
    "open_licence_declarations": Measure.of(_open_licence_declarations()),
    "sme_open_licence_deals": Measure.of(_sme_open_licence_deals()),
    # The two counts `demand_deal_conversion` is the quotient of (catalog.RATE_PARTS).
    "demands_converted": Measure.of(_demands(converted=True)),
    "demands_posted": Measure.of(_demands(converted=False)),
}

# The measured value of these is the growth, from the year before to the year, of a quantity the SMEs counted by
# `smes_benefited` report (annual_report_facts): SUM(year) against SUM(year − 1) over those that reported both.
GROWTH_OF_BENEFITED: dict[str, str] = {
    "benefited_sme_revenue_growth": "revenue",
    "benefited_sme_employment_growth": "employees",
}
BENEFITED = "smes_benefited"
