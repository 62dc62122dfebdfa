"""What the market service publishes and consumes (CONTRACT.md §9): its event catalogue."""

from __future__ import annotations

from pbkit.events import EventCatalog

OPEN_LICENCES_TOPIC = "pb.market.open_licences"
OPEN_LICENCE_DECLARED = "pb.open_licence.declared.v1"
OPEN_LICENCE_WITHDRAWN = "pb.open_licence.withdrawn.v1"
OPEN_LICENCE_ACCEPTED = "pb.open_licence.accepted.v1"

# CONTRACT §9 also names `pb.market.demands` (pb.demand.posted/expired.v1, pb.match.proposed.v1): declared when the
# demands and matching are built (issue 15, later part); nothing publishes them yet.
EVENTS = EventCatalog(
    publishes={OPEN_LICENCES_TOPIC: (OPEN_LICENCE_DECLARED, OPEN_LICENCE_WITHDRAWN, OPEN_LICENCE_ACCEPTED)},
    consumes=(),
)
