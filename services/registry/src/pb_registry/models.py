"""The registry service's tables. Its database is its own; no other service reads it."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from pbkit.db import NamedConstraint, UTCDateTime, install_kit_tables
from pbkit.domain import SME_SIZE_STANDARD, industries, validate_region_code
from pbkit.domain.regions import GUIZHOU_PROVINCE_CODE


class Base(DeclarativeBase):
    pass


kit_tables = install_kit_tables(Base.metadata)

# The unique constraints a client's request can run into: two admins registering one organization or patent
# at the same moment, or one year's first annual report filed twice at once. The rules check first and
# name the field; these answer the race the check cannot see. PostgreSQL names them (migration
# 85b7534fd6b4: its defaults for the unnamed ones); SQLite names the columns.
CONFLICTS = (
    NamedConstraint("organizations_uscc_key", "organizations.uscc", "an organization with this USCC is already registered"),
    NamedConstraint("patents_pkey", "patents.number", "this patent is already registered"),
    NamedConstraint(
        "uq_annual_reports_org_year",
        "annual_reports.org_id, annual_reports.year",
        "the year's annual report was filed by another request at the same moment; file it again to replace it",
    ),
    NamedConstraint("api_clients_client_id_key", "api_clients.client_id", "a client with this client_id already exists"),
    NamedConstraint("staff_users_username_key", "staff_users.username", "a user with this username already exists"),
    NamedConstraint(
        "title_commands_pkey",
        "title_commands.key",
        "another request for this deal or pledge is being applied at the same moment; ask again to get its outcome",
    ),
)


# --- token signing and API clients -------------------------------------------------------------


class SigningKey(Base):
    """An Ed25519 key the registry signs tokens with; kept so every process and restart signs alike."""

    __tablename__ = "signing_keys"

    kid: Mapped[str] = mapped_column(String(64), primary_key=True)
    private_key_pem: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    active: Mapped[bool]

    # Two registry processes starting on an empty database race to create the key; one wins.
    __table_args__ = (
        Index(
            "uq_signing_keys_one_active",
            "active",
            unique=True,
            sqlite_where=text("active"),
            postgresql_where=text("active"),
        ),
    )


class ApiClient(Base):
    __tablename__ = "api_clients"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    client_id: Mapped[str] = mapped_column(String(128), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))
    org_id: Mapped[str | None] = mapped_column(ForeignKey("organizations.id"))
    secret_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool]
    # Tokens issued before this moment are refused (set when the client is disabled or its secret replaced).
    tokens_valid_after: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


# --- staff users: the people of the provincial office and the prefectures -------------------------


class StaffUser(Base):
    """A person who signs in to the console with a password; their tokens carry `sub` = `id`."""

    __tablename__ = "staff_users"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))
    # For the `prefecture` role only: the 市州 (4 digits + "00") the user is limited to.
    prefecture_code: Mapped[str | None] = mapped_column(String(6))
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool]
    # Consecutive failed sign-ins since the last success or unlock; at the limit the account locks.
    failed_sign_ins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # As for clients: tokens issued before this moment are refused (disabled, or the password changed).
    tokens_valid_after: Mapped[datetime | None] = mapped_column(UTCDateTime())
    password_changed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class SignInFailure(Base):
    """A failed sign-in from a source address, kept for the throttle's window (any username)."""

    __tablename__ = "sign_in_failures"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)
    address: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (Index("ix_sign_in_failures_address_at", "address", "at"),)


# --- organizations -----------------------------------------------------------------------------


