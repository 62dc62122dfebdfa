"""The consumer runner: applies events exactly once in effect.

For each message: the handler runs inside a unit of work together with the
insert of the event id into `processed_events`, and that transaction commits
before the bus offset does. A redelivered event finds its id already there
and is skipped, so an event applied twice has the effect of once.

A polled batch is applied set-wise, in one transaction: one
`INSERT … ON CONFLICT DO NOTHING RETURNING` claims the ids of the batch in
`processed_events` and answers which ones are new, and only those reach the
handler. A spec with a `batch_handler` gets them all at once (bulk upserts,
lookups once per batch); otherwise its `handler` runs for each, in the order
polled, inside the same transaction. When anything in the batch fails, that
transaction rolls back whole and the batch is applied again one event at a
time, each in its own transaction, with the retries and the DLQ below.

A handler that keeps failing is retried `max_attempts` times, then its
message goes to `<topic>.dlq` with the reason, attempts and origin in the
headers. When `max_consecutive_failures` messages in a row fail, the runner
stops without committing: a bad deploy halts instead of dead-lettering
everything after it. A handler that fails because the database is away (the
connection lost, the server restarting) is no fault of its event: that error
leaves `run_once` without committing the event, so `run` rejoins and the
event is delivered again once the database answers, never dead-lettered.
"""

from __future__ import annotations

import functools
import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.sql.dml import ReturningInsert

from pbkit.bus.base import EventBus, Message
from pbkit.context import Actor, request_id_var
from pbkit.db import KitTables, is_postgres
from pbkit.events import REQUEST_ID_HEADER, Event, EventCatalog, dlq_topic, utcnow
from pbkit.stats import Timing
from pbkit.uow import UnitOfWork

log = logging.getLogger(__name__)

Handler = Callable[[UnitOfWork, Event], None]
# Applies several new events, in the order polled, as one change; it must have the effect of `handler` on each.
BatchHandler = Callable[[UnitOfWork, list[Event]], None]


# PostgreSQL's SQLSTATEs of a server going away: class 08 (connection exception), and the shutdowns of 57P.
_AWAY_SQLSTATE_CLASSES = ("08",)
_AWAY_SQLSTATES = frozenset({"57P01", "57P02", "57P03"})  # admin_shutdown, crash_shutdown, cannot_connect_now
# SQLite's messages of a database that cannot be used now, rather than of a statement it refuses.
_AWAY_SQLITE = ("database is locked", "database is busy", "unable to open database file", "disk i/o error")


def database_away(exc: BaseException) -> bool:
    """Whether `exc` says the database could not be reached or dropped the connection, rather than refusing the
    statement: a connection SQLAlchemy invalidated; on PostgreSQL a driver error with no SQLSTATE (the server
    could not be reached) or one of class 08 or 57P01–57P03 (connection lost, server shutting down or starting);
    on SQLite a busy, locked or unopenable file. A statement the database refuses (a timeout, a limit, an unknown
    column after a missed migration) is no outage: it is retried and dead-lettered, or a 500, as any fault."""
    if not isinstance(exc, DBAPIError):
        return False
    if exc.connection_invalidated:
        return True
    if not isinstance(exc, OperationalError | InterfaceError):
        return False
    original = exc.orig
    if isinstance(original, sqlite3.Error):
        return any(message in str(original).lower() for message in _AWAY_SQLITE)
    sqlstate = getattr(original, "sqlstate", None)
    return sqlstate is None or sqlstate.startswith(_AWAY_SQLSTATE_CLASSES) or sqlstate in _AWAY_SQLSTATES


@dataclass(frozen=True)
class ConsumerSpec:
    """A consumer of a service: its name (part of the group id), topics and handlers."""

    name: str
    topics: Sequence[str]
    handler: Handler
    batch_handler: BatchHandler | None = None


class ConsumerHalted(RuntimeError):
    """Too many messages in a row failed; the consumer stopped without committing them."""


