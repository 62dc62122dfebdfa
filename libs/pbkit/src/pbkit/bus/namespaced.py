"""A topic namespace over any bus: `<prefix>pb.transactions.deals` on the wire, the contract name in code.

Lets several PatentBridge installations (or test runs) share one Kafka cluster
without reading each other's events. The empty prefix is the contract itself.
"""

from __future__ import annotations

from dataclasses import replace

from pbkit.bus.base import Consumer, Delivery, EventBus, Message, Reader


class _NamespacedPoller:
    """What a consumer and a reader share: messages polled come back under the contract's topic names."""

    def __init__(self, inner: Consumer | Reader, prefix: str):
        self._inner = inner
        self._prefix = prefix

    def poll(self, timeout: float, max_records: int = 500) -> list[Message]:
        return [replace(m, topic=m.topic.removeprefix(self._prefix)) for m in self._inner.poll(timeout, max_records)]

    def close(self) -> None:
        self._inner.close()


class NamespacedConsumer(_NamespacedPoller):
    def commit(self, messages: list[Message]) -> None:
        self._inner.commit([replace(m, topic=self._prefix + m.topic) for m in messages])


class NamespacedReader(_NamespacedPoller):
    def behind(self) -> int:
        return self._inner.behind()


class NamespacedBus:
    def __init__(self, inner: EventBus, prefix: str):
        self.inner = inner
        self.prefix = prefix

    def ensure_topics(self, topics: list[str]) -> None:
        self.inner.ensure_topics([self.prefix + t for t in topics])

    def missing_topics(self, topics: list[str]) -> list[str]:
        return [t.removeprefix(self.prefix) for t in self.inner.missing_topics([self.prefix + t for t in topics])]

    def publish(self, topic: str, key: str | None, value: bytes, headers: dict[str, str]) -> Delivery:
        return self.inner.publish(self.prefix + topic, key, value, headers)

    def flush(self, timeout: float) -> None:
        self.inner.flush(timeout)

    def consumer(self, group_id: str, topics: list[str]) -> Consumer:
        return NamespacedConsumer(self.inner.consumer(self.prefix + group_id, [self.prefix + t for t in topics]), self.prefix)

    def reader(self, topics: list[str]) -> Reader:
        return NamespacedReader(self.inner.reader([self.prefix + t for t in topics]), self.prefix)

    def end_offsets(self, topics: list[str]) -> dict[tuple[str, int], int]:
        ends = self.inner.end_offsets([self.prefix + t for t in topics])
        return {(topic.removeprefix(self.prefix), partition): end for (topic, partition), end in ends.items()}

    def committed_offsets(self, group_id: str, topics: list[str]) -> dict[tuple[str, int], int]:
        done = self.inner.committed_offsets(self.prefix + group_id, [self.prefix + t for t in topics])
        return {(topic.removeprefix(self.prefix), partition): offset for (topic, partition), offset in done.items()}

    def ping(self, timeout: float) -> bool:
        return self.inner.ping(timeout)

    def close(self) -> None:
        self.inner.close()
