"""The metrics service's tables. Its database is its own; no other service reads it.

Two kinds of data live here:

- programs, their indicators and baselines: data the provincial office edits;
- projections: the newest known state of every deal, payment, pledge, filing
  and annual report, and of the market's open-licence declarations, demands
  and proposed matches, as the events told it. Every projection row carries the
  `generation` it belongs to, so a rebuild can fill generation N+1 from the
  beginning of the event log while queries keep reading generation N.

- aggregates: per generation, indicator, year and key, the totals progress
  reads, kept by the consumer in the transaction that changes the facts
  (projections/aggregates.py); the facts stay their definition
  (progress/measures.py), so duplicated, replayed or reordered events
  converge by construction.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Boolean, Date, ForeignKey, ForeignKeyConstraint, Index, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from pbkit.db import NamedConstraint, UTCDateTime, install_kit_tables


class Base(DeclarativeBase):
    pass


kit_tables = install_kit_tables(Base.metadata)


# --- programs -------------------------------------------------------------------------------


class Program(Base):
    __tablename__ = "programs"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    first_year: Mapped[int] = mapped_column(Integer)
    last_year: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ProgramIndicator(Base):
    """One indicator of a program: which measure (`indicator_id`, see programs/catalog.py) and its targets."""

    __tablename__ = "indicators"

    program_id: Mapped[str] = mapped_column(ForeignKey("programs.id", ondelete="CASCADE"), primary_key=True)
    indicator_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200))
    unit: Mapped[str] = mapped_column(String(16))
    period: Mapped[str] = mapped_column(String(16))
    # A count, or fen for money indicators; null where the indicator has no floor.
    floor: Mapped[int | None] = mapped_column(BigInteger)
    # Minimum growth in ten-thousandths (1000 = 10%), the 4 places growth is reported with.
    growth_target: Mapped[int | None] = mapped_column(Integer)


class Baseline(Base):
    """The value of an indicator in the year before a program's first, against which that year's growth is measured."""

    __tablename__ = "baselines"
    __table_args__ = (
        ForeignKeyConstraint(
            ["program_id", "indicator_id"], ["indicators.program_id", "indicators.indicator_id"], ondelete="CASCADE"
        ),
    )

    program_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    indicator_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    year: Mapped[int] = mapped_column(Integer)
    value: Mapped[int] = mapped_column(BigInteger)


# --- projection bookkeeping -----------------------------------------------------------------


class ProjectionState(Base):
    """A single row naming the generation queries read.

    Every transaction that changes which generations the live consumer writes
    into locks this row; the live consumer reads it with a share lock, so a
    switch never interleaves with an event being applied.
    """

    __tablename__ = "projection_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    active_generation: Mapped[int] = mapped_column(Integer)


class Generation(Base):
    __tablename__ = "projection_generations"

    generation: Mapped[int] = mapped_column(Integer, primary_key=True)
    # The time of the newest event applied into this generation (the `as_of` of progress answers).
    as_of: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Set when no query or consumer uses it any more: its rows are then deleted in small transactions.
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Rebuild(Base):
    __tablename__ = "rebuilds"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    generation: Mapped[int] = mapped_column(Integer, unique=True)
    status: Mapped[str] = mapped_column(String(16), index=True)  # pending | running | completed | failed
    requested_by: Mapped[str] = mapped_column(String(128))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime())
    heartbeat_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    events_applied: Mapped[int] = mapped_column(BigInteger, default=0)
    detail: Mapped[str | None] = mapped_column(Text)


# --- projections: the newest known state of each aggregate ----------------------------------


class DealFact(Base):
    """A deal as its newest event (highest `sequence`) describes it, with the §8 classification of its parties."""

    __tablename__ = "deal_facts"
    __table_args__ = (
        Index("ix_deal_facts_recorded_on", "generation", "recorded_on"),
        Index("ix_deal_facts_transferee", "generation", "transferee_org_id"),
    )

    generation: Mapped[int] = mapped_column(Integer, primary_key=True)
    deal_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    sequence: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(16))
    recorded_on: Mapped[date | None] = mapped_column(Date)
    patent_count: Mapped[int] = mapped_column(Integer)
    contract_amount: Mapped[int] = mapped_column(BigInteger)
    transferee_org_id: Mapped[str] = mapped_column(String(64))
    transferee_prefecture_code: Mapped[str | None] = mapped_column(String(6))
    transferee_industry: Mapped[str | None] = mapped_column(String(64))
    # The transferee is an in-province SME (sme_inbound_*).
    sme_inbound: Mapped[bool] = mapped_column(Boolean)
    # The kind of the first transferor, the deal's side in the transferor_kind breakdown.
    lead_transferor_kind: Mapped[str] = mapped_column(String(32))
    # An in-province university, research institute or state-owned enterprise is a transferor
    # (inst_outbound_*); the first such one gives the kind and prefecture of its breakdowns.
    inst_outbound: Mapped[bool] = mapped_column(Boolean)
    inst_kind: Mapped[str | None] = mapped_column(String(32))
    inst_prefecture_code: Mapped[str | None] = mapped_column(String(6))
    # A licence's type (exclusive, sole, ordinary, open); null for other deals and for deals stored before it was
    # kept (the migration that added it asks for a rebuild).
    license_type: Mapped[str | None] = mapped_column(String(16))


class DealPatentFact(Base):
    """A patent of a deal: what the demand-to-deal conversion matches against a demand's matches."""

    __tablename__ = "deal_patent_facts"
    __table_args__ = (Index("ix_deal_patent_facts_patent", "generation", "patent_number"),)

    generation: Mapped[int] = mapped_column(Integer, primary_key=True)
    deal_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    patent_number: Mapped[str] = mapped_column(String(32), primary_key=True)


