"""The service kit: wires settings, database, bus, auth, relay and consumers into a FastAPI app.

A service calls `ServiceKit.from_settings(...)` once and `create_app(kit, ...)`
with its routers and consumers; the app's lifespan starts the outbox relay
and the consumers in background threads and stops them on shutdown.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Annotated, Any

from asgi_correlation_id import CorrelationIdMiddleware
from fastapi import APIRouter, Depends, FastAPI, Query, Request
from sqlalchemy import Engine, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from pbkit.bus import EventBus, bus_from_settings
from pbkit.consumer import ConsumerRunner, Handler
from pbkit.context import SYSTEM, Actor
from pbkit.db import KitTables, make_engine, make_session_factory
from pbkit.events import TOPICS, dlq_topic
from pbkit.logs import configure_logging
from pbkit.outbox import OutboxRelay
from pbkit.registry_client import RegistryClient
from pbkit.settings import ServiceSettings
from pbkit.uow import UnitOfWork
from pbkit.web.auth import AdminOnly, KeySet, TokenVerifier, current_actor
from pbkit.web.observability import install_observability
from pbkit.web.pagination import Pagination, paginate
from pbkit.web.problems import Conflict, install_problem_handlers, problem_response

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ConsumerSpec:
    """A consumer of the service: its name (part of the group id), topics and handler."""

    name: str
    topics: Sequence[str]
    handler: Handler


@dataclass
class ServiceKit:
    settings: ServiceSettings
    engine: Engine
    session_factory: sessionmaker[Session]
    tables: KitTables
    bus: EventBus
    verifier: TokenVerifier
    source: str
    relay: OutboxRelay | None = None
    consumers: list[ConsumerRunner] = field(default_factory=list)
    # Work of the service's own that runs beside the relay and consumers: called with the stop event.
    background: list[Callable[[threading.Event], Any]] = field(default_factory=list)
    _registry: RegistryClient | None = None
    # Set once the contract's topics exist; the relay and consumers start only then, and /readyz waits for it.
    topics_ready: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)
    _threads_lock: threading.Lock = field(default_factory=threading.Lock)
    _stop: threading.Event = field(default_factory=threading.Event)

    @classmethod
    def from_settings(
        cls,
        settings: ServiceSettings,
        tables: KitTables,
        *,
        verifier: TokenVerifier | None = None,
        bus: EventBus | None = None,
        registry: RegistryClient | None = None,
    ) -> ServiceKit:
        """`verifier`, `bus` and `registry` replace what the settings would build (tests pass fakes here)."""
        engine = make_engine(settings.database_url)
        session_factory = make_session_factory(engine)
        bus = bus or bus_from_settings(settings)
        if verifier is None:
            keys = KeySet(jwks_url=None if settings.jwks_json else settings.resolved_jwks_url, jwks_json=settings.jwks_json)
            verifier = TokenVerifier(keys, issuer=settings.jwt_issuer, audience=settings.jwt_audience)
        kit = cls(
            settings=settings,
            engine=engine,
            session_factory=session_factory,
            tables=tables,
            bus=bus,
            verifier=verifier,
            source=f"/pb/{settings.service_name}",
            _registry=registry,
        )
        kit.relay = OutboxRelay(
            session_factory=session_factory,
            kit=tables,
            bus=bus,
            name=settings.service_name,
            poll_interval_s=settings.relay_poll_interval_s,
        )
        return kit

    @property
    def registry(self) -> RegistryClient:
        """The registry's REST API (one pooled client per service process)."""
        if self._registry is None:
            self._registry = RegistryClient(
                self.settings.registry_url,
                timeout_s=self.settings.registry_timeout_s,
                retries=self.settings.registry_retries,
            )
        return self._registry

    def uow(self, actor: Actor = SYSTEM) -> UnitOfWork:
        return UnitOfWork(self.session_factory, self.tables, source=self.source, actor=actor)

    def add_consumer(self, spec: ConsumerSpec, *, group_id: str | None = None) -> ConsumerRunner:
        runner = ConsumerRunner(
            name=spec.name,
            bus=self.bus,
            group_id=group_id or f"pb-{self.settings.service_name}-{spec.name}",
            topics=list(spec.topics),
            handler=spec.handler,
            session_factory=self.session_factory,
            kit=self.tables,
            source=self.source,
        )
        self.consumers.append(runner)
        return runner

    def start_background(self) -> None:
        """Ensures the topics, then starts the relay, the consumers and the service's own background work.

        Nothing publishes or subscribes before the topics exist: a broker that creates topics on first use would
        make them with its default retention, and a consumer that subscribed to a missing topic would not see
        it until its next metadata refresh.
        """
        self._stop.clear()
        self.topics_ready.clear()
        self._spawn("startup", self._start_after_topics)

    def _start_after_topics(self) -> None:
        if not self._ensure_topics():
            return
        self.topics_ready.set()
        if self.settings.relay_enabled and self.relay is not None:
            self._spawn("outbox-relay", lambda: self.relay.run(self._stop))
        if self.settings.consumers_enabled:
            for runner in self.consumers:
                self._spawn(f"consumer-{runner.name}", lambda r=runner: r.run(self._stop))
        for work in self.background:
            self._spawn(getattr(work, "__name__", "background"), lambda w=work: w(self._stop))

    def _spawn(self, name: str, target: Callable[[], Any]) -> None:
        thread = threading.Thread(target=target, name=f"pb-{name}", daemon=True)
        with self._threads_lock:
            if self._stop.is_set():  # stopping: start nothing new
                return
            thread.start()
            self._threads.append(thread)

    def _ensure_topics(self) -> bool:
        """True once every topic of the contract (and its DLQ) exists; False if the service stopped first."""
        topics = list(TOPICS) + [dlq_topic(t) for t in TOPICS]
        delay = 0.5
        while not self._stop.is_set():
            try:
                self.bus.ensure_topics(topics)
                return True
            except Exception as exc:  # noqa: BLE001 - the broker may come up after the service
                log.warning("could not ensure topics yet: %s", exc)
                self._stop.wait(delay)
                delay = min(delay * 2, 10)
        return False

    def stop_background(self, timeout: float = 15.0) -> None:
        self._stop.set()
        with self._threads_lock:  # from here on `_spawn` starts nothing, so this list is complete
            threads, self._threads = self._threads, []
        for thread in threads:
            thread.join(timeout)

    def shutdown(self) -> None:
        """What the app's lifespan ends: background work and outgoing HTTP connections."""
        self.stop_background()
        if self._registry is not None:
            self._registry.close()
            self._registry = None

    def close(self) -> None:
        self.shutdown()
        self.bus.close()
        self.engine.dispose()


