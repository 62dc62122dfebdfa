"""The outbox relay: publishes committed outbox rows to the bus, in per-key order, then deletes them.

One relay runs per service (a leader lock: a PostgreSQL advisory lock, or a
file lock beside a SQLite database). Each round reads the pending rows —
every row present, so a row that commits late is simply picked up by a later
round — publishes them, waits for the broker's acknowledgement and deletes
exactly the rows that were acknowledged. When a row fails, the rows after it
with the same key stay too, so a key's events never overtake one another; a
failed round backs off exponentially.

Every key gets a turn. A round takes the oldest `batch_size` rows and, when
there are more, the oldest row of up to `batch_size` other keys too: a key with
a backlog of thousands cannot fill every batch while another key's event
waits behind it. The other keys are found by a walk along the (aggregateid,
position) index, one step per key, so a long backlog does not make a round
slower (only the rows held behind a parked row are stepped over one by one).

Poison rows are parked. A row the bus keeps refusing is tried each round, with
the round's backoff, and its `attempts` and `last_error` are kept on it. A try
counts only while the bus is up (it acknowledged other rows that round, or
answers a ping), so an outage of the broker parks nothing. After
`max_attempts` counted tries (`PB_RELAY_MAX_ATTEMPTS`, 10 by default) the row
is parked: `parked_at` is set and the relay passes it over. It stays where it
is, and so do the later rows of its key: a key with a parked row waits, whole,
until an admin retries it, because publishing its later events would put the
key out of order. Every other key flows on. `pb_outbox_parked` (/metrics)
counts the parked rows; `GET /api/v1/outbox/parked` lists them and
`POST /api/v1/outbox/parked/{id}/retry` (or `.../parked/retry`, all of them)
un-parks them with their attempts reset (pbkit.service).

The relay wakes when a transaction that wrote outbox rows commits, rather than
sleeping out its poll interval (which stays as the fallback). The commit wakes
the relay of its own process; on PostgreSQL, when that process does not lead,
it then sends a NOTIFY that the leading relay (in a replica) LISTENs for.
"""

from __future__ import annotations

import fcntl
import logging
import threading
import zlib
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import Engine, Row, Select, Table, delete, event, func, literal_column, select, text, update
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from pbkit.bus.base import BusError, EventBus
from pbkit.db import KitTables
from pbkit.events import utcnow
from pbkit.uow import OUTBOX_WRITTEN

log = logging.getLogger(__name__)

PING_TIMEOUT_S = 2.0
# Each service has its own database, and a NOTIFY reaches the listeners of its database only.
NOTIFY_CHANNEL = "pb_outbox"


