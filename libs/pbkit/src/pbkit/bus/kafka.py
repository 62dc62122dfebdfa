"""The Kafka adapter (kafka-python): idempotent producer with acks=all, classic consumer groups, and readers
assigned every partition of their topics (no group)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.errors import KafkaError, TopicAlreadyExistsError
from kafka.structs import OffsetAndMetadata

from pbkit.bus.base import BusError, Message

log = logging.getLogger(__name__)


class _KafkaDelivery:
    def __init__(self, future):  # noqa: ANN001 - kafka-python's FutureRecordMetadata
        self._future = future

    def result(self, timeout: float) -> None:
        try:
            self._future.get(timeout=timeout)
        except KafkaError as exc:
            raise BusError(f"kafka delivery failed: {exc}") from exc


class KafkaBus:
    def __init__(
        self,
        bootstrap_servers: str,
        *,
        client_id: str = "patentbridge",
        partitions: int = 6,
        replication_factor: int = 1,
        min_insync_replicas: int = 1,
        delivery_timeout_s: float = 15.0,
    ):
        self.bootstrap_servers = bootstrap_servers
        self.client_id = client_id
        self.partitions = partitions
        self.replication_factor = replication_factor
        self.min_insync_replicas = min_insync_replicas
        self.delivery_timeout_s = delivery_timeout_s
        self._producer: KafkaProducer | None = None
        self._lock = threading.Lock()

    def _get_producer(self) -> KafkaProducer:
        # Built lazily: the constructor needs a reachable broker, and services must start without one.
        with self._lock:
            if self._producer is None:
                try:
                    self._producer = KafkaProducer(
                        bootstrap_servers=self.bootstrap_servers,
                        client_id=self.client_id,
                        acks="all",
                        enable_idempotence=True,
                        max_in_flight_requests_per_connection=5,
                        linger_ms=5,
                        request_timeout_ms=int(self.delivery_timeout_s * 1000) - 1000,
                        delivery_timeout_ms=int(self.delivery_timeout_s * 1000),
                        max_block_ms=int(self.delivery_timeout_s * 1000),
                        bootstrap_timeout_ms=5000,
                        # Topics are made by `ensure_topics` with the contract's settings, never by first use.
                        # kafka-python 3.0.12 does not pass this flag on to its metadata requests, so the broker's
                        # auto.create.topics.enable=false (deploy/kafka.sh, and production) is what enforces it.
                        allow_auto_create_topics=False,
                    )
                except KafkaError as exc:
                    raise BusError(f"kafka unreachable: {exc}") from exc
            return self._producer

    @contextmanager
    def _admin(self, timeout_s: float | None = None) -> Iterator[KafkaAdminClient]:
        """An admin client; with `timeout_s`, one that gives up on an unreachable broker after that long
        (kafka-python's default is 30 s)."""
        bounds = {} if timeout_s is None else {"bootstrap_timeout_ms": int(timeout_s * 1000),
                                               "request_timeout_ms": int(timeout_s * 1000)}
        try:
            admin = KafkaAdminClient(bootstrap_servers=self.bootstrap_servers, client_id=self.client_id, **bounds)
        except KafkaError as exc:
            raise BusError(f"kafka unreachable: {exc}") from exc
        try:
            yield admin
        finally:
            admin.close()

    def ensure_topics(self, topics: list[str]) -> None:
        with self._admin() as admin:
            try:
                existing = set(admin.list_topics())
                wanted = {
                    t: {
                        "num_partitions": self.partitions,
                        "replication_factor": self.replication_factor,
                        "configs": {"retention.ms": "-1", "retention.bytes": "-1",
                                    "min.insync.replicas": str(self.min_insync_replicas)},
                    }
                    for t in topics
                    if t not in existing
                }
                if wanted:
                    try:
                        admin.create_topics(wanted, wait_for_metadata=True)
                    except TopicAlreadyExistsError:
                        pass
            except KafkaError as exc:
                raise BusError(f"topic creation failed: {exc}") from exc

    def missing_topics(self, topics: list[str], *, timeout_s: float | None = None) -> list[str]:
        with self._admin(timeout_s) as admin:
            try:
                existing = set(admin.list_topics())
            except KafkaError as exc:
                raise BusError(f"topic listing failed: {exc}") from exc
        return [t for t in topics if t not in existing]

    def publish(self, topic: str, key: str | None, value: bytes, headers: dict[str, str]) -> _KafkaDelivery:
        producer = self._get_producer()
        try:
            future = producer.send(
                topic,
                value=value,
                key=key.encode() if key is not None else None,
                headers=[(k, v.encode()) for k, v in headers.items()],
            )
        except KafkaError as exc:
            raise BusError(f"kafka send failed: {exc}") from exc
        return _KafkaDelivery(future)

    def flush(self, timeout: float) -> None:
        if self._producer is not None:
            try:
                self._producer.flush(timeout=timeout)
            except KafkaError as exc:
                raise BusError(f"kafka flush failed: {exc}") from exc

    def consumer(self, group_id: str, topics: list[str]) -> KafkaBusConsumer:
        return KafkaBusConsumer(self.bootstrap_servers, group_id, topics, client_id=self.client_id)

    def reader(self, topics: list[str]) -> KafkaBusReader:
        return KafkaBusReader(self, topics)

    def end_offsets(self, topics: list[str]) -> dict[tuple[str, int], int]:
        try:
            consumer = KafkaConsumer(
                bootstrap_servers=self.bootstrap_servers, client_id=f"{self.client_id}-end-offsets", enable_auto_commit=False,
                request_timeout_ms=5000, bootstrap_timeout_ms=5000,
            )
        except KafkaError as exc:
            raise BusError(f"kafka unreachable: {exc}") from exc
        try:
            partitions = [
                TopicPartition(topic, partition)
                for topic in topics
                for partition in consumer.partitions_for_topic(topic) or ()
            ]
            ends = consumer.end_offsets(partitions) if partitions else {}
        except KafkaError as exc:
            raise BusError(f"kafka end offsets unavailable: {exc}") from exc
        finally:
            consumer.close()
        return {(tp.topic, tp.partition): end for tp, end in ends.items()}

    def committed_offsets(self, group_id: str, topics: list[str]) -> dict[tuple[str, int], int]:
        wanted = set(topics)
        with self._admin(5.0) as admin:
            try:
                offsets = admin.list_group_offsets({group_id: None}).get(group_id, {})
            except KafkaError as exc:
                raise BusError(f"kafka group offsets unavailable: {exc}") from exc
        return {(tp.topic, tp.partition): meta.offset for tp, meta in offsets.items()
                if tp.topic in wanted and meta.offset >= 0}

    def ping(self, timeout: float) -> bool:
        try:
            admin = KafkaAdminClient(
                bootstrap_servers=self.bootstrap_servers,
                client_id=self.client_id,
                request_timeout_ms=int(timeout * 1000),
                bootstrap_timeout_ms=int(timeout * 1000),
            )
        except KafkaError:
            return False
        try:
            admin.describe_cluster()
            return True
        except KafkaError:
            return False
        finally:
            admin.close()

    def close(self) -> None:
        with self._lock:
            if self._producer is not None:
                producer, self._producer = self._producer, None
                try:
                    producer.close(timeout=5)
                except KafkaError:  # records the broker never took: their outbox rows stay and go again
                    log.warning("kafka producer closed with records undelivered", exc_info=True)


def _messages(batches: dict) -> list[Message]:  # {TopicPartition: [ConsumerRecord]} of a poll
    return [
        Message(
            topic=tp.topic,
            partition=tp.partition,
            offset=r.offset,
            key=r.key.decode() if r.key is not None else None,
            value=r.value,
            headers={k: (v.decode() if v is not None else "") for k, v in (r.headers or [])},
        )
        for tp, records in batches.items()
        for r in records
    ]


def _close_quietly(consumer: KafkaConsumer | None) -> None:
    """Closes without committing; a failure to close is logged, not raised (nothing is lost)."""
    if consumer is not None:
        try:
            consumer.close(autocommit=False)
        except KafkaError:
            log.warning("kafka consumer close failed", exc_info=True)


class KafkaBusConsumer:
    def __init__(self, bootstrap_servers: str, group_id: str, topics: list[str], *, client_id: str):
        self.group_id = group_id
        self._consumer: KafkaConsumer | None = None
        self._args = dict(
            bootstrap_servers=bootstrap_servers,
            client_id=client_id,
            group_id=group_id,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            allow_auto_create_topics=False,
            max_poll_interval_ms=300_000,
            session_timeout_ms=10_000,
            heartbeat_interval_ms=3_000,
        )
        self._topics = list(topics)

    def _get(self) -> KafkaConsumer:
        if self._consumer is None:
            try:
                consumer = KafkaConsumer(**self._args)
            except KafkaError as exc:
                raise BusError(f"kafka unreachable: {exc}") from exc
            consumer.subscribe(self._topics)
            self._consumer = consumer
        return self._consumer

    def poll(self, timeout: float, max_records: int = 500) -> list[Message]:
        consumer = self._get()
        try:
            batches = consumer.poll(timeout_ms=int(timeout * 1000), max_records=max_records)
        except KafkaError as exc:
            raise BusError(f"kafka poll failed: {exc}") from exc
        return _messages(batches)

    def commit(self, messages: list[Message]) -> None:
        if not messages:
            return
        last: dict[TopicPartition, int] = {}
        for m in messages:
            tp = TopicPartition(m.topic, m.partition)
            last[tp] = max(last.get(tp, -1), m.offset)
        try:
            self._get().commit({tp: OffsetAndMetadata(o + 1, "", -1) for tp, o in last.items()})
        except KafkaError as exc:
            raise BusError(f"kafka commit failed: {exc}") from exc

    def close(self) -> None:
        _close_quietly(self._consumer)
        self._consumer = None


class KafkaBusReader:
    """Assigned every partition of its topics, read from the earliest offset, with no group id: each reader
    sees every message, and commits nothing. A topic made after the reader is assigned when it shows up
    (looked for every `lookup_interval_s`)."""

    def __init__(self, bus: KafkaBus, topics: list[str], *, request_timeout_s: float = 5.0, lookup_interval_s: float = 2.0):
        self._bus = bus
        self._topics = list(topics)
        self._request_timeout_ms = int(request_timeout_s * 1000)
        # A topic not made yet is looked for at most this often (each look is an admin client's connection).
        self._lookup_interval_s = lookup_interval_s
        self._looked_at = float("-inf")
        self._consumer: KafkaConsumer | None = None
        self._assigned: set[TopicPartition] = set()

    def _get(self) -> KafkaConsumer:
        if self._consumer is None:
            try:
                self._consumer = KafkaConsumer(
                    bootstrap_servers=self._bus.bootstrap_servers,
                    client_id=f"{self._bus.client_id}-reader",
                    group_id=None,
                    enable_auto_commit=False,
                    auto_offset_reset="earliest",
                    allow_auto_create_topics=False,
                    request_timeout_ms=self._request_timeout_ms,
                    bootstrap_timeout_ms=self._request_timeout_ms,
                )
            except KafkaError as exc:
                raise BusError(f"kafka unreachable: {exc}") from exc
        return self._consumer

    def _assign(self) -> None:
        """Assigns the partitions of the topics that exist: asked of the admin client first, since the consumer's
        metadata request for an unknown topic waits without a bound while the broker is down."""
        known = {tp.topic for tp in self._assigned}
        unknown = [t for t in self._topics if t not in known]
        if not unknown or time.monotonic() - self._looked_at < self._lookup_interval_s:
            return
        self._looked_at = time.monotonic()
        missing = self._bus.missing_topics(unknown, timeout_s=self._request_timeout_ms / 1000)
        existing = [t for t in unknown if t not in missing]
        if not existing:
            return
        consumer = self._get()
        try:
            found = {TopicPartition(t, p) for t in existing for p in consumer.partitions_for_topic(t)}
        except KafkaError as exc:
            raise BusError(f"kafka metadata unavailable: {exc}") from exc
        if found - self._assigned:
            self._assigned |= found
            consumer.assign(sorted(self._assigned))

    def poll(self, timeout: float, max_records: int = 500) -> list[Message]:
        self._assign()
        if not self._assigned:
            time.sleep(timeout)
            return []
        try:
            batches = self._get().poll(timeout_ms=int(timeout * 1000), max_records=max_records)
        except KafkaError as exc:
            raise BusError(f"kafka poll failed: {exc}") from exc
        return _messages(batches)

    def behind(self) -> int:
        self._assign()
        if not self._assigned:
            return 0
        consumer = self._get()
        try:
            ends = consumer.end_offsets(sorted(self._assigned), timeout_ms=self._request_timeout_ms)
            return sum(max(0, end - consumer.position(tp, timeout_ms=self._request_timeout_ms)) for tp, end in ends.items())
        except KafkaError as exc:
            raise BusError(f"kafka end offsets unavailable: {exc}") from exc

    def close(self) -> None:
        _close_quietly(self._consumer)
        self._consumer = None
