"""Prometheus `/metrics`, `/healthz` and `/readyz`."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, FastAPI, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from sqlalchemy import text
from starlette.types import ASGIApp, Message, Receive, Scope, Send


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

    app.add_middleware(RequestMetrics, requests=requests, latency=latency)

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


class RequestMetrics:
    """Counts and times every HTTP request by method, route template and status: a plain ASGI middleware (no
    request object, no extra task per request), with the labelled series kept once made."""

    def __init__(self, app: ASGIApp, *, requests: Counter, latency: Histogram):
        self.app = app
        self._requests = requests
        self._latency = latency
        self._series: dict[tuple[str, str, int], tuple[Any, Any]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_noting_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_noting_status)
        finally:
            # The router put the matched route into the scope (the same dict) on its way in.
            template = getattr(scope.get("route"), "path", "unmatched")
            key = (scope["method"], template, status)
            series = self._series.get(key)
            if series is None:
                series = self._series[key] = (
                    self._requests.labels(key[0], template, str(status)), self._latency.labels(key[0], template)
                )
            series[0].inc()
            series[1].observe(time.perf_counter() - started)
