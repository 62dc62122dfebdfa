"""The metrics service's event catalogue: it reads every producer's topic and publishes nothing."""

from __future__ import annotations

from pbkit.events import EventCatalog

EVENTS = EventCatalog(
    publishes={},
    consumes=(
        "pb.registry.organizations",
        "pb.registry.patents",
        "pb.transactions.deals",
        "pb.pledge.pledges",
        "pb.product_filing.filings",
        # Open-licence declarations, demands and their matches (issue 15).
        "pb.market.open_licences",
        "pb.market.demands",
    ),
)