class RelayLeadership:
    """At most one relay per service database publishes at a time.

    On PostgreSQL the leader holds a session advisory lock on a connection of its own. A database restart
    (or an administrator's pg_terminate_backend) ends that session and frees the lock while the leader's
    connection object still looks open, so the leader checks, on that live connection, that it still holds
    the lock before every round; if not, it lets the connection go and asks for the lock again like any
    other relay. On SQLite it holds an exclusive lock on a file beside the database.
    """

    def __init__(self, engine: Engine, name: str, *, purpose: str = "outbox-relay"):
        """`purpose` names what is led: the outbox relay by default, or another job that must run in one replica
        at a time (`ServiceKit.add_periodic(..., leader_only=True)`); each purpose has a lock of its own."""
        self.engine = engine
        self.name = name
        self.purpose = purpose
        self.key = zlib.crc32(f"pb-{purpose}:{name}".encode())
        self._lock_suffix = "relay" if purpose == "outbox-relay" else purpose
        self._pg_conn = None
        self._file = None

    def acquire(self) -> bool:
        if self.engine.dialect.name == "postgresql":
            if self._pg_conn is not None and not self._still_held():
                log.warning("%s of %s lost its leadership lock (the database restarted?); asking again",
                            self.purpose, self.name)
                self._drop_pg_conn()
            if self._pg_conn is None:
                conn = self.engine.connect()
                got = conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": self.key}).scalar()
                conn.commit()
                if not got:
                    conn.close()
                    return False
                self._pg_conn = conn
            return True
        if self._file is None:
            database = make_url(str(self.engine.url)).database or "memory"
            handle = open(Path(f"{database}.{self._lock_suffix}.lock"), "a+")  # noqa: SIM115 - held while leader
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                handle.close()
                return False
            self._file = handle
        return True

    @property
    def held(self) -> bool:
        """Whether this process led at its last round (a cheap guess: `acquire` checks for real)."""
        return self._pg_conn is not None or self._file is not None

    def _still_held(self) -> bool:
        """Whether this leader's own database session still holds the lock (asked on that session)."""
        try:
            held = self._pg_conn.execute(
                text(
                    "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted"
                    " AND pid = pg_backend_pid() AND classid = 0 AND objid::bigint = :k AND objsubid = 1)"
                ),
                {"k": self.key},
            ).scalar()
            self._pg_conn.commit()
            return bool(held)
        except Exception:  # noqa: BLE001 - a dead connection is a lost lock, whatever the driver says
            return False

    def _drop_pg_conn(self) -> None:
        """Ends the leader's database session (which frees its lock, if it still held one)."""
        try:
            self._pg_conn.invalidate()
            self._pg_conn.close()
        except Exception:  # noqa: BLE001 - it is gone either way
            log.debug("closing the lost leader connection failed", exc_info=True)
        self._pg_conn = None

    def release(self) -> None:
        if self._pg_conn is not None:
            # Unlock on the session itself, so the lock is free when this returns: ending the session alone frees
            # it only once the server has noticed the closed socket, a moment later (and closing alone would hand
            # the session, lock and all, back to the pool). Then end the session.
            try:
                self._pg_conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": self.key})
                self._pg_conn.commit()
            except Exception:  # noqa: BLE001 - a dead session holds no lock
                log.debug("unlocking on the leader connection failed", exc_info=True)
            self._drop_pg_conn()
        if self._file is not None:
            fcntl.flock(self._file, fcntl.LOCK_UN)
            self._file.close()
            self._file = None


