"""The Kafka adapter (kafka-python): idempotent producer with acks=all, classic consumer groups."""

from __future__ import annotations

import logging
import threading
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
        partitions: int = 3,
        replication_factor: int = 1,
        delivery_timeout_s: float = 15.0,
    ):
        self.bootstrap_servers = bootstrap_servers
        self.client_id = client_id
        self.partitions = partitions
        self.replication_factor = replication_factor
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
    def _admin(self) -> Iterator[KafkaAdminClient]:
        try:
            admin = KafkaAdminClient(bootstrap_servers=self.bootstrap_servers, client_id=self.client_id)
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
                        "configs": {"retention.ms": "-1", "retention.bytes": "-1"},
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

    def missing_topics(self, topics: list[str]) -> list[str]:
        with self._admin() as admin:
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

    def end_offsets(self, topics: list[str]) -> dict[tuple[str, int], int]:
        try:
            consumer = KafkaConsumer(
                bootstrap_servers=self.bootstrap_servers, client_id=f"{self.client_id}-end-offsets", enable_auto_commit=False
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
                self._producer.close(timeout=5)
                self._producer = None


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
        out: list[Message] = []
        for tp, records in batches.items():
            for r in records:
                out.append(
                    Message(
                        topic=tp.topic,
                        partition=tp.partition,
                        offset=r.offset,
                        key=r.key.decode() if r.key is not None else None,
                        value=r.value,
                        headers={k: (v.decode() if v is not None else "") for k, v in (r.headers or [])},
                    )
                )
        return out

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
        if self._consumer is not None:
            try:
                self._consumer.close(autocommit=False)
            except KafkaError:
                log.warning("kafka consumer close failed", exc_info=True)
            self._consumer = None
