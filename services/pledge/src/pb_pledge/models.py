"""The pledge service's tables. Its database is its own; no other service reads it."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, Date, ForeignKey, Index, Integer, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from pbkit.db import NamedConstraint, UTCDateTime, install_kit_tables


class Base(DeclarativeBase):
    pass


kit_tables = install_kit_tables(Base.metadata)


class Pledge(Base):
    """A patent pledge registration (专利权质押登记) posted by the pledgee bank."""

    __tablename__ = "pledges"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    status: Mapped[str] = mapped_column(String(16))
    pledgor_id: Mapped[str] = mapped_column(String(64))
    pledgee_id: Mapped[str] = mapped_column(String(64))
    # The parties as the registry described them at submission; the events carry these snapshots.
    pledgor: Mapped[dict[str, Any]] = mapped_column(JSON)
    pledgee: Mapped[dict[str, Any]] = mapped_column(JSON)
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    registered_on: Mapped[date] = mapped_column(Date)
    term_start: Mapped[date] = mapped_column(Date)
    term_end: Mapped[date] = mapped_column(Date)
    registration_no: Mapped[str | None] = mapped_column(String(64))
    co_owner_consent: Mapped[bool] = mapped_column(Boolean)
    released_on: Mapped[date | None] = mapped_column(Date)
    created_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # A registration or release under way (docs/TITLE_ARBITER.md): "register" or "release" while the registry
    # is asked to apply it, with what the request asked and since when. A pledge being registered has the
    # status "pending" and is shown to no one; the recovery job completes or compensates one left behind.
    pending: Mapped[str | None] = mapped_column(String(16))
    pending_request: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    pending_since: Mapped[datetime | None] = mapped_column(UTCDateTime())

    patents: Mapped[list[PledgedPatent]] = relationship(
        order_by="PledgedPatent.position", cascade="all, delete-orphan", lazy="selectin"
    )

    __table_args__ = (
        # A bank's list is "its pledges in id order": one range scan per page.
        Index("ix_pledges_pledgee_id_id", "pledgee_id", "id"),
        Index("ix_pledges_pledgor_id", "pledgor_id"),
        Index("ix_pledges_registered_on", "registered_on"),
        Index("ix_pledges_pending_since", "pending_since"),
    )

    @property
    def patent_numbers(self) -> list[str]:
        return [p.patent_number for p in self.patents]


class PledgedPatent(Base):
    """One patent of a pledge, kept after release (the pledge's history)."""

    __tablename__ = "pledge_patents"

    pledge_id: Mapped[str] = mapped_column(ForeignKey("pledges.id"), primary_key=True)
    patent_number: Mapped[str] = mapped_column(String(16), primary_key=True, index=True)
    position: Mapped[int] = mapped_column(Integer)


class ActivePledgePatent(Base):
    """A patent under an active pledge. The primary key is what makes a second pledge of it impossible,
    even when two requests race; the row is deleted when the pledge is released."""

    __tablename__ = "active_pledge_patents"

    patent_number: Mapped[str] = mapped_column(String(16), primary_key=True)
    pledge_id: Mapped[str] = mapped_column(ForeignKey("pledges.id"), index=True)


# The one constraint a client can hit: a second active pledge of a patent, also when two requests race.
# The rules answer it first, naming the item (`_hold_patents`); named here, it stays a 409 on any other path.
CONFLICTS = (
    NamedConstraint(
        "active_pledge_patents_pkey",
        "active_pledge_patents.patent_number",
        "a patent of this pledge is already under an active pledge",
    ),
)
