"""`make bench`: the event pipeline's throughput on the embedded default, and on PostgreSQL + Kafka when
`PB_TEST_POSTGRES_URL` / `PB_TEST_KAFKA_BOOTSTRAP` are set (as `deploy/infra.sh up` writes them).

Each run writes N events across many aggregates through the unit of work (outbox), relays them, and
applies them through the consumer runner, reporting events per second for each stage and the process's
peak memory. Numbers are for comparing changes on one machine, not promises.
"""

from __future__ import annotations

import argparse
import os
import resource
import tempfile
import time
import uuid
from pathlib import Path

from sqlalchemy import Column, Integer, MetaData, String, Table, insert

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


def run(label: str, database_url: str, bus, events: int, per_commit: int) -> None:  # noqa: ANN001
    engine = make_engine(database_url)
    metadata.create_all(engine)
    sessions = make_session_factory(engine)
    bus.ensure_topics([TOPIC, TOPIC + ".dlq"])

    started = time.perf_counter()
    for start in range(0, events, per_commit):
        with UnitOfWork(sessions, kit, source="/pb/bench", catalog=CATALOG) as uow:
            for i in range(start, min(start + per_commit, events)):
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

    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{label:16} {events:>7} events | write {events / written:>8.0f}/s | relay {events / relayed:>8.0f}/s"
          f" | consume {events / consumed:>7.0f}/s | peak RSS {peak_mib:.0f} MiB")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument("--per-commit", type=int, default=10, help="events written per unit of work")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as scratch:
        run("sqlite+local", f"sqlite:///{scratch}/bench.sqlite3", LocalLogBus(Path(scratch) / "bus.sqlite3"),
            args.events, args.per_commit)

    pg, kafka = os.environ.get("PB_TEST_POSTGRES_URL"), os.environ.get("PB_TEST_KAFKA_BOOTSTRAP")
    if pg and kafka:
        url = create_pg_database(pg, prefix="bench")
        bus = NamespacedBus(KafkaBus(kafka), f"bench{uuid.uuid4().hex[:8]}.")
        try:
            run("postgres+kafka", url, bus, args.events, args.per_commit)
        finally:
            bus.close()
            drop_pg_database(pg, url)
    else:
        print("postgres+kafka   skipped: run `deploy/infra.sh up` and source its infra.env to include it")


if __name__ == "__main__":
    main()
