"""What the market service publishes and consumes (CONTRACT.md §9): its event catalogue."""

from __future__ import annotations

from pbkit.events import EventCatalog

OPEN_LICENCES_TOPIC = "pb.market.open_licences"
OPEN_LICENCE_DECLARED = "pb.open_licence.declared.v1"
OPEN_LICENCE_WITHDRAWN = "pb.open_licence.withdrawn.v1"
OPEN_LICENCE_ACCEPTED = "pb.open_licence.accepted.v1"

DEMANDS_TOPIC = "pb.market.demands"
DEMAND_POSTED = "pb.demand.posted.v1"
DEMAND_EXPIRED = "pb.demand.expired.v1"
MATCH_PROPOSED = "pb.match.proposed.v1"

EVENTS = EventCatalog(
    publishes={OPEN_LICENCES_TOPIC: (OPEN_LICENCE_DECLARED, OPEN_LICENCE_WITHDRAWN, OPEN_LICENCE_ACCEPTED),
               DEMANDS_TOPIC: (DEMAND_POSTED, DEMAND_EXPIRED, MATCH_PROPOSED)},
    # The market's own read model of patents, owners and deals (matching's sleeping patents).
    consumes=("pb.registry.organizations", "pb.registry.patents", "pb.transactions.deals"),
)
