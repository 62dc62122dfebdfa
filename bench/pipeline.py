"""The event pipeline in one process, on the kit alone: N events written through the unit of work (outbox),
relayed to the bus, and applied through the consumer runner with dedup; each stage in events per second,
beside a bare reader of the same topic (the kit's reader) in the same run, and the process's peak memory."""

from __future__ import annotations

import resource
import tempfile
import time
import uuid
from pathlib import Path

from sqlalchemy import Column, Integer, MetaData, String, Table, insert

from bench.report import INFORMATION, Target
from bench.report import Table as Figures
from bench.stack import Infra
from pbkit.bus.kafka import KafkaBus
from pbkit.bus.local import LocalLogBus
from pbkit.bus.namespaced import NamespacedBus
from pbkit.consumer import ConsumerRunner
from pbkit.db import install_kit_tables, make_engine, make_session_factory
from pbkit.events import EventCatalog
from pbkit.outbox import OutboxRelay
from pbkit.testing import create_pg_database, drop_pg_database
from pbkit.uow import UnitOfWork

metadata = MetaData()
kit = install_kit_tables(metadata)
applied = Table("applied", metadata, Column("n", Integer, primary_key=True), Column("event_id", String(64)))
TOPIC, EVENT = "pb.transactions.deals", "pb.deal.submitted.v1"
CATALOG = EventCatalog(publishes={TOPIC: (EVENT,)}, consumes=(TOPIC,))
PER_COMMIT = 10  # events written per unit of work


def figures(backend: str) -> list[tuple[str, Target]]:
    return [(f"{backend} · pipeline: outbox write, events/s", INFORMATION),
            (f"{backend} · pipeline: relay, events/s", INFORMATION),
            (f"{backend} · pipeline: consume, events/s ÷ bare reader", INFORMATION),
            (f"{backend} · pipeline: peak RSS MiB of the bench process", INFORMATION)]


def run(database_url: str, bus, events: int) -> dict[str, float]:  # noqa: ANN001
    engine = make_engine(database_url)
    metadata.create_all(engine)
    sessions = make_session_factory(engine)
    bus.ensure_topics([TOPIC, TOPIC + ".dlq"])

    started = time.perf_counter()
    for start in range(0, events, PER_COMMIT):
        with UnitOfWork(sessions, kit, source="/pb/bench", catalog=CATALOG) as uow:
            for i in range(start, min(start + PER_COMMIT, events)):
                uow.emit(event_type=EVENT, aggregate_type="deal", aggregate_id=f"deal-{i % 1000}", data={"i": i})
            uow.commit()
    written = time.perf_counter() - started

    relay = OutboxRelay(session_factory=sessions, kit=kit, bus=bus, name="bench")
    started = time.perf_counter()
    while relay.relay_once():
        pass
    relayed = time.perf_counter() - started

    runner = ConsumerRunner(
        name="bench", bus=bus, group_id=f"bench-{uuid.uuid4().hex[:8]}", topics=[TOPIC], session_factory=sessions,
        kit=kit, source="/pb/bench", catalog=CATALOG,
        handler=lambda uow, event: uow.session.execute(insert(applied).values(event_id=event.id)),
    )
    started = time.perf_counter()
    while runner.applied < events:
        runner.run_once()
    consumed = time.perf_counter() - started
    runner.close_consumer()
    relay.leadership.release()
    engine.dispose()

    reader = bus.reader([TOPIC])
    started, seen = time.perf_counter(), 0
    while seen < events:
        seen += len(reader.poll(1.0, 500))
    read = time.perf_counter() - started
    reader.close()
    return {"write": events / written, "relay": events / relayed, "consume": events / consumed,
            "read": events / read, "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def measure(table: Figures, backend: str, infra: Infra | None, events: int) -> None:
    if backend == "kafka":
        assert infra is not None
        url = create_pg_database(infra.postgres_url, prefix="bench")
        bus = NamespacedBus(KafkaBus(infra.kafka_bootstrap), f"bench{uuid.uuid4().hex[:8]}.")
        try:
            rates = run(url, bus, events)
        finally:
            bus.close()
            drop_pg_database(infra.postgres_url, url)
    else:
        with tempfile.TemporaryDirectory() as scratch:
            rates = run(f"sqlite:///{scratch}/bench.sqlite3", LocalLogBus(Path(scratch) / "bus.sqlite3"), events)
    (write, _), (relay, _), (consume, _), (peak, _) = figures(backend)
    table.add(write, rates["write"], None)
    table.add(relay, rates["relay"], None)
    table.add(consume, rates["consume"], rates["read"])
    table.add(peak, rates["peak_mib"], None)
