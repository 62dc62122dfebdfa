"""The product-filing service's tables. Its database is its own; no other service reads it."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, CheckConstraint, Date, Index, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from pbkit.db import NamedConstraint, UTCDateTime, install_kit_tables


class Base(DeclarativeBase):
    pass


kit_tables = install_kit_tables(Base.metadata)

# No unique constraint here is one a client can hit: filing ids are minted by this service, and the same
# product may be filed again (after a rejection, say). Any IntegrityError is therefore a bug (500).
CONFLICTS: tuple[NamedConstraint, ...] = ()

FILING_STATUSES = ("submitted", "approved", "rejected", "revoked")


class Filing(Base):
    """A patent-product filing (专利产品备案) and where its review stands."""

    __tablename__ = "filings"
    __table_args__ = (
        CheckConstraint(
            "status IN (" + ", ".join(f"'{s}'" for s in FILING_STATUSES) + ")", name="ck_filings_status"
        ),
        # Every list is keyset-paginated by id within one filter, so each filter gets (column, id).
        Index("ix_filings_status_id", "status", "id"),
        Index("ix_filings_org_id_id", "org_id", "id"),
        Index("ix_filings_prefecture_code_id", "prefecture_code", "id"),
        Index("ix_filings_created_by_id", "created_by", "id"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    status: Mapped[str] = mapped_column(String(16))
    org_id: Mapped[str] = mapped_column(String(36))
    # The filer as the registry described it at submission; events carry this snapshot.
    filer: Mapped[dict[str, Any]] = mapped_column(JSON)
    product_name: Mapped[str] = mapped_column(String(200))
    # Canonical application numbers, in the order the filer gave them.
    patent_numbers: Mapped[list[str]] = mapped_column(JSON)
    region_code: Mapped[str] = mapped_column(String(6))
    prefecture_code: Mapped[str] = mapped_column(String(6))
    industry: Mapped[str | None] = mapped_column(String(64))
    description: Mapped[str | None] = mapped_column(Text)
    sales_last_year_fen: Mapped[int | None] = mapped_column(BigInteger)
    export_last_year_fen: Mapped[int | None] = mapped_column(BigInteger)
    approved_on: Mapped[date | None] = mapped_column(Date)
    # Why it was rejected or revoked.
    reason: Mapped[str | None] = mapped_column(Text)
    # The client that submitted it: a partner sees and acts on its own filings only.
    created_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
