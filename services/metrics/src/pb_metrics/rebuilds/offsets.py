"""How far the event log reaches and how far a rebuild's consumer has got, to know when it has caught up.

The kit's bus port has no way to ask for the end of a topic, so this reads it
from the adapter underneath: the local log's `end_offsets`, or Kafka's.
"""

from __future__ import annotations

from kafka import KafkaConsumer, TopicPartition
from kafka.errors import KafkaError

from pbkit.bus.base import BusError, Consumer, Delivery, EventBus, Message
from pbkit.bus.kafka import KafkaBus
from pbkit.bus.local import LocalLogBus
from pbkit.bus.namespaced import NamespacedBus

Partition = tuple[str, int]  # (topic as the contract names it, partition)


def end_offsets(bus: EventBus, topics: list[str]) -> dict[Partition, int]:
    """The offset after the last message of every partition of `topics`, right now."""
    prefix, inner = (bus.prefix, bus.inner) if isinstance(bus, NamespacedBus) else ("", bus)
    contract_name = {prefix + t: t for t in topics}
    if isinstance(inner, LocalLogBus):
        ends = {(topic, 0): end for topic, end in inner.end_offsets(list(contract_name)).items()}
    elif isinstance(inner, KafkaBus):
        ends = _kafka_end_offsets(inner, list(contract_name))
    else:
        raise TypeError(f"cannot read the end of the log from a {type(inner).__name__}")
    return {(contract_name[topic], partition): end for (topic, partition), end in ends.items()}


def _kafka_end_offsets(bus: KafkaBus, topics: list[str]) -> dict[Partition, int]:
    try:
        consumer = KafkaConsumer(
            bootstrap_servers=bus.bootstrap_servers, client_id=f"{bus.client_id}-end-offsets", enable_auto_commit=False
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


class TrackedBus:
    """The bus as a rebuild's consumer sees it: remembers, per partition, the offset after the last message
    committed. Only what a ConsumerRunner uses is here: consumers, and publishing dead letters."""

    def __init__(self, bus: EventBus):
        self.bus = bus
        self.positions: dict[Partition, int] = {}
        self._consumers: list[_TrackedConsumer] = []

    def consumer(self, group_id: str, topics: list[str]) -> Consumer:
        consumer = _TrackedConsumer(self.bus.consumer(group_id, topics), self.positions)
        self._consumers.append(consumer)
        return consumer

    def publish(self, topic: str, key: str | None, value: bytes, headers: dict[str, str]) -> Delivery:
        return self.bus.publish(topic, key, value, headers)

    def reached(self, ends: dict[Partition, int]) -> bool:
        return all(self.positions.get(partition, 0) >= end for partition, end in ends.items())

    def close(self) -> None:
        """Close the consumers made here; the bus itself belongs to the kit."""
        for consumer in self._consumers:
            consumer.close()
        self._consumers.clear()


class _TrackedConsumer:
    def __init__(self, inner: Consumer, positions: dict[Partition, int]):
        self._inner = inner
        self._positions = positions

    def poll(self, timeout: float, max_records: int = 500) -> list[Message]:
        return self._inner.poll(timeout, max_records)

    def commit(self, messages: list[Message]) -> None:
        self._inner.commit(messages)
        for m in messages:
            partition = (m.topic, m.partition)
            self._positions[partition] = max(self._positions.get(partition, 0), m.offset + 1)

    def close(self) -> None:
        self._inner.close()
