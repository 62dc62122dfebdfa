"""Database access: engines for SQLite (embedded default) and PostgreSQL, and the kit's own tables.

Every service owns one database. Besides its domain tables it carries the
kit tables defined here (outbox, per-aggregate event sequences, processed
events, idempotency keys, audit log), attached to the service's own metadata
so that its Alembic history creates them.
"""

from __future__ import annotations

import json
import threading
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    DateTime,
    Engine,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    bindparam,
    create_engine,
    event,
    text,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Dialect, make_url
from sqlalchemy.exc import CompileError, IntegrityError
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.sql.elements import BindParameter, ColumnElement
from sqlalchemy.sql.visitors import InternalTraversal


class UTCDateTime(TypeDecorator):
    """A timezone-aware UTC timestamp on both backends (SQLite would hand back naive datetimes)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, _dialect):  # noqa: ANN001, ANN201
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime given for a UTC timestamp column")
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value: datetime | None, _dialect):  # noqa: ANN001, ANN201
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# SQLite needs an INTEGER PRIMARY KEY to auto-increment; PostgreSQL gets a BIGINT identity.
AutoIncrementId = BigInteger().with_variant(Integer(), "sqlite")


_PARKED = text("parked_at IS NOT NULL")


class _StringList(TypeDecorator):
    """A list of strings as one parameter: a JSON array on SQLite (read with json_each), a text[] on PostgreSQL."""

    impl = Text
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect):  # noqa: ANN201
        if dialect.name == "postgresql":
            return dialect.type_descriptor(postgresql.ARRAY(Text))
        return dialect.type_descriptor(Text())

    def process_bind_param(self, value: Iterable[str] | None, dialect: Dialect) -> object:
        if value is None:
            return None
        # Strings only, and a list of them, not one: a JSON number never equals a TEXT value on SQLite, where
        # PostgreSQL's text[] would match it, and a bare string would be taken for its characters.
        values = list(value) if not isinstance(value, str) else None
        if values is None or not all(isinstance(v, str) for v in values):
            raise TypeError(f"any_of takes a collection of strings, not {value!r}")
        return values if dialect.name == "postgresql" else json.dumps(values)


class AnyOf(ColumnElement[bool]):
    """`column IN (the strings of one parameter)`, however many there are (see `any_of`)."""

    __visit_name__ = "any_of"
    inherit_cache = True
    _traverse_internals = [("column", InternalTraversal.dp_clauseelement), ("values", InternalTraversal.dp_clauseelement)]

    def __init__(self, column: ColumnElement, values: BindParameter):
        self.column = column
        self.values = values


def any_of(column: ColumnElement, name: str) -> AnyOf:
    """`column IN (…)` over the list of strings bound to the parameter `name`, as one parameter.

    An expanding IN renders one SQL text per number of values, and the drivers keep a prepared statement per
    text: a query run with lists of every length is prepared again and again, and each connection's statement
    cache fills with copies of it. This text is the same for any number: `IN (SELECT value FROM json_each(?))`
    on SQLite, `= ANY(%(name)s)` with a text[] on PostgreSQL; both look the values up in the column's index.
    """
    return AnyOf(column, bindparam(name, type_=_StringList()))


@compiles(AnyOf, "postgresql")
def _any_of_postgresql(element: AnyOf, compiler, **kw) -> str:  # noqa: ANN001
    return f"{compiler.process(element.column, **kw)} = ANY({compiler.process(element.values, **kw)})"


@compiles(AnyOf, "sqlite")
def _any_of_sqlite(element: AnyOf, compiler, **kw) -> str:  # noqa: ANN001
    return f"{compiler.process(element.column, **kw)} IN (SELECT value FROM json_each({compiler.process(element.values, **kw)}))"


@compiles(AnyOf)
def _any_of_elsewhere(element: AnyOf, compiler, **kw) -> str:  # noqa: ANN001, ARG001
    raise CompileError(f"any_of is written for SQLite and PostgreSQL, not {compiler.dialect.name}")


@dataclass(frozen=True)
class KitTables:
    outbox: Table
    event_sequences: Table
    processed_events: Table
    idempotency_keys: Table
    audit_log: Table


def install_kit_tables(metadata: MetaData) -> KitTables:
    """Define the kit tables on a service's metadata (once per metadata)."""
    outbox = Table(
        "outbox",
        metadata,
        # Debezium outbox column names; `position` orders the relay, `id` is the event id.
        Column("position", AutoIncrementId, primary_key=True, autoincrement=True),
        Column("id", String(36), nullable=False, unique=True),
        Column("aggregatetype", String(64), nullable=False),
        Column("aggregateid", String(128), nullable=False),
        Column("type", String(128), nullable=False),
        Column("topic", String(128), nullable=False),
        Column("sequence", BigInteger, nullable=False),
        Column("payload", Text, nullable=False),
        Column("headers", JSON, nullable=False),
        Column("created_at", UTCDateTime(), nullable=False),
        # Tries against a reachable bus, and what it said last; at the relay's cap the row is parked (pbkit.outbox).
        Column("attempts", Integer, nullable=False, default=0),
        Column("last_error", Text),
        Column("parked_at", UTCDateTime()),
        # The relay walks the keys' oldest rows along the first index; the second holds the few parked rows only.
        Index("ix_outbox_aggregateid_position", "aggregateid", "position"),
        Index("ix_outbox_parked", "aggregateid", sqlite_where=_PARKED, postgresql_where=_PARKED),
    )
    event_sequences = Table(
        "event_sequences",
        metadata,
        Column("aggregatetype", String(64), primary_key=True),
        Column("aggregateid", String(128), primary_key=True),
        Column("last_sequence", BigInteger, nullable=False),
    )
    processed_events = Table(
        "processed_events",
        metadata,
        Column("consumer", String(128), primary_key=True),
        Column("event_id", String(64), primary_key=True),
        Column("processed_at", UTCDateTime(), nullable=False),
    )
    idempotency_keys = Table(
        "idempotency_keys",
        metadata,
        Column("client_id", String(128), primary_key=True),
        Column("key", String(255), primary_key=True),
        Column("operation", String(255), nullable=False),
        Column("request_hash", String(64), nullable=False),
        Column("status_code", Integer, nullable=False),
        Column("response_body", JSON, nullable=False),
        Column("created_at", UTCDateTime(), nullable=False),
    )
    audit_log = Table(
        "audit_log",
        metadata,
        Column("id", String(36), primary_key=True),
        Column("at", UTCDateTime(), nullable=False),
        Column("actor", String(128), nullable=False),
        Column("role", String(32)),
        Column("action", String(128), nullable=False),
        Column("target_type", String(64)),
        Column("target_id", String(128)),
        Column("request_id", String(64)),
        Column("details", JSON),
        Index("ix_audit_log_target", "target_type", "target_id"),
    )
    return KitTables(outbox, event_sequences, processed_events, idempotency_keys, audit_log)


