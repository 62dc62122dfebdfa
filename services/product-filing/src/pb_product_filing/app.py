"""Builds the product-filing service's FastAPI app: routers, consumers and the kit."""

from fastapi import FastAPI

from pbkit.service import ServiceKit, create_app
from pb_product_filing.models import kit_tables
from pb_product_filing.settings import Settings


def build_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    kit = ServiceKit.from_settings(settings, kit_tables)
    return create_app(
        kit,
        title="PatentBridge Product filing",
        description="Patent-product filings and their review.",
        routers=[],
    )
