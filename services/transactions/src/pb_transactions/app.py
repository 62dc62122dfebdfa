"""Builds the transactions service's FastAPI app: routers, event catalogue and the kit."""

from fastapi import FastAPI

from pb_transactions.deals.title import recover_pending
from pb_transactions.deals.views import router as deals_router
from pb_transactions.events import EVENTS
from pb_transactions.models import kit_tables
from pb_transactions.payments.views import router as payments_router
from pb_transactions.settings import Settings
from pbkit.db import NamedConstraint
from pbkit.kit import ServiceKit
from pbkit.registry_client import RegistryClient
from pbkit.service import create_app

DESCRIPTION = """
Deals: transfers 转让, licences 许可 and equity contributions 作价入股 of patents, from submission
through recordation to cancellation, and the payments actually received 实际到账 on them.
Partner trading platforms post deals here; every change is published on `pb.transactions.deals`
carrying the whole deal (docs/EVENTS.md). Money is a decimal yuan string with two places.
"""

# The unique constraints a client can run into: the one bank reference posted twice on one deal (the
# payment's own check finds it first, under the deal's row lock; this keeps a race a 409 all the same).
CONFLICTS = (
    NamedConstraint(
        "uq_payments_deal_reference",
        "payments.deal_id, payments.reference",
        "a payment with this reference is already recorded on the deal",
    ),
)


def build_app(settings: Settings | None = None, *, registry: RegistryClient | None = None) -> FastAPI:
    """`registry` replaces the client the kit builds from the settings (tests pass a fake)."""
    settings = settings or Settings()
    kit = ServiceKit.from_settings(settings, kit_tables, catalog=EVENTS, conflicts=CONFLICTS, registry=registry)
    # Recordings and cancellations left pending (a crash, a registry outage) are driven to their end.
    kit.add_title_recovery(recover_pending)
    return create_app(
        kit,
        title="PatentBridge Transactions",
        description=DESCRIPTION,
        routers=[deals_router, payments_router],
    )