class Organization(Base):
    __tablename__ = "organizations"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    uscc: Mapped[str] = mapped_column(String(18), unique=True)
    kind: Mapped[str] = mapped_column(String(32), index=True)
    size: Mapped[str | None] = mapped_column(String(16))
    # "declared" (given by an admin) or "classified" (from an annual report, 2011 SME standard).
    size_source: Mapped[str | None] = mapped_column(String(16))
    size_report_year: Mapped[int | None]
    sme_sector: Mapped[str | None] = mapped_column(String(32))
    region_code: Mapped[str] = mapped_column(String(6), index=True)
    prefecture_code: Mapped[str] = mapped_column(String(6), index=True)
    industry: Mapped[str | None] = mapped_column(String(64), index=True)
    industry_list_version: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    annual_reports: Mapped[list[AnnualReport]] = relationship(
        back_populates="organization", order_by="AnnualReport.year", cascade="all, delete-orphan"
    )

    @property
    def in_province(self) -> bool:
        return self.region_code.startswith(GUIZHOU_PROVINCE_CODE)

    @property
    def region_name(self) -> str | None:
        return validate_region_code(self.region_code).name

    @property
    def prefecture_name(self) -> str | None:
        return validate_region_code(self.region_code).prefecture_name

    @property
    def industry_label(self) -> str | None:
        """The industry's label in the list version it was classified by."""
        return industries(self.industry_list_version).get(self.industry) if self.industry else None

    @property
    def size_basis(self) -> dict[str, Any] | None:
        """Where the size comes from: declared by an admin, or classified from an annual report."""
        if self.size_source == "declared":
            return {"source": "declared"}
        if self.size_source == "classified":
            return {"source": "classified", "standard": SME_SIZE_STANDARD.name, "sector": self.sme_sector,
                    "year": self.size_report_year}
        return None


class AnnualReport(Base):
    """营业收入 and 从业人员 of one year; a later report for the year replaces the earlier one."""

    __tablename__ = "annual_reports"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    org_id: Mapped[str] = mapped_column(ForeignKey("organizations.id"))
    year: Mapped[int] = mapped_column(Integer)
    revenue_fen: Mapped[int] = mapped_column(BigInteger)
    employees: Mapped[int] = mapped_column(Integer)
    total_assets_fen: Mapped[int | None] = mapped_column(BigInteger)
    filed_at: Mapped[datetime] = mapped_column(UTCDateTime())

    organization: Mapped[Organization] = relationship(back_populates="annual_reports")

    __table_args__ = (UniqueConstraint("org_id", "year", name="uq_annual_reports_org_year"),)


# --- patents and their chain of title ----------------------------------------------------------


class Patent(Base):
    __tablename__ = "patents"

    number: Mapped[str] = mapped_column(String(16), primary_key=True)
    title: Mapped[str] = mapped_column(String(500))
    type: Mapped[str] = mapped_column(String(16), index=True)
    status: Mapped[str] = mapped_column(String(16), index=True)
    filing_date: Mapped[date] = mapped_column(Date)
    grant_date: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    owners: Mapped[list[PatentOwner]] = relationship(order_by="PatentOwner.position", cascade="all, delete-orphan")
    ipc: Mapped[list[PatentIPC]] = relationship(order_by="PatentIPC.position", cascade="all, delete-orphan")
    licences: Mapped[list[PatentLicence]] = relationship(order_by="PatentLicence.deal_id", cascade="all, delete-orphan")
    pledges: Mapped[list[PatentPledge]] = relationship(order_by="PatentPledge.pledge_id", cascade="all, delete-orphan")
    open_declarations: Mapped[list[PatentOpenLicence]] = relationship(
        order_by="PatentOpenLicence.declaration_id", cascade="all, delete-orphan"
    )

    @property
    def owner_ids(self) -> list[str]:
        return [o.org_id for o in self.owners]

    @property
    def licensee_ids(self) -> list[str]:
        return sorted({licence.licensee_id for licence in self.licences})

    @property
    def pledge_ids(self) -> list[str]:
        return [p.pledge_id for p in self.pledges]

    @property
    def pledged(self) -> bool:
        return bool(self.pledges)

    @property
    def open_licence_ids(self) -> list[str]:
        return [d.declaration_id for d in self.open_declarations]

    @property
    def ipc_symbols(self) -> list[str]:
        return [i.symbol for i in self.ipc]


