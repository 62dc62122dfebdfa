"""Builds the transactions service's FastAPI app: routers, consumers and the kit."""

from fastapi import FastAPI

from pbkit.service import ServiceKit, create_app
from pb_transactions.models import kit_tables
from pb_transactions.settings import Settings


def build_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    kit = ServiceKit.from_settings(settings, kit_tables)
    return create_app(
        kit,
        title="PatentBridge Transactions",
        description="Deals: transfers, licences and equity contributions, with payments received.",
        routers=[],
    )