class OutboxRelay:
    def __init__(
        self,
        *,
        session_factory: sessionmaker[Session],
        kit: KitTables,
        bus: EventBus,
        name: str,
        batch_size: int = 500,
        ack_timeout_s: float = 20.0,
        poll_interval_s: float = 0.2,
        max_backoff_s: float = 10.0,
        max_attempts: int = 10,
    ):
        self.session_factory = session_factory
        self.outbox = kit.outbox
        self.bus = bus
        self.batch_size = batch_size
        self.ack_timeout_s = ack_timeout_s
        self.poll_interval_s = poll_interval_s
        self.max_backoff_s = max_backoff_s
        self.max_attempts = max_attempts
        engine = session_factory.kw["bind"]
        self.engine = engine
        self.leadership = RelayLeadership(engine, name)
        self._wake = threading.Event()
        self._wake_on_commit(session_factory)
        # For /metrics: rows the bus acknowledged, and rounds that failed (the bus or the database away, a row
        # refused), since this process started.
        self.published = 0
        self.failed_rounds = 0

    def _wake_on_commit(self, session_factory: sessionmaker[Session]) -> None:
        """A commit that wrote outbox rows wakes the relay: this process's at once, and on PostgreSQL, when the
        leader is another process (a replica), through a NOTIFY it LISTENs for.

        The NOTIFY is sent after the commit, in a statement of its own, not inside the transaction: PostgreSQL
        serialises the commits of transactions that sent a NOTIFY (one lock on the notification queue, held
        through the commit's WAL flush), which on durable settings would queue every write behind the one
        before it."""
        postgres = self.engine.dialect.name == "postgresql"

        @event.listens_for(session_factory, "after_commit")
        def _signal(session: Session) -> None:
            if not session.info.pop(OUTBOX_WRITTEN, False):
                return
            self._wake.set()
            if postgres and not self.leadership.held:
                self._notify_leader()

        @event.listens_for(session_factory, "after_rollback")
        def _forget(session: Session) -> None:
            session.info.pop(OUTBOX_WRITTEN, None)

    def _notify_leader(self) -> None:
        try:
            with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text("SELECT pg_notify(:channel, '')"), {"channel": NOTIFY_CHANNEL})
        except Exception:  # noqa: BLE001 - the commit stands; the leader's poll interval is the fallback
            log.warning("could not notify the outbox relay of a commit; it finds the rows at its next poll",
                        exc_info=True)

    def _listen(self, stop: threading.Event) -> None:
        """PostgreSQL: wake the relay on each NOTIFY of a commit that wrote outbox rows, until `stop`."""
        url = self.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        while not stop.is_set():
            try:
                with psycopg.connect(url, autocommit=True) as conn:
                    conn.execute(f"LISTEN {NOTIFY_CHANNEL}")
                    self._wake.set()  # whatever committed while nobody listened
                    while not stop.is_set():
                        for _ in conn.notifies(timeout=0.5):
                            self._wake.set()
            except psycopg.Error as exc:
                log.warning("outbox relay cannot listen for commits (polling meanwhile): %s", exc)
                stop.wait(self.max_backoff_s)

    def pending(self) -> int:
        """Rows not yet acknowledged by the bus, the parked ones included."""
        with self.session_factory() as session:
            return session.execute(select(func.count()).select_from(self.outbox)).scalar_one()

    def oldest_age_s(self) -> float:
        """Seconds since the oldest row still in the outbox (parked ones included) was written; 0 when empty."""
        with self.session_factory() as session:
            oldest = session.execute(select(func.min(self.outbox.c.created_at))).scalar_one()
        if oldest is None:
            return 0.0
        if oldest.tzinfo is None:  # SQLite's aggregate comes back as a naive UTC datetime or a string
            from datetime import UTC, datetime

            oldest = (datetime.fromisoformat(oldest) if isinstance(oldest, str) else oldest).replace(tzinfo=UTC)
        return max(0.0, (utcnow() - oldest).total_seconds())

    def parked(self) -> int:
        with self.session_factory() as session:
            return session.execute(
                select(func.count()).select_from(self.outbox).where(self.outbox.c.parked_at.is_not(None))
            ).scalar_one()

    def _next_batch(self, session: Session) -> list[Row[Any]]:
        """The oldest `batch_size` rows, and the oldest row of up to `batch_size` other keys, in position order.

        Of each key the batch holds a prefix of its rows, so publishing in position order keeps the key's
        order, and no row at or behind a parked one.
        """
        o, parked = self.outbox, self.outbox.alias("parked")
        columns = (o.c.position, o.c.id, o.c.aggregateid, o.c.topic, o.c.payload, o.c.headers, o.c.attempts)
        oldest = session.execute(
            select(*columns)
            .where(o.c.aggregateid.not_in(select(parked.c.aggregateid).where(parked.c.parked_at.is_not(None))))
            .order_by(o.c.position)
            .limit(self.batch_size)
        ).all()
        if len(oldest) < self.batch_size:
            return oldest  # every row that may go, already
        keys_in_oldest = {row.aggregateid for row in oldest}
        heads = session.execute(select(*columns).where(o.c.position.in_(self._heads()), o.c.parked_at.is_(None))).all()
        others = [row for row in heads if row.aggregateid not in keys_in_oldest]
        return sorted([*oldest, *others], key=lambda row: row.position)

    def _heads(self) -> Select:
        """The positions of the oldest rows of the first `batch_size` keys, in key order: a walk along the
        (aggregateid, position) index, one step per key however many rows each key has. (The keys further on
        still move with the oldest rows.)"""
        o, step = self.outbox, self.outbox.alias("step")
        keys = select(func.min(o.c.aggregateid).label("key"), literal_column("1").label("n")).cte("keys", recursive=True)
        keys = keys.union_all(
            select(
                select(func.min(step.c.aggregateid)).where(step.c.aggregateid > keys.c.key).scalar_subquery(),
                keys.c.n + 1,
            ).where(keys.c.key.is_not(None), keys.c.n < self.batch_size)
        )
        head = select(func.min(step.c.position)).where(step.c.aggregateid == keys.c.key).scalar_subquery()
        return select(head).where(keys.c.key.is_not(None))

    def relay_once(self) -> int:
        """Publish one batch; returns how many rows the broker acknowledged. Raises BusError on failure."""
        if not self.leadership.acquire():
            return 0
        o = self.outbox
        with self.session_factory() as session:
            rows = self._next_batch(session)
            session.rollback()
        if not rows:
            return 0

        deliveries = []
        failures: dict[int, tuple[Row[Any], str]] = {}
        blocked: set[str] = set()
        for row in rows:
            if row.aggregateid in blocked:
                continue
            try:
                deliveries.append((row, self.bus.publish(row.topic, row.aggregateid, row.payload.encode(), row.headers)))
            except BusError as exc:
                failures[row.position] = (row, str(exc))
                blocked.add(row.aggregateid)
        try:
            self.bus.flush(self.ack_timeout_s)
        except BusError as exc:
            log.warning("outbox flush failed: %s", exc)

        acknowledged: list[int] = []
        unacknowledged_keys: set[str] = set()
        for row, delivery in deliveries:
            if row.aggregateid in unacknowledged_keys:
                continue  # stays in the outbox behind the failed row; re-sent after it
            try:
                delivery.result(self.ack_timeout_s)
                acknowledged.append(row.position)
            except BusError as exc:
                failures[row.position] = (row, str(exc))
                unacknowledged_keys.add(row.aggregateid)

        # A refusal by a bus that is up counts towards the cap; one by a bus that is down says nothing of the row.
        bus_is_up = bool(failures) and (bool(acknowledged) or self.bus.ping(PING_TIMEOUT_S))
        with self.session_factory() as session:
            if acknowledged:
                session.execute(delete(o).where(o.c.position.in_(acknowledged)))
            for position, (row, error) in failures.items():
                change: dict[str, Any] = {"last_error": error[:2000]}
                if bus_is_up:
                    change["attempts"] = row.attempts + 1
                    if row.attempts + 1 >= self.max_attempts:
                        change["parked_at"] = utcnow()
                        log.error("outbox row %s (key %s, %s) parked after %d attempts; its key waits: %s",
                                  row.id, row.aggregateid, row.topic, row.attempts + 1, error)
                session.execute(update(o).where(o.c.position == position).values(**change))
            session.commit()
        self.published += len(acknowledged)
        if failures:
            first_error = next(iter(failures.values()))[1]
            raise BusError(f"{len(failures)} outbox row(s) not acknowledged: {first_error}")
        return len(acknowledged)

    def run(self, stop: threading.Event) -> None:
        backoff = self.poll_interval_s
        if self.engine.dialect.name == "postgresql":
            threading.Thread(target=self._listen, args=(stop,), name="pb-outbox-listen", daemon=True).start()
        try:
            while not stop.is_set():
                try:
                    self._wake.clear()  # a commit from here on wakes the wait below
                    published = self.relay_once()
                    backoff = self.poll_interval_s
                    if published:
                        continue
                    self._wake.wait(self.poll_interval_s)
                except Exception as exc:  # noqa: BLE001 - the relay must outlive any single failure
                    self.failed_rounds += 1
                    log.warning("outbox relay round failed, retrying in %.1fs: %s", backoff, exc)
                    stop.wait(backoff)
                    backoff = min(backoff * 2, self.max_backoff_s)
        finally:
            self.leadership.release()


def unpark(session: Session, outbox: Table, event_id: str | None = None) -> list[str]:
    """Un-park the row of `event_id` (or every parked row) with its attempts reset: the relay tries it again.

    Returns the ids un-parked (none when `event_id` is not a parked row). The caller commits.
    """
    stmt = update(outbox).where(outbox.c.parked_at.is_not(None))
    if event_id is not None:
        stmt = stmt.where(outbox.c.id == event_id)
    return list(session.execute(stmt.values(parked_at=None, attempts=0).returning(outbox.c.id)).scalars())
