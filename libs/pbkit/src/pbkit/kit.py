"""The service kit: settings, database, bus, token verifier, relay and consumers of one service process.

A service builds it once with `ServiceKit.from_settings(...)`; `pbkit.service.create_app` serves it. The
kit starts the relay, the consumers and the service's own background work after the topics they need
exist, follows the revocation feed from the start (pbkit.revocation), and stops them on shutdown.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from pbkit.bus import EventBus, bus_from_settings
from pbkit.consumer import ConsumerRunner, ConsumerSpec
from pbkit.context import SYSTEM, Actor
from pbkit.db import KitTables, NamedConstraint, make_engine, make_read_session_factory, make_session_factory
from pbkit.errors import Unavailable
from pbkit.events import EventCatalog
from pbkit.outbox import OutboxRelay, RelayLeadership
from pbkit.registry_client import RegistryClient, TitleArbiter
from pbkit.revocation import RevocationFeed
from pbkit.settings import ServiceSettings
from pbkit.uow import UnitOfWork
from pbkit.web.auth import KeySet, TokenVerifier

log = logging.getLogger(__name__)


@dataclass
class ServiceKit:
    settings: ServiceSettings
    engine: Engine
    session_factory: sessionmaker[Session]
    tables: KitTables
    bus: EventBus
    verifier: TokenVerifier
    source: str
    catalog: EventCatalog
    # The unique and foreign-key constraints whose violation is the client's conflict (409), not a bug.
    conflicts: tuple[NamedConstraint, ...] = ()
    relay: OutboxRelay | None = None
    # The revocation list of this process and the feed it follows (None where the service needs none).
    revocation_feed: RevocationFeed | None = None
    consumers: list[ConsumerRunner] = field(default_factory=list)
    # Work of the service's own that runs beside the relay and consumers: called with the stop event.
    background: list[Callable[[threading.Event], Any]] = field(default_factory=list)
    _registry: RegistryClient | None = None
    _read_sessions: sessionmaker[Session] | None = None
    # Set once the topics this service publishes and consumes exist; the relay and consumers start only then,
    # and /readyz waits for it.
    topics_ready: threading.Event = field(default_factory=threading.Event)
    topics_missing: tuple[str, ...] = ()
    # The leadership locks of the jobs that run in one replica at a time (`add_periodic(..., leader_only=True)`).
    job_leaderships: dict[str, RelayLeadership] = field(default_factory=dict)
    _threads: list[threading.Thread] = field(default_factory=list)
    _threads_lock: threading.Lock = field(default_factory=threading.Lock)
    _stop: threading.Event = field(default_factory=threading.Event)

    @classmethod
    def from_settings(
        cls,
        settings: ServiceSettings,
        tables: KitTables,
        *,
        catalog: EventCatalog,
        conflicts: tuple[NamedConstraint, ...] = (),
        verifier: TokenVerifier | None = None,
        bus: EventBus | None = None,
        registry: RegistryClient | None = None,
    ) -> ServiceKit:
        """`verifier`, `bus` and `registry` replace what the settings would build (tests pass fakes here)."""
        engine = make_engine(settings.database_url, pool_size=settings.db_pool_size,
                             max_overflow=settings.db_max_overflow)
        session_factory = make_session_factory(engine)
        bus = bus or bus_from_settings(settings)
        feed = None
        if settings.revocation_topic:
            feed = RevocationFeed(bus, settings.revocation_topic, stale_after_s=settings.revocation_stale_after_s)
        if verifier is None:
            keys = KeySet(jwks_url=None if settings.jwks_json else settings.resolved_jwks_url, jwks_json=settings.jwks_json)
            verifier = TokenVerifier(keys, issuer=settings.jwt_issuer, audience=settings.jwt_audience,
                                     revocations=feed.list if feed is not None else None)
        kit = cls(
            settings=settings,
            engine=engine,
            session_factory=session_factory,
            tables=tables,
            bus=bus,
            verifier=verifier,
            source=f"/pb/{settings.service_name}",
            catalog=catalog,
            conflicts=conflicts,
            revocation_feed=feed,
            _registry=registry,
        )
        kit.relay = OutboxRelay(
            session_factory=session_factory,
            kit=tables,
            bus=bus,
            name=settings.service_name,
            poll_interval_s=settings.relay_poll_interval_s,
            max_attempts=settings.relay_max_attempts,
        )
        return kit

    @property
    def registry_made(self) -> bool:
        """Whether `registry` was made already (making it loads a TLS context: tens of milliseconds)."""
        return self._registry is not None

    @property
    def registry(self) -> RegistryClient:
        """The registry's REST API (one pooled client per service process)."""
        if self._registry is None:
            settings = self.settings
            credentials = (settings.service_client_id, settings.service_client_secret)
            self._registry = RegistryClient(
                settings.registry_url,
                timeout_s=settings.registry_timeout_s,
                retries=settings.registry_retries,
                credentials=credentials if all(credentials) else None,
            )
        return self._registry

    def read_session(self) -> Session:
        """A session for reading only, as every GET handler uses (`pbkit.db.make_read_session_factory`)."""
        return self._read_session_factory()()

    def _read_session_factory(self) -> sessionmaker[Session]:
        if self._read_sessions is None:
            self._read_sessions = make_read_session_factory(self.engine)
        return self._read_sessions

    def uow(self, actor: Actor = SYSTEM) -> UnitOfWork:
        return UnitOfWork(self.session_factory, self.tables, source=self.source, catalog=self.catalog, actor=actor,
                          read_session_factory=self._read_session_factory())

    def add_consumer(self, spec: ConsumerSpec, *, group_id: str | None = None) -> ConsumerRunner:
        runner = ConsumerRunner(
            name=spec.name,
            bus=self.bus,
            group_id=group_id or f"pb-{self.settings.service_name}-{spec.name}",
            topics=list(spec.topics),
            handler=spec.handler,
            batch_handler=spec.batch_handler,
            session_factory=self.session_factory,
            kit=self.tables,
            source=self.source,
            catalog=self.catalog,
        )
        self.consumers.append(runner)
        return runner

    def add_periodic(self, name: str, interval_s: float, step: Callable[[], Any], *, leader_only: bool = False) -> None:
        """Runs `step` every `interval_s` seconds beside the relay and the consumers, until the service stops.
        A round that finds a service unavailable is a warning, any other failure is logged; the next round
        tries again.

        `leader_only`: of the replicas sharing the service's database, only the one holding the job's leadership
        lock runs it (the relay's kind of lock, one per job: pbkit.outbox.RelayLeadership). Every round the
        others ask for the lock, so the job moves to another replica within a round of its leader's death."""
        leadership = None
        if leader_only:
            leadership = self.job_leaderships[name] = RelayLeadership(
                self.engine, self.settings.service_name, purpose=f"job-{name}")

        def run(stop: threading.Event) -> None:
            try:
                while not stop.wait(interval_s):
                    try:
                        if leadership is not None and not leadership.acquire():
                            continue
                        step()
                    except Unavailable as exc:
                        log.warning("%s: %s; next try in %.0f s", name, exc, interval_s)
                    except Exception:
                        log.exception("%s failed; next try in %.0f s", name, interval_s)
            finally:
                if leadership is not None:
                    leadership.release()

        run.__name__ = name
        self.background.append(run)

    def add_title_recovery(self, recover: Callable[..., int]) -> None:
        """The recovery job of a service whose steps the registry decides (docs/TITLE_ARBITER.md): every
        `PB_PENDING_RECOVERY_INTERVAL_S`, `recover(uow_factory=, arbiter=, older_than=)` drives the steps left
        pending longer than `PB_PENDING_RECOVERY_AFTER_S`, asking the registry with this service's own credential."""
        settings = self.settings
        self.add_periodic("title-recovery", settings.pending_recovery_interval_s, lambda: recover(
            uow_factory=self.uow,
            arbiter=lambda: TitleArbiter(self.registry, token=self.registry.service_token()),
            older_than=timedelta(seconds=settings.pending_recovery_after_s),
        ), leader_only=True)

    def start_background(self) -> None:
        """Makes the topics this service publishes, waits for those it consumes, then starts the relay, the
        consumers and the service's own background work.

        Nothing publishes or subscribes before its topics exist: a broker that creates topics on first use
        would make them with its default retention, and a Kafka consumer that subscribed to a missing topic
        would not see it until its next metadata refresh (5 minutes). A consumed topic is made by the
        service that publishes it, which may start later than this one.
        """
        self._stop.clear()
        self.topics_ready.clear()
        self.topics_missing = tuple(self.catalog.topics_to_create)
        if self.revocation_feed is not None:
            # Not after the topics: a revocation topic not made yet holds no revocation, which the feed knows.
            self._spawn("revocation-feed", lambda: self.revocation_feed.run(self._stop))
        self._spawn("startup", self._start_after_topics)

    def _start_after_topics(self) -> None:
        if not self._until_done(self._create_topics):
            return
        if self.settings.relay_enabled and self.relay is not None:
            self._spawn("outbox-relay", lambda: self.relay.run(self._stop))
        if not self._until_done(self._consumed_topics_exist):
            return
        self.topics_ready.set()
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

    def _create_topics(self) -> bool:
        self.topics_missing = tuple(self.catalog.topics_to_create)
        self.bus.ensure_topics(list(self.topics_missing))
        return True

    def _consumed_topics_exist(self) -> bool:
        self.topics_missing = tuple(self.bus.missing_topics(list(self.catalog.consumes)))
        return not self.topics_missing

    def _until_done(self, step: Callable[[], bool]) -> bool:
        """Retries `step` with backoff until it says done; False if the service stopped first."""
        delay = 0.2
        while not self._stop.is_set():
            try:
                if step():
                    return True
                log.info("waiting for the topics %s", ", ".join(self.topics_missing))
            except Exception as exc:  # noqa: BLE001 - the broker may come up after the service
                log.warning("could not make or find the topics yet: %s", exc)
            self._stop.wait(delay)
            delay = min(delay * 2, 5)
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
