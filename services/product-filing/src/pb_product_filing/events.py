"""What the product-filing service publishes and consumes (CONTRACT.md §7): its event catalogue."""

from __future__ import annotations

from pbkit.events import EventCatalog

FILINGS_TOPIC = "pb.product_filing.filings"
FILING_SUBMITTED = "pb.filing.submitted.v1"
FILING_APPROVED = "pb.filing.approved.v1"
FILING_REJECTED = "pb.filing.rejected.v1"
FILING_REVOKED = "pb.filing.revoked.v1"

EVENTS = EventCatalog(
    publishes={FILINGS_TOPIC: (FILING_SUBMITTED, FILING_APPROVED, FILING_REJECTED, FILING_REVOKED)},
    consumes=(),
)
