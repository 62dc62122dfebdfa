"""The event-bus port. Two adapters implement it: Kafka (production) and the local log (embedded default).

Both pass the same contract tests (libs/pbkit/tests/test_bus_contract.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


class BusError(Exception):
    """The bus could not do what was asked (broker unreachable, delivery failed)."""


@dataclass(frozen=True)
class Message:
    topic: str
    partition: int
    offset: int
    key: str | None
    value: bytes
    headers: dict[str, str] = field(default_factory=dict)


class Delivery(Protocol):
    def result(self, timeout: float) -> None:
        """Block until the broker acknowledged the message; raise BusError if it did not."""


class Consumer(Protocol):
    def poll(self, timeout: float, max_records: int = 500) -> list[Message]:
        """Next messages of the subscribed topics, in offset order per partition."""

    def commit(self, messages: list[Message]) -> None:
        """Commit, per partition, the offset after the last of these messages."""

    def close(self) -> None: ...


class Reader(Protocol):
    """Every message of some topics, from the first, for one process alone: no group, nothing committed.

    What a process reads to build state of its own (the revocation list), which each replica must see whole
    where a consumer group would share the messages out among them.
    """

    def poll(self, timeout: float, max_records: int = 500) -> list[Message]:
        """Next messages of the topics, in offset order per partition (none of a topic that does not exist)."""

    def behind(self) -> int:
        """How many messages the log holds beyond what was polled, asked of the bus now (a topic not made yet
        holds none); raises BusError when the bus cannot tell."""

    def close(self) -> None: ...


class EventBus(Protocol):
    def ensure_topics(self, topics: list[str]) -> None:
        """Create the topics (unlimited retention) if they do not exist."""

    def missing_topics(self, topics: list[str]) -> list[str]:
        """Those of `topics` that do not exist yet (without creating any)."""

    def publish(self, topic: str, key: str | None, value: bytes, headers: dict[str, str]) -> Delivery:
        """Queue a message; the returned handle tells whether the broker took it."""

    def flush(self, timeout: float) -> None: ...

    def consumer(self, group_id: str, topics: list[str]) -> Consumer:
        """A member of a consumer group; a new group starts at the earliest offset."""

    def reader(self, topics: list[str]) -> Reader:
        """A reader of every message of `topics`, outside any consumer group."""

    def end_offsets(self, topics: list[str]) -> dict[tuple[str, int], int]:
        """Per (topic, partition), the offset after its last message right now: how far the log reaches."""

    def committed_offsets(self, group_id: str, topics: list[str]) -> dict[tuple[str, int], int]:
        """Per (topic, partition) of `topics`, the offset consumer group `group_id` committed (the next it will
        read); a partition it never committed is absent. With `end_offsets`, a group's lag (for /metrics)."""

    def ping(self, timeout: float) -> bool:
        """True when the bus is reachable (for /readyz)."""

    def close(self) -> None: ...