# PostgreSQL pool of one process: 10 kept open, 10 more under load. deploy/postgres.sh sizes max_connections
# (300) so that 2 replicas of every service fit at these sizes (the arithmetic is there).
DEFAULT_POOL_SIZE = 10
DEFAULT_MAX_OVERFLOW = 10
SQLITE_BUSY_TIMEOUT_S = 30
# SQLite's own page cache, per connection, in KiB (its default is 2,000). A pool keeps up to 20 connections, and
# every one fills its cache; the files' pages stay in the system's cache besides, where a miss costs a read
# call. 512 KiB each took 5-10 MiB off a service's resident size after the bench's load (docs/PERFORMANCE.md).
# SQLite's sorter sizes its memory by the same setting: a sort larger than that (a recount's, a rebuild's, an
# index built by a migration) spills to temporary files sooner; the bench's rebuild figure did not move.
SQLITE_CACHE_KIB = 512


def make_engine(url: str, *, echo: bool = False, pool_size: int = DEFAULT_POOL_SIZE,
                max_overflow: int = DEFAULT_MAX_OVERFLOW) -> Engine:
    """An engine for either backend; SQLite gets WAL, a busy timeout and foreign keys."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        pool: dict[str, int] = {}
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
            # As many pooled connections as PostgreSQL's: a request beyond them waits for one, where a 5 + 10
            # pool opened and closed a connection (and SQLite read its schema again) for most requests at 32.
            pool = {"pool_size": pool_size, "max_overflow": max_overflow}
        engine = create_engine(url, echo=echo, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S, "check_same_thread": False},
                               **pool)
        # This process's writers queue here for SQLite's one write lock, each woken the moment the one before
        # it ends, instead of each polling the lock with SQLite's busy handler (sleeps growing to 100 ms, in no
        # order: at 32 writers some waited seconds). Other processes still meet the busy handler; the lock is
        # SQLite's, this only orders the way to it.
        writers = threading.Lock()
        holding: set[int] = set()

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):  # noqa: ANN001
            dbapi_connection.isolation_level = None  # let SQLAlchemy emit BEGIN itself
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_S * 1000}")
            cursor.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn):  # noqa: ANN001
            # A unit of work takes the write lock up front: a deferred transaction that reads and then writes
            # fails with SQLITE_BUSY instead of waiting when another process wrote in between. A read-only
            # session stays deferred, so under WAL it reads its snapshot without queueing behind any writer.
            if conn.get_execution_options().get(READ_ONLY):
                conn.exec_driver_sql("BEGIN")
                return
            # Past the busy timeout the writer goes on to SQLite's own wait, as it would have without the queue.
            if writers.acquire(timeout=SQLITE_BUSY_TIMEOUT_S):
                holding.add(id(conn))
            try:
                conn.exec_driver_sql("BEGIN IMMEDIATE")
            except BaseException:
                _sqlite_end(conn)
                raise

        @event.listens_for(engine, "commit")
        @event.listens_for(engine, "rollback")
        def _sqlite_end(conn):  # noqa: ANN001
            if id(conn) in holding:
                holding.discard(id(conn))
                writers.release()

        return engine
    return create_engine(url, echo=echo, pool_pre_ping=True, pool_size=pool_size, max_overflow=max_overflow)


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


READ_ONLY = "pb_read_only"


def make_read_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions for reading only (GET handlers): on SQLite a deferred transaction, on PostgreSQL autocommit, so
    a read neither waits for the write lock nor pays a BEGIN and a ROLLBACK round trip. Writing through one is a
    bug: on PostgreSQL each statement would commit on its own."""
    if engine.dialect.name == "postgresql":
        return sessionmaker(engine.execution_options(isolation_level="AUTOCOMMIT", **{READ_ONLY: True}),
                            expire_on_commit=False)
    return sessionmaker(engine.execution_options(**{READ_ONLY: True}), expire_on_commit=False)


