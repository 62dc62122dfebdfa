"""Prometheus `/metrics`, `/healthz` and `/readyz`.

The operator's view of one service process (deploy/observability/ holds the dashboard and the alert rules):
- HTTP: `pb_http_requests_total{method,route,status}`, `pb_http_request_seconds`;
- outbox: `pb_outbox_pending` (backlog), `pb_outbox_oldest_age_seconds`, `pb_outbox_parked`;
- relay: `pb_relay_leader` (1 in the one replica that publishes), `pb_relay_published_total`,
  `pb_relay_errors_total` (failed rounds);
- consumers: `pb_consumer_lag{consumer,topic,partition}` (the group's committed offset behind the log's end, the
  same in every replica), `pb_consumer_events_total{consumer,outcome}` (applied, duplicate, dead_lettered),
  `pb_consumer_batch_seconds{consumer}` (a polled batch handled and committed), `pb_events_applied`;
- `pb_job_leader{job_name}`: 1 where a job that runs in one replica at a time (title recovery) runs;
- `pb_dlq_messages{topic}`: messages in the dead-letter topics of what this service consumes;
- `pb_revocation_feed_age_seconds` where the process follows the revocation feed.
Series that need the bus (lag, DLQ) are asked of it at each scrape; when it cannot answer they are left out
of that scrape (and `pb_bus_scrape_ok` is 0) rather than failing it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from typing import Any

from fastapi import APIRouter, FastAPI, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import text
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pbkit.events import dlq_topic

log = logging.getLogger(__name__)


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
    oldest = Gauge("pb_outbox_oldest_age_seconds", "seconds since the oldest row still in the outbox was written "
                   "(0 when empty)", registry=registry)
    oldest.set_function(_outbox_count(lambda relay: relay.oldest_age_s()))
    registry.register(PipelineCollector(kit))
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

    # (`missing` in the answer names what is not ready; the summary stays as the contract's goldens have it.)
    @router.get("/readyz", summary="the database and the event bus are reachable, and the topics exist")
    def readyz() -> JSONResponse:
        checks = {"database": "ok", "bus": "ok"}
        try:
            with kit.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except Exception as exc:  # noqa: BLE001
            checks["database"] = f"unreachable: {_database_name(kit)} ({type(exc).__name__})"
        if not kit.bus.ping(2.0):
            checks["bus"] = f"unreachable: {_bus_name(kit)}"
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
        missing = [name for name, value in checks.items() if value != "ok"]
        body: dict[str, Any] = {"status": "not ready" if missing else "ready", "checks": checks}
        if missing:
            body["missing"] = missing
        return JSONResponse(body, status_code=503 if missing else 200)

    @router.get("/metrics", summary="Prometheus metrics")
    def metrics() -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    app.include_router(router)


def _database_name(kit: Any) -> str:
    """The database as an operator finds it: backend, host, port and name, never the password."""
    url = kit.engine.url
    if url.get_backend_name() == "sqlite":
        return f"sqlite {url.database}"
    return f"postgresql {url.host}:{url.port}/{url.database}"


def _bus_name(kit: Any) -> str:
    settings = kit.settings
    if settings.bus == "kafka":
        return f"kafka {settings.kafka_bootstrap_servers}"
    return f"local event log {settings.local_bus_path}"


class PipelineCollector(Collector):
    """The relay's and the consumers' counters, and the consumer lag and DLQ sizes asked of the bus, at each
    scrape."""

    def __init__(self, kit: Any):
        self.kit = kit

    def collect(self) -> Iterator[Any]:
        kit = self.kit
        relay = kit.relay
        leader = GaugeMetricFamily("pb_relay_leader", "1 when this process's outbox relay holds the leadership "
                                   "lock (publishes); 0 in the other replicas")
        leader.add_metric([], 1.0 if relay is not None and relay.leadership.held else 0.0)
        yield leader
        published = CounterMetricFamily("pb_relay_published", "outbox rows the bus acknowledged (then deleted)")
        published.add_metric([], relay.published if relay is not None else 0)
        yield published
        errors = CounterMetricFamily("pb_relay_errors", "relay rounds that failed (bus or database away, a row "
                                     "refused); each is retried with backoff")
        errors.add_metric([], relay.failed_rounds if relay is not None else 0)
        yield errors
        jobs = GaugeMetricFamily("pb_job_leader", "1 when this process leads a job that runs in one replica at a "
                                 "time", labels=["job_name"])
        for name, leadership in kit.job_leaderships.items():
            jobs.add_metric([name], 1.0 if leadership.held else 0.0)
        yield jobs

        events = CounterMetricFamily("pb_consumer_events", "events handled by a consumer, by outcome",
                                     labels=["consumer", "outcome"])
        batches = HistogramMetricFamily("pb_consumer_batch_seconds", "time to handle and commit a polled batch",
                                        labels=["consumer"])
        for runner in kit.consumers:
            events.add_metric([runner.name, "applied"], runner.applied)
            events.add_metric([runner.name, "duplicate"], runner.duplicates)
            events.add_metric([runner.name, "dead_lettered"], runner.dead_lettered)
            batches.add_metric([runner.name], runner.timing.cumulative(), runner.timing.sum)
        yield events
        yield batches

        lag = GaugeMetricFamily("pb_consumer_lag", "messages of a partition beyond the consumer group's committed "
                                "offset", labels=["consumer", "topic", "partition"])
        dlq = GaugeMetricFamily("pb_dlq_messages", "messages in a dead-letter topic of what this service consumes",
                                labels=["topic"])
        scrape_ok = GaugeMetricFamily("pb_bus_scrape_ok", "1 when the bus answered this scrape's questions (lag, DLQ)")
        ok = 1.0
        try:
            for runner in kit.consumers:
                ends = kit.bus.end_offsets(runner.topics)
                committed = kit.bus.committed_offsets(runner.group_id, runner.topics)
                for (topic, partition), end in sorted(ends.items()):
                    lag.add_metric([runner.name, topic, str(partition)],
                                   max(0, end - committed.get((topic, partition), 0)))
            dead_letters = [dlq_topic(t) for t in kit.catalog.consumes]
            if dead_letters and kit.topics_ready.is_set():
                totals: dict[str, int] = {}
                for (topic, _partition), end in kit.bus.end_offsets(dead_letters).items():
                    totals[topic] = totals.get(topic, 0) + end
                for topic in dead_letters:
                    dlq.add_metric([topic], totals.get(topic, 0))
        except Exception as exc:  # noqa: BLE001 - a scrape must not fail because the bus is down
            log.debug("the bus did not answer the scrape: %s", exc)
            ok = 0.0
        scrape_ok.add_metric([], ok)
        yield lag
        yield dlq
        yield scrape_ok


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