class PaymentFact(Base):
    """A payment received on a deal; it counts only while its deal counts (joined at query time)."""

    __tablename__ = "payment_facts"
    __table_args__ = (
        Index("ix_payment_facts_deal", "generation", "deal_id"),
        Index("ix_payment_facts_received_on", "generation", "received_on"),
    )

    generation: Mapped[int] = mapped_column(Integer, primary_key=True)
    payment_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    deal_id: Mapped[str] = mapped_column(String(64))
    amount: Mapped[int] = mapped_column(BigInteger)
    received_on: Mapped[date] = mapped_column(Date)


class PledgeFact(Base):
    __tablename__ = "pledge_facts"
    __table_args__ = (
        Index("ix_pledge_facts_registered_on", "generation", "registered_on"),
        Index("ix_pledge_facts_pledgor", "generation", "pledgor_org_id"),
    )

    generation: Mapped[int] = mapped_column(Integer, primary_key=True)
    pledge_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    sequence: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(16))
    registered_on: Mapped[date] = mapped_column(Date)
    amount: Mapped[int] = mapped_column(BigInteger)
    pledgor_org_id: Mapped[str] = mapped_column(String(64))
    pledgor_prefecture_code: Mapped[str | None] = mapped_column(String(6))
    pledgor_industry: Mapped[str | None] = mapped_column(String(64))
    pledgor_sme_in_province: Mapped[bool] = mapped_column(Boolean)


class FilingFact(Base):
    __tablename__ = "filing_facts"
    __table_args__ = (
        Index("ix_filing_facts_approved_on", "generation", "approved_on"),
        Index("ix_filing_facts_filer", "generation", "filer_org_id"),
        Index("ix_filing_facts_prefecture", "generation", "prefecture_code"),
    )

    generation: Mapped[int] = mapped_column(Integer, primary_key=True)
    filing_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    sequence: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(16))
    approved_on: Mapped[date | None] = mapped_column(Date)
    # Where the filed product is (the filing's own region_code), for prefecture coverage.
    prefecture_code: Mapped[str | None] = mapped_column(String(6))
    filer_org_id: Mapped[str] = mapped_column(String(64))
    filer_prefecture_code: Mapped[str | None] = mapped_column(String(6))
    filer_industry: Mapped[str | None] = mapped_column(String(64))
    filer_sme_in_province: Mapped[bool] = mapped_column(Boolean)


class OpenLicenceFact(Base):
    """An open-licence declaration (pb.market.open_licences) as its newest declared or withdrawn event describes it."""

    __tablename__ = "open_licence_facts"
    __table_args__ = (Index("ix_open_licence_facts_declared_on", "generation", "declared_on"),)

    generation: Mapped[int] = mapped_column(Integer, primary_key=True)
    declaration_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    sequence: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(16))
    declared_on: Mapped[date] = mapped_column(Date)
    # The first declarant's kind and prefecture (the declaration's owner_kind and prefecture_code).
    owner_kind: Mapped[str] = mapped_column(String(32))
    prefecture_code: Mapped[str | None] = mapped_column(String(6))
    industry: Mapped[str | None] = mapped_column(String(64))
    # The first declarant is an in-province university, research institute or state-owned enterprise.
    inst_in_province: Mapped[bool] = mapped_column(Boolean)