def is_postgres(engine_or_session: Engine | Session) -> bool:
    bind = engine_or_session.get_bind() if isinstance(engine_or_session, Session) else engine_or_session
    return bind.dialect.name == "postgresql"


def lock_for_transaction(session: Session, name: str) -> None:
    """Serialise transactions that touch the same named thing (a patent, say) until this one ends.

    PostgreSQL: a transaction-scoped advisory lock. SQLite already runs one writer at a time.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": zlib.crc32(name.encode())})


@dataclass(frozen=True)
class NamedConstraint:
    """A constraint whose violation is the client's conflict, with what to tell the client.

    PostgreSQL names the constraint (`diag.constraint_name`); SQLite names only the columns, so a unique
    constraint is known there by its `table.column` list as SQLite's message prints it.
    """

    name: str
    sqlite_columns: str
    detail: str

    def violated_by(self, exc: IntegrityError) -> bool:
        diag = getattr(exc.orig, "diag", None)
        if diag is not None:
            return getattr(diag, "constraint_name", None) == self.name
        message = str(exc.orig)
        # "NOT NULL constraint failed: t.a" names the columns too, but a missing value is a bug, not a conflict.
        return message.endswith(f"constraint failed: {self.sqlite_columns}") and not message.startswith("NOT NULL")


def violated_constraint(exc: IntegrityError, constraints: tuple[NamedConstraint, ...]) -> NamedConstraint | None:
    """The named constraint `exc` violated, or None when it is none of them (then it is a bug)."""
    return next((c for c in constraints if c.violated_by(exc)), None)
