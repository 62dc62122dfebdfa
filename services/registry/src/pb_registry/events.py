"""The registry's event catalogue (CONTRACT.md §7, docs/EVENTS.md): what it publishes. It consumes nothing: title changes
reach it as commands (docs/TITLE_ARBITER.md), not as events."""

from __future__ import annotations

from pbkit.events import EventCatalog

ORGANIZATIONS_TOPIC = "pb.registry.organizations"
ORGANIZATION_REGISTERED = "pb.organization.registered.v1"
ORGANIZATION_UPDATED = "pb.organization.updated.v1"
ANNUAL_REPORT_FILED = "pb.organization.annual_report_filed.v1"

PATENTS_TOPIC = "pb.registry.patents"
PATENT_REGISTERED = "pb.patent.registered.v1"
PATENT_UPDATED = "pb.patent.updated.v1"
PATENT_OWNERSHIP_CHANGED = "pb.patent.ownership_changed.v1"

# The revocation feed every service follows (pbkit.revocation, docs/EVENTS.md): each event carries the client's
# whole access state. The kit's PB_REVOCATION_TOPIC names this topic.
CLIENTS_TOPIC = "pb.registry.clients"
CLIENT_DISABLED = "pb.client.disabled.v1"
CLIENT_ENABLED = "pb.client.enabled.v1"
CLIENT_SECRET_ROTATED = "pb.client.secret_rotated.v1"

EVENTS = EventCatalog(
    publishes={
        ORGANIZATIONS_TOPIC: (ORGANIZATION_REGISTERED, ORGANIZATION_UPDATED, ANNUAL_REPORT_FILED),
        PATENTS_TOPIC: (PATENT_REGISTERED, PATENT_UPDATED, PATENT_OWNERSHIP_CHANGED),
        CLIENTS_TOPIC: (CLIENT_DISABLED, CLIENT_ENABLED, CLIENT_SECRET_ROTATED),
    },
)
