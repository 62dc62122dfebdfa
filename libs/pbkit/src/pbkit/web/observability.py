"""Prometheus `/metrics`, `/healthz` and `/readyz`."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from sqlalchemy import text


def install_observability(app: FastAPI, kit: Any) -> None:
    """`kit` is the app's `pbkit.kit.ServiceKit`."""
    registry = CollectorRegistry()
    requests = Counter(
        "pb_http_requests_total", "HTTP requests", ["method", "route", "status"], registry=registry
    )
    latency = Histogram("pb_http_request_seconds", "HTTP request latency", ["method", "route"], registry=registry)
    outbox_pending = Gauge("pb_outbox_pending", "outbox rows not yet acknowledged by the bus", registry=registry)
    outbox_parked = Gauge(
        "pb_outbox_parked", "outbox rows the relay parked after its attempts; their keys wait (GET /api/v1/outbox/parked)",
        registry=registry,
    )
    consumed = Gauge("pb_events_applied", "events applied by this service's consumers", registry=registry)

    def _outbox_count(count: Callable[[Any], int]) -> Callable[[], float]:
        def read() -> float:
            relay = kit.relay
            try:
                return float(count(relay)) if relay is not None else 0.0
            except Exception:  # noqa: BLE001 - a scrape must not fail because the database is down
                return float("nan")

        return read

    outbox_pending.set_function(_outbox_count(lambda relay: relay.pending()))
    outbox_parked.set_function(_outbox_count(lambda relay: relay.parked()))
    consumed.set_function(lambda: float(sum(c.applied for c in kit.consumers)))
    if kit.revocation_feed is not None:
        feed_age = Gauge("pb_revocation_feed_age_seconds", "seconds since the revocation list last caught up with its feed",
                         registry=registry)
        feed_age.set_function(kit.revocation_feed.age_s)

    @app.middleware("http")
    async def _measure(request: Request, call_next):  # noqa: ANN001, ANN202
        started = time.perf_counter()
        response = await call_next(request)
        route = request.scope.get("route")
        template = getattr(route, "path", "unmatched")
        requests.labels(request.method, template, str(response.status_code)).inc()
        latency.labels(request.method, template).observe(time.perf_counter() - started)
        return response

    router = APIRouter(tags=["operations"])

    @router.get("/healthz", summary="the process is alive")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @router.get("/readyz", summary="the database and the event bus are reachable, and the topics exist")
    def readyz() -> JSONResponse:
        checks = {"database": "ok", "bus": "ok"}
        try:
            with kit.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except Exception as exc:  # noqa: BLE001
            checks["database"] = f"unreachable: {type(exc).__name__}"
        if not kit.bus.ping(2.0):
            checks["bus"] = "unreachable"
        checks["topics"] = (
            "ok" if kit.topics_ready.is_set()
            else "waiting for " + ", ".join(kit.topics_missing) if kit.topics_missing else "starting"
        )
        feed = kit.revocation_feed
        if feed is not None:
            checks["revocations"] = feed.staleness() or "ok"
        halted = [c.name for c in kit.consumers if c.halted is not None]
        if halted:
            checks["consumers"] = "halted: " + ", ".join(halted)
        ready = all(v == "ok" for v in checks.values())
        return JSONResponse({"status": "ready" if ready else "not ready", "checks": checks}, status_code=200 if ready else 503)

    @router.get("/metrics", summary="Prometheus metrics")
    def metrics() -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    app.include_router(router)
