"""The market service's tables. Its database is its own; no other service reads it."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, CheckConstraint, Date, ForeignKey, Index, Integer, String, Text, false
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from pbkit.db import NamedConstraint, UTCDateTime, install_kit_tables


class Base(DeclarativeBase):
    pass


kit_tables = install_kit_tables(Base.metadata)

# Declaration and acceptance ids are minted here; whether a patent is already under a declaration is the
# registry's decision (docs/TITLE_ARBITER.md), so no unique constraint here is one a client can hit.
CONFLICTS: tuple[NamedConstraint, ...] = ()

DECLARATION_STATUSES = ("pending", "active", "withdrawn")
FEE_BASES = ("one_time", "royalty", "annual")


class OpenLicence(Base):
    """An open-licence declaration (开放许可声明) and where it stands. A declaration the registry has not yet
    accepted is `pending` and shown to no one; a withdrawal in progress keeps it `active` with `pending` set."""

    __tablename__ = "open_licences"
    __table_args__ = (
        CheckConstraint("status IN (" + ", ".join(f"'{s}'" for s in DECLARATION_STATUSES) + ")",
                        name="ck_open_licences_status"),
        CheckConstraint("fee_basis IN (" + ", ".join(f"'{s}'" for s in FEE_BASES) + ")", name="ck_open_licences_fee_basis"),
        Index("ix_open_licences_status_id", "status", "id"),
        Index("ix_open_licences_pending_since", "pending_since"),
        Index("ix_open_licences_prefecture_code_id", "prefecture_code", "id"),
        Index("ix_open_licences_industry_id", "industry", "id"),
        Index("ix_open_licences_fee_basis_id", "fee_basis", "id"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    status: Mapped[str] = mapped_column(String(16))
    # The declarants (every current owner) as the registry described them at declaration.
    declarant_ids: Mapped[list[str]] = mapped_column(JSON)
    declarants: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    patent_numbers: Mapped[list[str]] = mapped_column(JSON)
    # Each patent as the registry answered it: number, title, type, ipc.
    patents: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    evaluation_reports: Mapped[dict[str, str]] = mapped_column(JSON)
    pledgee_consent: Mapped[bool]
    # The first declarant's kind and prefecture, and the field's industry: what the catalogue filters on.
    owner_kind: Mapped[str] = mapped_column(String(32))
    prefecture_code: Mapped[str | None] = mapped_column(String(6))
    industry: Mapped[str | None] = mapped_column(String(64))
    fee_basis: Mapped[str] = mapped_column(String(16))
    # one_time: the fee; annual: the fee per year; royalty: null.
    fee_fen: Mapped[int | None] = mapped_column(BigInteger)
    # royalty: the rate of sales in basis points (1 = 0.01 %) and the optional minimum for the term.
    royalty_rate_bp: Mapped[int | None] = mapped_column(Integer)
    minimum_fen: Mapped[int | None] = mapped_column(BigInteger)
    # What an acceptance owes at once under the standard: the deal's contract amount.
    due_fen: Mapped[int] = mapped_column(BigInteger)
    term_years: Mapped[int] = mapped_column(Integer)
    contact: Mapped[dict[str, Any]] = mapped_column(JSON)
    description: Mapped[str | None] = mapped_column(Text)
    declared_on: Mapped[date] = mapped_column(Date)
    withdrawn_on: Mapped[date | None] = mapped_column(Date)
    created_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # The step the registry is deciding (docs/TITLE_ARBITER.md, pbkit.pending): "declare" or "withdraw".
    pending: Mapped[str | None] = mapped_column(String(16))
    pending_request: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    pending_since: Mapped[datetime | None] = mapped_column(UTCDateTime())

    ipc: Mapped[list[OpenLicenceIpc]] = relationship(cascade="all, delete-orphan")
    terms: Mapped[list[OpenLicenceTerm]] = relationship(cascade="all, delete-orphan")


class OpenLicenceIpc(Base):
    """The IPC symbols of a declaration's patents, normalised (`G06F 16/27`): a class filter is a prefix of one."""

    __tablename__ = "open_licence_ipc"

    declaration_id: Mapped[str] = mapped_column(ForeignKey("open_licences.id"), primary_key=True)
    symbol: Mapped[str] = mapped_column(String(20), primary_key=True, index=True)


class OpenLicenceTerm(Base):
    """The words of a declaration's titles and description, segmented with jieba: the full-text index."""

    __tablename__ = "open_licence_terms"

    declaration_id: Mapped[str] = mapped_column(ForeignKey("open_licences.id"), primary_key=True)
    term: Mapped[str] = mapped_column(String(64), primary_key=True, index=True)