class ConsumerRunner:
    def __init__(
        self,
        *,
        name: str,
        bus: EventBus,
        group_id: str,
        topics: list[str],
        handler: Handler,
        batch_handler: BatchHandler | None = None,
        session_factory: sessionmaker[Session],
        kit: KitTables,
        source: str,
        catalog: EventCatalog,
        max_attempts: int = 3,
        retry_backoff_s: float = 0.2,
        max_consecutive_failures: int = 5,
        poll_timeout_s: float = 0.5,
    ):
        self.name = name
        self.bus = bus
        self.group_id = group_id
        self.topics = topics
        self.handler = handler
        self.batch_handler = batch_handler
        self.session_factory = session_factory
        self.kit = kit
        self.source = source
        self.catalog = catalog
        self.max_attempts = max_attempts
        self.retry_backoff_s = retry_backoff_s
        self.max_consecutive_failures = max_consecutive_failures
        self.poll_timeout_s = poll_timeout_s
        self.consecutive_failures = 0
        self.halted: ConsumerHalted | None = None
        self.applied = 0
        # For /metrics: events this runner found applied already (redeliveries), events it dead-lettered, and
        # how long each polled batch took to handle (applied, skipped or dead-lettered, and committed).
        self.duplicates = 0
        self.dead_lettered = 0
        self.timing = Timing()
        self.last_event_time: str | None = None
        # Per (topic, partition), the offset after the last message this runner committed.
        self.positions: dict[tuple[str, int], int] = {}
        self._consumer = None

    def _get_consumer(self):  # noqa: ANN202
        if self._consumer is None:
            self._consumer = self.bus.consumer(self.group_id, self.topics)
        return self._consumer

    def run_once(self) -> int:
        """Poll one batch, apply it, commit its offsets. Returns the number of messages handled."""
        consumer = self._get_consumer()
        pending = consumer.poll(self.poll_timeout_s)
        started = time.perf_counter()
        done: list[Message] = []
        try:
            if pending and self._apply_batch(pending):
                done = pending
            else:
                for message in pending:
                    self._handle(message)
                    done.append(message)
        finally:
            consumer.commit(done)
            for message in done:
                partition = (message.topic, message.partition)
                self.positions[partition] = max(self.positions.get(partition, 0), message.offset + 1)
            if done:
                self.timing.observe(time.perf_counter() - started)
        return len(done)

    def _uow(self) -> UnitOfWork:
        return UnitOfWork(
            self.session_factory, self.kit, source=self.source, catalog=self.catalog, actor=Actor(f"consumer:{self.name}")
        )

    def _apply_batch(self, messages: list[Message]) -> bool:
        """Apply every message in one transaction; False (and nothing applied) when any of them fails."""
        try:
            events = [Event.from_json(message.value, message.headers) for message in messages]
        except (ValueError, UnicodeDecodeError):
            return False
        # A failure to claim or to commit (the database away) is no fault of the events: it leaves run_once.
        with self._uow() as uow:
            fresh = self._claim(uow, events)
            try:
                if fresh:
                    self._run_handlers(uow, fresh)
            except Exception as exc:  # noqa: BLE001 - applied again one at a time, with retries and the DLQ
                if database_away(exc):
                    raise
                log.info("%s: a batch of %d failed (%s: %s); applying it one event at a time",
                         self.name, len(messages), type(exc).__name__, exc)
                return False
            uow.commit()
        self.applied += len(fresh)
        self.duplicates += len(messages) - len(fresh)
        if fresh:
            self.last_event_time = fresh[-1].time
        self.consecutive_failures = 0
        return True

    def _claim(self, uow: UnitOfWork, events: list[Event]) -> list[Event]:
        """Record the events as processed by this consumer; the ones it had not processed before, in order."""
        first_of_id: dict[str, Event] = {}
        for event in events:
            first_of_id.setdefault(event.id, event)
        unique = list(first_of_id.values())
        now = utcnow()
        claimed = set(
            uow.session.scalars(
                _claim_statement(is_postgres(uow.session), self.kit.processed_events),
                [{"consumer": self.name, "event_id": event.id, "processed_at": now} for event in unique],
            )
        )
        return [event for event in unique if event.id in claimed]

    def _run_handlers(self, uow: UnitOfWork, events: list[Event]) -> None:
        if self.batch_handler is not None:
            self.batch_handler(uow, events)
            return
        for event in events:
            token = request_id_var.set(event.headers.get(REQUEST_ID_HEADER))
            try:
                self.handler(uow, event)
            finally:
                request_id_var.reset(token)

    def _apply_in(self, uow: UnitOfWork, event: Event) -> bool:
        """Apply one event in `uow` unless this consumer applied it before; True when it was applied now."""
        if not self._claim(uow, [event]):
            return False
        self.handler(uow, event)
        return True

    def reached(self, ends: dict[tuple[str, int], int]) -> bool:
        """Whether this runner has committed everything up to `ends` (from `EventBus.end_offsets`)."""
        return all(self.positions.get(partition, 0) >= end for partition, end in ends.items())

    def _handle(self, message: Message) -> None:
        try:
            event = Event.from_json(message.value, message.headers)
        except (ValueError, UnicodeDecodeError) as exc:
            self._dead_letter(message, f"undecodable event: {exc}", attempts=1)
            return
        last_error: Exception | None = None
        for attempt in range(1, self.max_attempts + 1):
            try:
                self._apply(event)
                self.consecutive_failures = 0
                return
            except Exception as exc:  # noqa: BLE001 - any handler failure is retried, then dead-lettered
                if database_away(exc):
                    raise  # not the event's fault: run() rejoins and it comes again
                last_error = exc
                log.warning("%s: event %s (%s) failed, attempt %d: %s", self.name, event.id, event.type, attempt, exc)
                if attempt < self.max_attempts:
                    time.sleep(self.retry_backoff_s * attempt)
        self._dead_letter(message, f"{type(last_error).__name__}: {last_error}", attempts=self.max_attempts)

    def _apply(self, event: Event) -> None:
        token = request_id_var.set(event.headers.get(REQUEST_ID_HEADER))
        try:
            with self._uow() as uow:
                if self._apply_in(uow, event):
                    uow.commit()
                    self.applied += 1
                    self.last_event_time = event.time
                else:
                    self.duplicates += 1
        finally:
            request_id_var.reset(token)

    def _dead_letter(self, message: Message, reason: str, *, attempts: int) -> None:
        self.consecutive_failures += 1
        if self.consecutive_failures >= self.max_consecutive_failures:
            self.halted = ConsumerHalted(
                f"{self.name}: {self.consecutive_failures} messages in a row failed; last: {reason}"
            )
            raise self.halted
        headers = dict(message.headers)
        headers.update(
            {
                "pb-dlq-reason": reason[:1000],
                "pb-dlq-attempts": str(attempts),
                "pb-dlq-consumer": self.name,
                "pb-origin-topic": message.topic,
                "pb-origin-partition": str(message.partition),
                "pb-origin-offset": str(message.offset),
            }
        )
        self.bus.publish(dlq_topic(message.topic), message.key, message.value, headers).result(30)
        self.dead_lettered += 1
        log.error("%s: dead-lettered %s@%d: %s", self.name, message.topic, message.offset, reason)

    def run(self, stop: threading.Event) -> None:
        backoff = 0.5
        try:
            while not stop.is_set():
                try:
                    self.run_once()
                    backoff = 0.5
                except ConsumerHalted:
                    log.error("%s halted: %s", self.name, self.halted)
                    return
                except Exception as exc:  # noqa: BLE001 - bus or database away: rejoin from the committed offsets
                    log.warning("%s: %s, retrying in %.1fs: %s", self.name, type(exc).__name__, backoff, exc)
                    self.close_consumer()
                    stop.wait(backoff)
                    backoff = min(backoff * 2, 10.0)
        finally:
            self.close_consumer()

    def close_consumer(self) -> None:
        """Leave the group; the next poll joins again from the group's committed offsets."""
        if self._consumer is not None:
            try:
                self._consumer.close()
            finally:
                self._consumer = None


@functools.cache
def _claim_statement(on_postgres: bool, processed: Table) -> ReturningInsert[tuple[str]]:
    """INSERT … ON CONFLICT DO NOTHING RETURNING: answers the ids inserted now (SQLite ≥ 3.35, PostgreSQL)."""
    stmt = (postgresql if on_postgres else sqlite).insert(processed)
    stmt = stmt.on_conflict_do_nothing(index_elements=[processed.c.consumer, processed.c.event_id])
    return stmt.returning(processed.c.event_id)
