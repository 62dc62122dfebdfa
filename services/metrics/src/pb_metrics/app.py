"""Builds the metrics service's FastAPI app: routers, the projections consumer, rebuilds and the kit."""

from __future__ import annotations

from datetime import timedelta

from fastapi import FastAPI

from pb_metrics.events import EVENTS
from pb_metrics.models import CONFLICTS, kit_tables
from pb_metrics.programs.service import seed_programs
from pb_metrics.programs.views import router as programs_router
from pb_metrics.progress.views import router as progress_router
from pb_metrics.projections.generations import live_generations
from pb_metrics.projections.handlers import ProjectionHandler
from pb_metrics.rebuilds.service import LIVE_CONSUMER, fail_stale_rebuilds
from pb_metrics.rebuilds.views import router as rebuilds_router
from pb_metrics.rebuilds.worker import Rebuilds, Replay
from pb_metrics.reports.views import router as reports_router
from pb_metrics.settings import Settings
from pbkit.consumer import ConsumerSpec
from pbkit.context import SYSTEM
from pbkit.kit import ServiceKit
from pbkit.outbox import RelayLeadership
from pbkit.service import create_app

DESCRIPTION = """Programmes, targets and live progress (CONTRACT.md §8), from every event of §7.

The service never calls the others: it keeps the newest state of every deal,
payment, pledge, filing and annual report its consumer has seen (and, for
issue 15's indicators, the market's open-licence declarations, demands and
proposed matches), and beside those facts the per-year totals of every
indicator, so progress reads a handful of rows however many deals there are.
`POST /api/v1/admin/rebuild` replays the whole event log into fresh
projections while the current ones keep answering.
"""


def build_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    kit = ServiceKit.from_settings(settings, kit_tables, catalog=EVENTS, conflicts=CONFLICTS)
    projections = ProjectionHandler(live_generations)
    kit.add_consumer(ConsumerSpec(LIVE_CONSUMER, EVENTS.consumes, projections, projections.apply_batch))
    replay = Replay(
        session_factory=kit.session_factory,
        tables=kit.tables,
        bus=kit.bus,
        catalog=EVENTS,
        source=kit.source,
        group_prefix=f"pb-{settings.service_name}",
    )
    leadership = kit.job_leaderships["rebuilds"] = RelayLeadership(kit.engine, settings.service_name, purpose="job-rebuilds")
    rebuilds = Rebuilds(replay, stale_after=timedelta(seconds=settings.rebuild_stale_after_s), leadership=leadership,
                        poll_s=settings.rebuild_poll_s)
    # A rebuild pending at start (asked for by a migration, or through a replica that stopped) runs at the leader's
    # first look.
    rebuilds.wake()
    kit.background.append(rebuilds.run_requested)
    with kit.uow(SYSTEM) as uow:
        seed_programs(uow=uow)
        fail_stale_rebuilds(uow=uow, stale_after=rebuilds.stale_after)
        uow.commit()
    app = create_app(
        kit,
        title="PatentBridge Metrics",
        description=DESCRIPTION,
        routers=[programs_router, progress_router, reports_router, rebuilds_router],
    )
    app.state.rebuilds = rebuilds
    return app