class Acceptance(Base):
    """A licensee's written notice (书面通知, Patent Law art. 51) taking an open licence, and the `open` licence
    deal the transactions service holds for it."""

    __tablename__ = "acceptances"
    __table_args__ = (Index("ix_acceptances_declaration_id_id", "declaration_id", "id"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    # "pending" while the transactions service is asked for the deal (shown to no one), then "accepted".
    status: Mapped[str] = mapped_column(String(16))
    declaration_id: Mapped[str] = mapped_column(ForeignKey("open_licences.id"))
    licensee_id: Mapped[str] = mapped_column(String(36))
    licensee: Mapped[dict[str, Any]] = mapped_column(JSON)
    accepted_on: Mapped[date] = mapped_column(Date)
    # The licence's term: the declaration's term_years from the acceptance.
    term_start: Mapped[date] = mapped_column(Date)
    term_end: Mapped[date] = mapped_column(Date)
    deal_id: Mapped[str | None] = mapped_column(String(64))
    due_fen: Mapped[int] = mapped_column(BigInteger)
    created_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


DEMAND_STATUSES = ("open", "expired")


class Demand(Base):
    """A technology demand (技术需求) posted for an SME: what it looks for, in its own words, until its expiry date."""

    __tablename__ = "demands"
    __table_args__ = (
        CheckConstraint("status IN (" + ", ".join(f"'{s}'" for s in DEMAND_STATUSES) + ")", name="ck_demands_status"),
        CheckConstraint("budget_min_fen IS NULL OR budget_max_fen IS NULL OR budget_min_fen <= budget_max_fen",
                        name="ck_demands_budget"),
        Index("ix_demands_status_expires_on", "status", "expires_on"),
        Index("ix_demands_sme_id_id", "sme_id", "id"),
        Index("ix_demands_status_matched_generation", "status", "matched_generation"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    status: Mapped[str] = mapped_column(String(16))
    sme_id: Mapped[str] = mapped_column(String(36))
    # The SME as the registry described it when the demand was posted.
    sme: Mapped[dict[str, Any]] = mapped_column(JSON)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)
    # Normalised IPC prefixes (subclass `G06F`, group `G06F 16` or symbol `G06F 16/27`), possibly none.
    ipc: Mapped[list[str]] = mapped_column(JSON)
    industry: Mapped[str] = mapped_column(String(64))
    budget_min_fen: Mapped[int | None] = mapped_column(BigInteger)
    budget_max_fen: Mapped[int | None] = mapped_column(BigInteger)
    prefecture_code: Mapped[str] = mapped_column(String(6))
    posted_on: Mapped[date] = mapped_column(Date)
    # The last day the demand stands; the expiry job closes it the day after.
    expires_on: Mapped[date] = mapped_column(Date)
    expired_on: Mapped[date | None] = mapped_column(Date)
    created_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Set when the demand is posted; the matching job clears it as it ranks.
    match_due: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false(), index=True)
    # The candidates' generation its kept ranking was computed on: an open demand ranked on an older generation
    # than the current one is due again (a change of candidates writes one row, not every open demand).
    matched_generation: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")


class DemandMatch(Base):
    """One of a demand's kept matches (the top 10 of its last ranking), with why it matched."""

    __tablename__ = "demand_matches"
    __table_args__ = (Index("ix_demand_matches_patent_number_demand_id", "patent_number", "demand_id"),)

    demand_id: Mapped[str] = mapped_column(ForeignKey("demands.id"), primary_key=True)
    patent_number: Mapped[str] = mapped_column(String(32), primary_key=True)
    rank: Mapped[int] = mapped_column(Integer)
    # The ranking's score in millionths (an integer, as it is compared and shown, never summed).
    score_micros: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(16))
    declaration_id: Mapped[str | None] = mapped_column(String(36))
    title: Mapped[str] = mapped_column(String(500))
    reasons: Mapped[dict[str, Any]] = mapped_column(JSON)
    proposed_at: Mapped[datetime] = mapped_column(UTCDateTime())


class MatchProposal(Base):
    """A (demand, patent) match ever announced with pb.match.proposed.v1: one that leaves the top 10 and comes back
    is not announced again."""

    __tablename__ = "match_proposals"

    demand_id: Mapped[str] = mapped_column(ForeignKey("demands.id"), primary_key=True)
    patent_number: Mapped[str] = mapped_column(String(32), primary_key=True)
    proposed_at: Mapped[datetime] = mapped_column(UTCDateTime())


class CandidateGeneration(Base):
    """One row: a counter raised by every change of the matching candidates (a declaration made active or withdrawn,
    a patent, owner or deal of the read model)."""

    __tablename__ = "candidate_generation"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    generation: Mapped[int] = mapped_column(BigInteger)


class OrganizationView(Base):
    """The market's read model of an organization, from the registry's events (pb.registry.organizations)."""

    __tablename__ = "organization_views"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(32))
    in_province: Mapped[bool] = mapped_column(Boolean)
    prefecture_code: Mapped[str | None] = mapped_column(String(6))
    industry: Mapped[str | None] = mapped_column(String(64))
    sequence: Mapped[int] = mapped_column(BigInteger)


class PatentView(Base):
    """The market's read model of a patent, from the registry's events (pb.registry.patents)."""

    __tablename__ = "patent_views"
    __table_args__ = (Index("ix_patent_views_status", "status"),)

    number: Mapped[str] = mapped_column(String(32), primary_key=True)
    title: Mapped[str] = mapped_column(String(500))
    ipc: Mapped[list[str]] = mapped_column(JSON)
    owner_ids: Mapped[list[str]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(32))
    sequence: Mapped[int] = mapped_column(BigInteger)


class DealtPatent(Base):
    """A patent ever transferred or licensed (a recorded deal of the deals topic, or a change of owners): no longer
    a sleeping patent."""

    __tablename__ = "dealt_patents"

    number: Mapped[str] = mapped_column(String(32), primary_key=True)
    deal_id: Mapped[str | None] = mapped_column(String(64))
