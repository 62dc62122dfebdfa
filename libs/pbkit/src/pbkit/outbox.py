"""The outbox relay: publishes committed outbox rows to the bus, in per-key order, then deletes them.

One relay runs per service (a leader lock: a PostgreSQL advisory lock, or a
file lock beside a SQLite database). Each round reads the oldest rows by
`position` — every row present, so a row that commits late is simply picked
up by a later round — publishes them, waits for the broker's acknowledgement
and deletes exactly the rows that were acknowledged. When a row fails, the
rows after it with the same key stay too, so a key's events never overtake
one another; a failed round backs off exponentially.
"""

from __future__ import annotations

import fcntl
import logging
import threading
import zlib
from pathlib import Path

from sqlalchemy import Engine, delete, func, select, text, update
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from pbkit.bus.base import BusError, EventBus
from pbkit.db import KitTables

log = logging.getLogger(__name__)


class RelayLeadership:
    """At most one relay per service database publishes at a time."""

    def __init__(self, engine: Engine, name: str):
        self.engine = engine
        self.name = name
        self._pg_conn = None
        self._file = None

    def acquire(self) -> bool:
        if self.engine.dialect.name == "postgresql":
            if self._pg_conn is None:
                conn = self.engine.connect()
                key = zlib.crc32(f"pb-outbox-relay:{self.name}".encode())
                got = conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar()
                conn.commit()
                if not got:
                    conn.close()
                    return False
                self._pg_conn = conn
            return True
        if self._file is None:
            database = make_url(str(self.engine.url)).database or "memory"
            handle = open(Path(f"{database}.relay.lock"), "a+")  # noqa: SIM115 - held while leader
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                handle.close()
                return False
            self._file = handle
        return True

    def release(self) -> None:
        if self._pg_conn is not None:
            self._pg_conn.close()
            self._pg_conn = None
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
    ):
        self.session_factory = session_factory
        self.outbox = kit.outbox
        self.bus = bus
        self.batch_size = batch_size
        self.ack_timeout_s = ack_timeout_s
        self.poll_interval_s = poll_interval_s
        self.max_backoff_s = max_backoff_s
        engine = session_factory.kw["bind"]
        self.leadership = RelayLeadership(engine, name)

    def pending(self) -> int:
        with self.session_factory() as session:
            return session.execute(select(func.count()).select_from(self.outbox)).scalar_one()

    def relay_once(self) -> int:
        """Publish one batch; returns how many rows the broker acknowledged. Raises BusError on failure."""
        if not self.leadership.acquire():
            return 0
        o = self.outbox
        with self.session_factory() as session:
            rows = session.execute(
                select(o.c.position, o.c.aggregateid, o.c.topic, o.c.payload, o.c.headers)
                .order_by(o.c.position)
                .limit(self.batch_size)
            ).all()
            session.rollback()
        if not rows:
            return 0

        deliveries = []
        failures: dict[int, str] = {}
        blocked: set[str] = set()
        for row in rows:
            if row.aggregateid in blocked:
                continue
            try:
                deliveries.append((row, self.bus.publish(row.topic, row.aggregateid, row.payload.encode(), row.headers)))
            except BusError as exc:
                failures[row.position] = str(exc)
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
                failures[row.position] = str(exc)
                unacknowledged_keys.add(row.aggregateid)

        with self.session_factory() as session:
            if acknowledged:
                session.execute(delete(o).where(o.c.position.in_(acknowledged)))
            for position, error in failures.items():
                session.execute(
                    update(o).where(o.c.position == position).values(attempts=o.c.attempts + 1, last_error=error[:2000])
                )
            session.commit()
        if failures:
            raise BusError(f"{len(failures)} outbox row(s) not acknowledged: {next(iter(failures.values()))}")
        return len(acknowledged)

    def run(self, stop: threading.Event) -> None:
        backoff = self.poll_interval_s
        try:
            while not stop.is_set():
                try:
                    published = self.relay_once()
                    backoff = self.poll_interval_s
                    if published:
                        continue
                    stop.wait(self.poll_interval_s)
                except Exception as exc:  # noqa: BLE001 - the relay must outlive any single failure
                    log.warning("outbox relay round failed, retrying in %.1fs: %s", backoff, exc)
                    stop.wait(backoff)
                    backoff = min(backoff * 2, self.max_backoff_s)
        finally:
            self.leadership.release()
