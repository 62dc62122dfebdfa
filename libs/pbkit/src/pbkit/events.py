"""The event contract of CONTRACT.md §7: CloudEvents 1.0 structured JSON, topics keyed by aggregate id."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

DLQ_SUFFIX = ".dlq"
REQUEST_ID_HEADER = "pb-request-id"


def dlq_topic(topic: str) -> str:
    return topic + DLQ_SUFFIX


@dataclass(frozen=True)
class EventCatalog:
    """What one service publishes (topic → its event types) and which topics it consumes.

    Each service declares its own; the kit knows only the envelope. The service creates the topics it
    publishes, and the dead-letter topics of those it consumes (its consumers write there).
    """

    publishes: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    consumes: tuple[str, ...] = ()

    def topic_for(self, event_type: str) -> str:
        """The topic of an event type this service publishes; any other type is a programming error."""
        for topic, types in self.publishes.items():
            if event_type in types:
                return topic
        raise ValueError(f"this service does not publish {event_type!r}: declare it in its event catalogue")

    @property
    def topics_to_create(self) -> list[str]:
        return [*self.publishes, *(dlq_topic(t) for t in self.consumes)]


def utcnow() -> datetime:
    return datetime.now(UTC)


def rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class Event:
    """A CloudEvent as consumers see it."""

    id: str
    type: str
    source: str
    subject: str
    time: str
    sequence: int
    data: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps(envelope(self), ensure_ascii=False, separators=(",", ":"), sort_keys=True)

    @classmethod
    def from_json(cls, raw: bytes | str, headers: dict[str, str] | None = None) -> Event:
        doc = json.loads(raw)
        if not isinstance(doc, dict) or doc.get("specversion") != "1.0":
            raise ValueError("not a CloudEvents 1.0 structured JSON event")
        missing = [k for k in ("id", "type", "source", "subject", "time", "sequence", "data") if k not in doc]
        if missing:
            raise ValueError(f"CloudEvent lacks {', '.join(missing)}")
        if not isinstance(doc["data"], dict) or not isinstance(doc["sequence"], int):
            raise ValueError("CloudEvent data must be an object and sequence an integer")
        return cls(
            id=str(doc["id"]),
            type=str(doc["type"]),
            source=str(doc["source"]),
            subject=str(doc["subject"]),
            time=str(doc["time"]),
            sequence=doc["sequence"],
            data=doc["data"],
            headers=dict(headers or {}),
        )


def envelope(event: Event) -> dict[str, Any]:
    return {
        "specversion": "1.0",
        "id": event.id,
        "source": event.source,
        "type": event.type,
        "subject": event.subject,
        "time": event.time,
        "datacontenttype": "application/json",
        "sequence": event.sequence,
        "data": event.data,
    }
