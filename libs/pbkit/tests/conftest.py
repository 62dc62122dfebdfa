"""Fixtures of the kit's tests: a tiny service whose consumer writes its own events into an `applied` table."""

from __future__ import annotations

import uuid
from types import SimpleNamespace

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, insert, select

from pbkit.bus import EventBus
from pbkit.bus.kafka import KafkaBus
from pbkit.bus.local import LocalLogBus
from pbkit.bus.namespaced import NamespacedBus
from pbkit.consumer import ConsumerRunner
from pbkit.db import install_kit_tables, make_engine, make_session_factory
from pbkit.events import Event, EventCatalog
from pbkit.kit import ServiceKit
from pbkit.outbox import OutboxRelay
from pbkit.settings import ServiceSettings
from pbkit.uow import UnitOfWork

metadata = MetaData()
kit = install_kit_tables(metadata)
applied = Table(
    "applied",
    metadata,
    Column("n", Integer, primary_key=True, autoincrement=True),
    Column("event_id", String(64), nullable=False),
    Column("aggregate_id", String(64), nullable=False),
    Column("sequence", Integer, nullable=False),
    # No unique constraint on event_id: an event applied twice must show up as two rows, not be hidden.
)
TOPIC = "pb.transactions.deals"
EVENT_TYPE = "pb.deal.submitted.v1"
# The tiny service publishes its deal events and consumes them itself.
CATALOG = EventCatalog(publishes={TOPIC: (EVENT_TYPE,)}, consumes=(TOPIC,))


class Pipeline:
    def __init__(self, database_url: str, bus: EventBus, group_id: str, *, handler=None):  # noqa: ANN001
        self.engine = make_engine(database_url)
        metadata.create_all(self.engine)
        self.session_factory = make_session_factory(self.engine)
        self.bus = bus
        self.relay = OutboxRelay(session_factory=self.session_factory, kit=kit, bus=bus, name="kit-test", ack_timeout_s=10)
        self.consumer = ConsumerRunner(
            name="kit-test",
            bus=bus,
            group_id=group_id,
            topics=[TOPIC],
            handler=handler or record_event,
            session_factory=self.session_factory,
            kit=kit,
            source="/pb/kit-test",
            catalog=CATALOG,
            retry_backoff_s=0.01,
        )

    def uow(self) -> UnitOfWork:
        return UnitOfWork(self.session_factory, kit, source="/pb/kit-test", catalog=CATALOG)

    def write(self, aggregate_id: str, n: int = 1) -> None:
        with self.uow() as uow:
            for _ in range(n):
                uow.emit(event_type=EVENT_TYPE, aggregate_type="deal", aggregate_id=aggregate_id, data={"x": 1})
            uow.commit()

    def applied_rows(self) -> list[tuple[str, int, str]]:
        with self.engine.connect() as conn:
            return [tuple(r) for r in conn.execute(select(applied.c.aggregate_id, applied.c.sequence, applied.c.event_id).order_by(applied.c.n))]

    def close(self) -> None:
        self.relay.leadership.release()
        self.consumer.close_consumer()
        self.engine.dispose()


def record_event(uow: UnitOfWork, event: Event) -> None:
    uow.session.execute(insert(applied).values(event_id=event.id, aggregate_id=event.subject, sequence=event.sequence))


def make_bus(kind: str, *, tmp_path=None, kafka_bootstrap: str | None = None) -> EventBus:  # noqa: ANN001
    if kind == "local":
        return LocalLogBus(tmp_path / "bus.sqlite3")
    return NamespacedBus(KafkaBus(kafka_bootstrap, partitions=3, delivery_timeout_s=10), f"t{uuid.uuid4().hex[:10]}.")



@pytest.fixture
def tiny_service() -> SimpleNamespace:
    """The tiny service's tables and catalogue, for a test that makes its database itself."""
    return SimpleNamespace(metadata=metadata, kit=kit, catalog=CATALOG, topic=TOPIC, event_type=EVENT_TYPE)


@pytest.fixture(params=["sqlite+local", pytest.param("postgres+kafka", marks=pytest.mark.integration)])
def stack(request, tmp_path):
    """A database and a bus: the embedded default, and production's PostgreSQL + Kafka."""
    if request.param == "sqlite+local":
        database_url = f"sqlite:///{tmp_path}/svc.sqlite3"
        bus = make_bus("local", tmp_path=tmp_path)
        kafka = None
    else:
        database_url = request.getfixturevalue("postgres_url")
        kafka = request.getfixturevalue("kafka_bootstrap")
        bus = make_bus("kafka", kafka_bootstrap=kafka)
    bus.ensure_topics(CATALOG.topics_to_create)
    yield {"kind": request.param, "database_url": database_url, "bus": bus, "kafka": kafka, "tmp_path": tmp_path}
    bus.close()


@pytest.fixture
def make_pipeline(stack):
    """Pipelines on the stack; `bus` stands in for the stack's bus (a test double wrapping it, say)."""
    made = []

    def make(group_id=None, handler=None, bus=None):
        group_id = group_id or f"kit-test-{uuid.uuid4().hex[:8]}"
        p = Pipeline(stack["database_url"], bus or stack["bus"], group_id=group_id, handler=handler)
        made.append(p)
        return p

    yield make
    for p in made:
        p.close()


@pytest.fixture
def make_service_kit(stack, test_keys):
    """The tiny service as a `ServiceKit` on the stack's database, to serve with `pbkit.service.create_app`;
    `bus` stands in for the stack's bus, and `settings` are `ServiceSettings` of its own."""
    made = []

    def make(bus=None, **settings):
        settings = ServiceSettings(**{
            "service_name": "kit-test", "database_url": stack["database_url"], "var_dir": stack["tmp_path"],
            "jwks_json": test_keys.jwks_json, **settings,
        })
        service = ServiceKit.from_settings(settings, kit, catalog=CATALOG, bus=bus or stack["bus"])
        metadata.create_all(service.engine)
        made.append(service)
        return service

    yield make
    for service in made:
        service.relay.leadership.release()
        service.engine.dispose()


@pytest.fixture
def pipeline(stack):
    p = Pipeline(stack["database_url"], stack["bus"], group_id=f"kit-test-{uuid.uuid4().hex[:8]}")
    yield p
    p.close()


@pytest.fixture
def record():
    return record_event
