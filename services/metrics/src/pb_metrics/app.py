"""Builds the metrics service's FastAPI app: routers, consumers and the kit."""

from fastapi import FastAPI

from pbkit.service import ServiceKit, create_app
from pb_metrics.models import kit_tables
from pb_metrics.settings import Settings


def build_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    kit = ServiceKit.from_settings(settings, kit_tables)
    return create_app(
        kit,
        title="PatentBridge Metrics",
        description="Programmes, targets and live progress, from every event.",
        routers=[],
    )