def kit_of(request: Request) -> ServiceKit:
    return request.app.state.kit


Kit = Annotated[ServiceKit, Depends(kit_of)]


def actor_uow(kit: ServiceKit, actor: Actor) -> Callable[[], UnitOfWork]:
    return lambda: kit.uow(actor)


def create_app(
    kit: ServiceKit,
    *,
    title: str,
    description: str,
    routers: Iterable[APIRouter],
    version: str = "1.0.0",
) -> FastAPI:
    configure_logging(kit.settings.service_name, kit.settings.log_level)

    @asynccontextmanager
    async def lifespan(_app: FastAPI):  # noqa: ANN202
        kit.start_background()
        try:
            yield
        finally:
            kit.shutdown()

    app = FastAPI(title=title, description=description, version=version, lifespan=lifespan)
    app.state.kit = kit
    install_problem_handlers(app)

    @app.exception_handler(IntegrityError)
    async def _integrity(_request: Request, exc: IntegrityError):  # noqa: ANN202
        log.info("integrity conflict: %s", exc.orig)
        return problem_response(Conflict("the request conflicts with existing data"))

    install_observability(app)
    app.add_middleware(CorrelationIdMiddleware, header_name="X-Request-ID")
    app.include_router(audit_router())
    for router in routers:
        app.include_router(router)
    return app


def audit_router() -> APIRouter:
    router = APIRouter(prefix="/api/v1", tags=["audit"])

    @router.get("/audit", summary="the audit log of every write (admin)")
    def list_audit(
        kit: Kit,
        _admin: AdminOnly,
        page: Pagination,
        target_type: Annotated[str | None, Query()] = None,
        target_id: Annotated[str | None, Query()] = None,
        actor: Annotated[str | None, Query()] = None,
    ) -> dict[str, Any]:
        table = kit.tables.audit_log
        stmt = select(table)
        if target_type:
            stmt = stmt.where(table.c.target_type == target_type)
        if target_id:
            stmt = stmt.where(table.c.target_id == target_id)
        if actor:
            stmt = stmt.where(table.c.actor == actor)
        with kit.session_factory() as session:
            return paginate(session, stmt, key=table.c.id, params=page, to_item=_audit_item)

    return router


def _audit_item(row: Any) -> dict[str, Any]:
    return {
        "id": row["id"],
        "at": row["at"].isoformat() if row["at"] else None,
        "actor": row["actor"],
        "role": row["role"],
        "action": row["action"],
        "target_type": row["target_type"],
        "target_id": row["target_id"],
        "request_id": row["request_id"],
        "details": row["details"],
    }



__all__ = ["ConsumerSpec", "Kit", "ServiceKit", "actor_uow", "create_app", "current_actor", "kit_of"]