class DemandFact(Base):
    """A technology demand (pb.market.demands) as posted, with the SME snapshot it carries."""

    __tablename__ = "demand_facts"
    __table_args__ = (
        Index("ix_demand_facts_posted_on", "generation", "posted_on"),
        Index("ix_demand_facts_sme", "generation", "sme_id"),
    )

    generation: Mapped[int] = mapped_column(Integer, primary_key=True)
    demand_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    sequence: Mapped[int] = mapped_column(BigInteger)
    sme_id: Mapped[str] = mapped_column(String(64))
    posted_on: Mapped[date] = mapped_column(Date)
    # 31 December of the year posted: a deal converts the demand when recorded from posted_on to this day.
    year_end: Mapped[date] = mapped_column(Date)
    sme_prefecture_code: Mapped[str | None] = mapped_column(String(6))
    sme_industry: Mapped[str | None] = mapped_column(String(64))


class MatchFact(Base):
    """A patent proposed to a demand (pb.match.proposed.v1). The market announces a match when it enters the demand's
    kept matches, not when a later ranking drops it: a proposed match stays one here."""

    __tablename__ = "match_facts"
    __table_args__ = (Index("ix_match_facts_patent", "generation", "patent_number"),)

    generation: Mapped[int] = mapped_column(Integer, primary_key=True)
    demand_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    patent_number: Mapped[str] = mapped_column(String(32), primary_key=True)


class AnnualReportFact(Base):
    """An organization's 营业收入 and 从业人员 for a year; a later report for the same year replaces it."""

    __tablename__ = "annual_report_facts"

    generation: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    sequence: Mapped[int] = mapped_column(BigInteger)
    revenue: Mapped[int] = mapped_column(BigInteger)
    employees: Mapped[int] = mapped_column(BigInteger)


# --- aggregates: what progress reads -------------------------------------------------------


class IndicatorTotal(Base):
    """The part of an indicator's value that the facts of one year and one key make up.

    `value` is `high` × 10⁹ + `low`: each part is a BIGINT sum that cannot overflow on either backend, and the
    reader joins them exactly. `prefecture` is the counted party's (a code, `out_of_province`, or '' unknown).
    `dimension` 'all' holds the indicator itself; 'industry', 'transferor_kind' and 'month' its breakdowns by
    `key`; 'now' and 'before' the two sums of the growth indicators, for the report year in `key`. Distinct
    counts count an entity in each year it counts, with `since` the year it counted before (0: none), so a
    window from year F counts the rows with F ≤ year and since < F once per entity.
    """

    __tablename__ = "indicator_totals"

    generation: Mapped[int] = mapped_column(Integer, primary_key=True)
    indicator: Mapped[str] = mapped_column(String(64), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    since: Mapped[int] = mapped_column(Integer, primary_key=True)
    prefecture: Mapped[str] = mapped_column(String(16), primary_key=True)
    dimension: Mapped[str] = mapped_column(String(16), primary_key=True)
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    high: Mapped[int] = mapped_column(BigInteger)
    low: Mapped[int] = mapped_column(BigInteger)


class FirstCounted(Base):
    """For a distinct count, each entity (an SME, a prefecture) and year it counts in: its first contribution that
    year, which its breakdowns and the prefecture scope attribute it to, and the year it counted before."""

    __tablename__ = "first_counted"

    generation: Mapped[int] = mapped_column(Integer, primary_key=True)
    indicator: Mapped[str] = mapped_column(String(64), primary_key=True)
    entity: Mapped[str] = mapped_column(String(64), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    since: Mapped[int] = mapped_column(Integer)
    on: Mapped[date] = mapped_column(Date)
    prefecture: Mapped[str | None] = mapped_column(String(6))
    industry: Mapped[str | None] = mapped_column(String(64))


PROJECTION_FACTS: tuple[type[Base], ...] = (
    DealFact, DealPatentFact, PaymentFact, PledgeFact, FilingFact, OpenLicenceFact, DemandFact, MatchFact,
    AnnualReportFact,
)
# Every table a generation has rows in.
PROJECTION_TABLES: tuple[type[Base], ...] = (*PROJECTION_FACTS, IndicatorTotal, FirstCounted)


# The unique constraints two concurrent requests can both reach (the first check passed for both): a 409.
CONFLICTS = (
    NamedConstraint("programs_pkey", "programs.id", "the request conflicts with existing data"),
    NamedConstraint(
        "baselines_pkey", "baselines.program_id, baselines.indicator_id", "the request conflicts with existing data"
    ),
)
