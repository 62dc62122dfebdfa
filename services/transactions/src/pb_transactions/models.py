"""The transactions service's tables. Its database is its own; no other service reads it.

A deal keeps, besides its own facts, what the registry said about its parties
when it was submitted (the snapshots its events carry) and the sum of its
payments, so that neither a reader nor an event ever needs another lookup.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator, TypeEngine

from pbkit.db import UTCDateTime, install_kit_tables
from pbkit.money import format_money


class Base(DeclarativeBase):
    pass


kit_tables = install_kit_tables(Base.metadata)

# The largest total a deal can hold, in fen: 38 digits, about 10^36 yuan (NUMERIC(38, 0)). With every amount at
# most 10^12 yuan (CONTRACT §9) that is 10^24 maximum payments on one deal; a BIGINT of fen would stop at 92,233.
TOTAL_DIGITS = 38
MAX_TOTAL_FEN = 10**TOTAL_DIGITS - 1


class ExactFen(TypeDecorator[int]):
    """A sum of fen, exact at any size up to MAX_TOTAL_FEN, read back as a Python int.

    PostgreSQL: NUMERIC(38, 0). SQLite: the decimal digits as text, since its INTEGER stops at 2^63 - 1 and its
    NUMERIC affinity turns a larger integer into a float. Nothing in SQL sums or orders these columns.
    """

    impl = Numeric(TOTAL_DIGITS, 0)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(String(TOTAL_DIGITS + 2))
        return dialect.type_descriptor(Numeric(TOTAL_DIGITS, 0))

    def process_bind_param(self, value: int | None, dialect: Dialect) -> str | Decimal | None:
        if value is None:
            return None
        return str(int(value)) if dialect.name == "sqlite" else Decimal(int(value))

    def process_result_value(self, value: Any, _dialect: Dialect) -> int | None:
        return None if value is None else int(value)


class Deal(Base):
    __tablename__ = "deals"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    license_type: Mapped[str | None] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    transferee_id: Mapped[str] = mapped_column(String(64))
    contract_date: Mapped[date] = mapped_column(Date)
    contract_amount_fen: Mapped[int] = mapped_column(BigInteger)
    pledgee_consent: Mapped[bool] = mapped_column(Boolean)
    external_ref: Mapped[str | None] = mapped_column(String(128))
    # A licence's term (CONTRACT §9), when its contract gives one.
    term_start: Mapped[date | None] = mapped_column(Date)
    term_end: Mapped[date | None] = mapped_column(Date)
    recorded_on: Mapped[date | None] = mapped_column(Date)
    recordation_no: Mapped[str | None] = mapped_column(String(64))
    # When the recording was entered (recorded_on may be backdated): orders a patent's chain of title here.
    recorded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    was_recorded: Mapped[bool] = mapped_column(Boolean)
    cancelled_on: Mapped[date | None] = mapped_column(Date)
    cancel_reason: Mapped[str | None] = mapped_column(String(500))
    # The sum of the payments: unbounded by the contract amount (royalties may exceed it), and never overflowing.
    received_amount_fen: Mapped[int] = mapped_column(ExactFen())
    # A recording or cancellation under way (docs/TITLE_ARBITER.md): "record" or "cancel" while the registry is
    # asked to apply it, with what the request asked and since when. Internal: every reader sees the deal as it
    # stands until the step completes; the recovery job completes or compensates one left behind.
    pending: Mapped[str | None] = mapped_column(String(16))
    pending_request: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    pending_since: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    patents: Mapped[list[DealPatent]] = relationship(
        order_by="DealPatent.position", cascade="all, delete-orphan", lazy="selectin"
    )
    parties: Mapped[list[DealParty]] = relationship(
        order_by="[DealParty.role, DealParty.position]", cascade="all, delete-orphan", lazy="selectin"
    )

    __table_args__ = (
        Index("ix_deals_created_by_id", "created_by", "id"),
        Index("ix_deals_transferee_id", "transferee_id"),
        Index("ix_deals_status", "status"),
        Index("ix_deals_recorded_on", "recorded_on"),
        Index("ix_deals_external_ref", "external_ref"),
        Index("ix_deals_pending_since", "pending_since"),
    )

    @property
    def patent_numbers(self) -> list[str]:
        return [p.number for p in self.patents]

    @property
    def patent_count(self) -> int:
        return len(self.patents)

    # Money is held in integer fen and written, on the wire and in events, as a decimal yuan string.
    @property
    def contract_amount(self) -> str:
        return format_money(self.contract_amount_fen)

    @property
    def received_amount(self) -> str:
        return format_money(self.received_amount_fen)

    @property
    def overpaid_amount(self) -> str:
        """What was received beyond the contract amount; "0.00" while the payments do not exceed it."""
        return format_money(max(self.received_amount_fen - self.contract_amount_fen, 0))

    @property
    def transferors(self) -> list[DealParty]:
        return [p for p in self.parties if p.role == "transferor"]

    @property
    def transferee(self) -> DealParty:
        return next(p for p in self.parties if p.role == "transferee")

    @property
    def transferor_ids(self) -> list[str]:
        return [p.org_id for p in self.transferors]


class DealPatent(Base):
    __tablename__ = "deal_patents"

    deal_id: Mapped[str] = mapped_column(ForeignKey("deals.id"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(32))

    __table_args__ = (
        UniqueConstraint("deal_id", "number", name="uq_deal_patents_deal_number"),
        Index("ix_deal_patents_number", "number"),
    )


class DealParty(Base):
    """A transferor or the transferee, as the registry described it at submission."""

    __tablename__ = "deal_parties"

    deal_id: Mapped[str] = mapped_column(ForeignKey("deals.id"), primary_key=True)
    role: Mapped[str] = mapped_column(String(16), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_id: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(255))
    kind: Mapped[str] = mapped_column(String(32))
    size: Mapped[str | None] = mapped_column(String(16))
    region_code: Mapped[str] = mapped_column(String(6))
    prefecture_code: Mapped[str | None] = mapped_column(String(6))
    industry: Mapped[str | None] = mapped_column(String(64))

    __table_args__ = (Index("ix_deal_parties_org_role", "org_id", "role"),)


class Payment(Base):
    """Money actually received (实际到账) on a recorded deal."""

    __tablename__ = "payments"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    deal_id: Mapped[str] = mapped_column(ForeignKey("deals.id"))
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    received_on: Mapped[date] = mapped_column(Date)
    reference: Mapped[str | None] = mapped_column(String(128))
    created_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    deal: Mapped[Deal] = relationship()

    __table_args__ = (
        Index("ix_payments_deal_id_id", "deal_id", "id"),
        # A bank's transaction reference names one transfer of money: posting it twice is a double count.
        UniqueConstraint("deal_id", "reference", name="uq_payments_deal_reference"),
    )

    @property
    def amount(self) -> str:
        return format_money(self.amount_fen)
