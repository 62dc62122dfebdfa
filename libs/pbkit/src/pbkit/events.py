"""The event contract of CONTRACT.md §7: CloudEvents 1.0 structured JSON, topics keyed by aggregate id."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

TOPIC_TYPES: dict[str, tuple[str, ...]] = {
    "pb.registry.organizations": (
        "pb.organization.registered.v1",
        "pb.organization.updated.v1",
        "pb.organization.annual_report_filed.v1",
    ),
    "pb.registry.patents": (
        "pb.patent.registered.v1",
        "pb.patent.updated.v1",
        "pb.patent.ownership_changed.v1",
    ),
    "pb.transactions.deals": (
        "pb.deal.submitted.v1",
        "pb.deal.recorded.v1",
        "pb.deal.payment_received.v1",
        "pb.deal.cancelled.v1",
    ),
    "pb.pledge.pledges": ("pb.pledge.registered.v1", "pb.pledge.released.v1"),
    "pb.product_filing.filings": (
        "pb.filing.submitted.v1",
        "pb.filing.approved.v1",
        "pb.filing.rejected.v1",
        "pb.filing.revoked.v1",
    ),
}
TOPICS: tuple[str, ...] = tuple(TOPIC_TYPES)
TOPIC_OF_TYPE: dict[str, str] = {t: topic for topic, types in TOPIC_TYPES.items() for t in types}

DLQ_SUFFIX = ".dlq"
REQUEST_ID_HEADER = "pb-request-id"


def dlq_topic(topic: str) -> str:
    return topic + DLQ_SUFFIX


def topic_for(event_type: str) -> str:
    """The contract topic of an event type; types outside the contract are a programming error."""
    try:
        return TOPIC_OF_TYPE[event_type]
    except KeyError:
        raise ValueError(f"event type {event_type!r} is not in the contract (CONTRACT.md §7)") from None


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
