"""What keeps a write fresh for its readers: reads that do not queue behind writers, a relay woken by the commit
that wrote its rows, and consumers that read a new message as soon as it is in the log.

No timings are asserted: a wait that would have lasted out a timeout is given one far longer than any run."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from pbkit.bus.local import LocalLogBus
from pbkit.db import make_read_session_factory
from pbkit.testing import wait_until

EVENT_TYPE = "pb.deal.submitted.v1"
NEVER_S = 600  # how long a poll waits here: a test that really waited for it would be killed long before


def test_a_read_only_session_reads_while_a_unit_of_work_holds_the_write_lock_on_sqlite(tmp_path, make_pipeline, stack):
    if stack["kind"] != "sqlite+local":
        pytest.skip("SQLite's write lock; PostgreSQL's readers never wait for writers")
    pipeline = make_pipeline()
    pipeline.write("deal-1")
    reads = make_read_session_factory(pipeline.engine)
    with pipeline.uow() as writer:
        writer.emit(event_type=EVENT_TYPE, aggregate_type="deal", aggregate_id="deal-2", data={})
        # The writer holds SQLite's write lock (BEGIN IMMEDIATE) and has not committed: a reader that asked for the
        # write lock too would wait out the 30 s busy timeout; a deferred one reads the last committed snapshot.
        with ThreadPoolExecutor(1) as pool:
            def count() -> int:
                with reads() as session:
                    return session.execute(select(func.count()).select_from(pipeline.relay.outbox)).scalar_one()

            assert pool.submit(count).result(timeout=NEVER_S) == 1


def test_a_commit_that_wrote_outbox_rows_wakes_the_relay(make_pipeline):
    pipeline = make_pipeline()
    pipeline.relay._wake.clear()
    with pipeline.uow() as uow:
        uow.audit("nothing.emitted")
        uow.commit()
    if pipeline.engine.dialect.name == "sqlite":
        assert not pipeline.relay._wake.is_set()
    stop = threading.Event()
    relay = threading.Thread(target=pipeline.relay.run, args=(stop,), daemon=True)
    pipeline.relay.poll_interval_s = NEVER_S  # only a wake-up can make it look again
    relay.start()
    try:
        wait_until(lambda: pipeline.relay.pending() == 0, timeout_s=30)
        pipeline.write("deal-1")
        wait_until(lambda: pipeline.relay.pending() == 0, timeout_s=30)
    finally:
        stop.set()
        pipeline.relay._wake.set()
        relay.join(30)


def test_a_commit_in_a_replica_wakes_the_leading_relay_of_another_on_postgres(stack, make_pipeline):
    """Two processes on one database: the second's commit reaches the first's relay, which leads, through a
    NOTIFY sent after the commit (never inside it: that would serialise the commits of every writer)."""
    if stack["kind"] != "postgres+kafka":
        pytest.skip("replicas share a database on PostgreSQL; on SQLite one process serves")
    leader, replica = make_pipeline(), make_pipeline()
    stop = threading.Event()
    leader.relay.poll_interval_s = NEVER_S  # only a notification can make it look again
    relay = threading.Thread(target=leader.relay.run, args=(stop,), daemon=True)
    relay.start()
    try:
        wait_until(lambda: leader.relay.leadership.held, timeout_s=30)
        wait_until(lambda: leader.relay.pending() == 0, timeout_s=30)
        replica.write("deal-1")
        wait_until(lambda: leader.relay.pending() == 0, timeout_s=30, message="the leader to publish the replica's row")
    finally:
        stop.set()
        leader.relay._wake.set()
        relay.join(30)


def test_a_local_log_consumer_reads_a_new_message_without_waiting_out_its_poll(tmp_path):
    bus = LocalLogBus(tmp_path / "bus.sqlite3")
    bus.ensure_topics(["t"])
    consumer = bus.consumer("g", ["t"])
    reader = bus.reader(["t"])
    with ThreadPoolExecutor(2) as pool:
        polled = pool.submit(consumer.poll, NEVER_S)
        read = pool.submit(reader.poll, NEVER_S)
        LocalLogBus(tmp_path / "bus.sqlite3").publish("t", "k", b"v", {})  # another connection, as another process
        assert [m.value for m in polled.result(timeout=30)] == [b"v"]
        assert [m.value for m in read.result(timeout=30)] == [b"v"]
    consumer.close()