class PatentOwner(Base):
    __tablename__ = "patent_owners"

    number: Mapped[str] = mapped_column(ForeignKey("patents.number"), primary_key=True)
    org_id: Mapped[str] = mapped_column(ForeignKey("organizations.id"), primary_key=True, index=True)
    position: Mapped[int]


class PatentIPC(Base):
    __tablename__ = "patent_ipc"

    number: Mapped[str] = mapped_column(ForeignKey("patents.number"), primary_key=True)
    symbol: Mapped[str] = mapped_column(String(20), primary_key=True, index=True)
    position: Mapped[int]


class PatentLicence(Base):
    """A recorded, uncancelled licence: its licensee is among the patent's `licensee_ids`."""

    __tablename__ = "patent_licences"

    number: Mapped[str] = mapped_column(ForeignKey("patents.number"), primary_key=True)
    deal_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    licensee_id: Mapped[str] = mapped_column(ForeignKey("organizations.id"), index=True)
    license_type: Mapped[str | None] = mapped_column(String(16))
    recorded_on: Mapped[date | None] = mapped_column(Date)
    # The licence's term, when the deal gave one: an exclusive or sole licence excludes others only within it.
    # Null ends are open (a licence recorded without a term excludes from its recording on, for ever).
    term_start: Mapped[date | None] = mapped_column(Date)
    term_end: Mapped[date | None] = mapped_column(Date)


class PatentOpenLicence(Base):
    """An open-licence declaration (开放许可声明, Patent Law art. 50) standing on the patent, as the market service
    declared it through the registry's command: while it stands, no exclusive or sole licence is recorded."""

    __tablename__ = "patent_open_licences"

    number: Mapped[str] = mapped_column(ForeignKey("patents.number"), primary_key=True)
    declaration_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    declared_on: Mapped[date] = mapped_column(Date)


class PatentPledge(Base):
    """A registered, unreleased pledge on the patent: while one exists the patent is `pledged`."""

    __tablename__ = "patent_pledges"

    number: Mapped[str] = mapped_column(ForeignKey("patents.number"), primary_key=True)
    pledge_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    pledgee_id: Mapped[str | None] = mapped_column(String(36))
    registered_on: Mapped[date | None] = mapped_column(Date)


class PatentHistoryEntry(Base):
    """One entry of a patent's chain of title, with the event that caused it."""

    __tablename__ = "patent_history"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    number: Mapped[str] = mapped_column(ForeignKey("patents.number"))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    kind: Mapped[str] = mapped_column(String(32))
    effective_on: Mapped[date | None] = mapped_column(Date)
    owners_before: Mapped[list[str]] = mapped_column(JSON)
    owners_after: Mapped[list[str]] = mapped_column(JSON)
    details: Mapped[dict[str, Any]] = mapped_column(JSON)
    cause_event_id: Mapped[str | None] = mapped_column(String(64))
    cause_event_type: Mapped[str | None] = mapped_column(String(128))

    __table_args__ = (Index("ix_patent_history_number_id", "number", "id"),)

    @property
    def cause(self) -> dict[str, str | None]:
        return {"event_id": self.cause_event_id, "event_type": self.cause_event_type}


# --- the title commands (docs/TITLE_ARBITER.md) ---------------------------------------------------


class TitleCommand(Base):
    """A change of title the registry applied at another service's request, keyed by that service's aggregate
    (`deal:<deal_id>`, `pledge:<pledge_id>`): asked again, the command answers what it did the first time.

    `terms` are what identify the change and what undoing it needs: the deal's kind, patents and parties,
    or the pledge's patents, pledgor and pledgee.
    """

    __tablename__ = "title_commands"

    key: Mapped[str] = mapped_column(String(80), primary_key=True)
    state: Mapped[str] = mapped_column(String(16))
    terms: Mapped[dict[str, Any]] = mapped_column(JSON)
    applied_at: Mapped[datetime] = mapped_column(UTCDateTime())
    undone_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
