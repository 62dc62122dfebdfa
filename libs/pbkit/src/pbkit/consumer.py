"""The consumer runner: applies events exactly once in effect.

For each message: the handler runs inside a unit of work together with the
insert of the event id into `processed_events`, and that transaction commits
before the bus offset does. A redelivered event finds its id already there
and is skipped, so an event applied twice has the effect of once.

A polled batch is applied in one transaction, each event under a savepoint,
so a busy consumer commits once per batch rather than once per event. The
first event that fails ends that transaction (what came before it commits);
it is then retried on its own, and the rest of the batch follows it, so
events are applied in the order they were polled.

A handler that keeps failing is retried `max_attempts` times, then its
message goes to `<topic>.dlq` with the reason, attempts and origin in the
headers. When `max_consecutive_failures` messages in a row fail, the runner
stops without committing: a bad deploy halts instead of dead-lettering
everything after it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import insert, select
from sqlalchemy.orm import Session, sessionmaker

from pbkit.bus.base import EventBus, Message
from pbkit.context import Actor, request_id_var
from pbkit.db import KitTables
from pbkit.events import REQUEST_ID_HEADER, Event, EventCatalog, dlq_topic, utcnow
from pbkit.uow import UnitOfWork

log = logging.getLogger(__name__)

Handler = Callable[[UnitOfWork, Event], None]


@dataclass(frozen=True)
class ConsumerSpec:
    """A consumer of a service: its name (part of the group id), topics and handler."""

    name: str
    topics: Sequence[str]
    handler: Handler


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
        done: list[Message] = []
        try:
            while pending:
                applied, stopped_at_failure = self._apply_batch(pending)
                done += pending[:applied]
                pending = pending[applied:]
                if stopped_at_failure:
                    self._handle(pending[0])
                    done.append(pending.pop(0))
        finally:
            consumer.commit(done)
            for message in done:
                partition = (message.topic, message.partition)
                self.positions[partition] = max(self.positions.get(partition, 0), message.offset + 1)
        return len(done)

    def _uow(self) -> UnitOfWork:
        return UnitOfWork(
            self.session_factory, self.kit, source=self.source, catalog=self.catalog, actor=Actor(f"consumer:{self.name}")
        )

    def _apply_batch(self, messages: list[Message]) -> tuple[int, bool]:
        """Apply a prefix of `messages` in one transaction; stop at the first that fails.

        Returns how many were applied (or found already applied) and whether it stopped at a failure.
        """
        count, failed, newly_applied, last_time = 0, False, 0, None
        with self._uow() as uow:
            for message in messages:
                try:
                    event = Event.from_json(message.value, message.headers)
                except (ValueError, UnicodeDecodeError):
                    failed = True
                    break
                token = request_id_var.set(event.headers.get(REQUEST_ID_HEADER))
                savepoint = uow.session.begin_nested()
                try:
                    if self._apply_in(uow, event):
                        newly_applied += 1
                        last_time = event.time
                    savepoint.commit()
                except Exception:  # noqa: BLE001 - handled again on its own, with retries and the DLQ
                    savepoint.rollback()
                    failed = True
                    break
                finally:
                    request_id_var.reset(token)
                count += 1
            uow.commit()
        self.applied += newly_applied
        if last_time is not None:
            self.last_event_time = last_time
        if count:
            self.consecutive_failures = 0
        return count, failed

    def _apply_in(self, uow: UnitOfWork, event: Event) -> bool:
        """Apply one event in `uow` unless this consumer applied it before; True when it was applied now."""
        processed = self.kit.processed_events
        seen = uow.session.execute(
            select(processed.c.event_id).where(processed.c.consumer == self.name, processed.c.event_id == event.id)
        ).first()
        if seen:
            return False
        self.handler(uow, event)
        uow.session.execute(insert(processed).values(consumer=self.name, event_id=event.id, processed_at=utcnow()))
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
