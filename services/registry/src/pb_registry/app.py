"""Builds the registry service's FastAPI app: routers, consumers and the kit."""

from fastapi import FastAPI

from pbkit.service import ServiceKit, create_app
from pb_registry.models import kit_tables
from pb_registry.settings import Settings


def build_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    kit = ServiceKit.from_settings(settings, kit_tables)
    return create_app(
        kit,
        title="PatentBridge Registry",
        description="Organizations, patents, chain of title, API clients and tokens.",
        routers=[],
    )
