"""Outbox → bus → consumer, on the embedded default and on PostgreSQL + real Kafka."""

from __future__ import annotations

import random
import sqlite3
import threading
import uuid
from collections import defaultdict

import pytest
from sqlalchemy.exc import IntegrityError, OperationalError

from pbkit.consumer import database_away
from pbkit.events import Event
from pbkit.testing import wait_until

EVENT_TYPE = "pb.deal.submitted.v1"


def drain(pipeline, expected: int, timeout_s: float = 60) -> list[tuple[str, int, str]]:
    def step():
        pipeline.relay.relay_once()
        pipeline.consumer.run_once()
        return len(pipeline.applied_rows()) >= expected

    wait_until(step, timeout_s=timeout_s, interval_s=0.0, message=f"{expected} events applied")
    return pipeline.applied_rows()


def read_messages(bus, topic: str, n: int, timeout_s: float = 30):
    """The first `n` messages of a topic, read by a fresh consumer group."""
    consumer = bus.consumer(f"reader-{uuid.uuid4().hex[:8]}", [topic])
    got = []
    try:
        wait_until(lambda: got.extend(consumer.poll(0.5)) or len(got) >= n, timeout_s=timeout_s, message=f"{n} messages on {topic}")
        got.extend(consumer.poll(0.5))  # anything beyond n would show up here
    finally:
        consumer.close()
    return got


def assert_exactly_once_in_order(rows, expected_per_key: dict[str, int]) -> None:
    event_ids = [r[2] for r in rows]
    assert len(event_ids) == len(set(event_ids)), "an event was applied twice"
    by_key = defaultdict(list)
    for key, sequence, _ in rows:
        by_key[key].append(sequence)
    assert {k: len(v) for k, v in by_key.items()} == expected_per_key
    for key, sequences in by_key.items():
        assert sequences == list(range(1, expected_per_key[key] + 1)), f"{key} arrived out of order: {sequences}"


def test_events_across_many_aggregates_arrive_once_and_in_per_key_order(pipeline):
    rng = random.Random(7)
    expected: dict[str, int] = defaultdict(int)
    for _ in range(60):
        key = f"deal-{rng.randrange(15)}"
        n = rng.randrange(1, 4)
        pipeline.write(key, n)
        expected[key] += n
    rows = drain(pipeline, sum(expected.values()))
    assert_exactly_once_in_order(rows, dict(expected))
    assert pipeline.relay.pending() == 0


def test_a_redelivered_event_is_applied_once(pipeline, stack):
    pipeline.write("deal-a", 2)
    drain(pipeline, 2)
    assert pipeline.consumer.applied == 2
    # Publish the very same events again, as a relay that crashed before deleting its rows would.
    for key, sequence, event_id in pipeline.applied_rows():
        event = Event(id=event_id, type=EVENT_TYPE, source="/pb/kit-test", subject=key, time="2022-01-01T00:00:00Z",
                      sequence=sequence, data={"x": 1})
        stack["bus"].publish("pb.transactions.deals", key, event.to_json().encode(), {}).result(10)
    stack["bus"].flush(10)
    ends = stack["bus"].end_offsets(["pb.transactions.deals"])
    assert sum(ends.values()) == 4
    handled = []

    def consumed_the_redeliveries() -> bool:
        handled.append(pipeline.consumer.run_once())
        return sum(handled) >= 2 and pipeline.consumer.reached(ends)

    # The redelivered messages must really reach the consumer (and be committed past), or this proves nothing.
    wait_until(consumed_the_redeliveries, timeout_s=60, interval_s=0.0, message="the redelivered events to be consumed")
    assert sum(handled) == 2
    assert len(pipeline.applied_rows()) == 2
    assert pipeline.consumer.applied == 2


@pytest.mark.integration
@pytest.mark.parametrize("stack", ["postgres+kafka"], indirect=True)  # SQLite runs one writer at a time
def test_a_row_that_commits_late_is_still_published(pipeline):
    """A transaction that took its position first but commits after a later one is not skipped by the relay.

    Only PostgreSQL can show it: SQLite serialises writers, so no transaction commits "under" another there
    and the case would be a plain round trip. A relay that remembered the last position it published
    (a watermark) would miss the late row.
    """
    slow = pipeline.uow().__enter__()
    slow.emit(event_type=EVENT_TYPE, aggregate_type="deal", aggregate_id="late", data={"x": 1})
    slow.session.flush()  # the late row has its position now, below the early one's
    pipeline.write("early", 1)  # a higher position, committed first
    rows = drain(pipeline, 1)
    assert [r[0] for r in rows] == ["early"]
    slow.commit()
    slow.__exit__(None, None, None)
    rows = drain(pipeline, 2, timeout_s=20)
    assert sorted(r[0] for r in rows) == ["early", "late"]
    assert pipeline.relay.pending() == 0


def test_poison_message_goes_to_the_dlq_with_reason_and_origin(stack, make_pipeline, record):
    def explode(uow, event):
        if event.data.get("poison"):
            raise ValueError("cannot apply this")
        record(uow, event)

    p = make_pipeline(handler=explode)
    with p.uow() as uow:
        uow.emit(event_type=EVENT_TYPE, aggregate_type="deal", aggregate_id="p1", data={"poison": True})
        uow.emit(event_type=EVENT_TYPE, aggregate_type="deal", aggregate_id="ok1", data={"x": 1})
        uow.commit()
    drain(p, 1)
    messages = read_messages(stack["bus"], "pb.transactions.deals.dlq", 1)
    assert len(messages) == 1
    headers = messages[0].headers
    assert "cannot apply this" in headers["pb-dlq-reason"]
    assert headers["pb-dlq-attempts"] == "3"
    assert headers["pb-origin-topic"] == "pb.transactions.deals"
    assert messages[0].key == "p1"
    assert [r[0] for r in p.applied_rows()] == ["ok1"]


def test_a_burst_of_failures_halts_the_consumer_without_committing(stack, make_pipeline, record):
    def always_fail(uow, event):
        raise RuntimeError("bad deploy")

    group = f"halt-{uuid.uuid4().hex[:6]}"
    p = make_pipeline(group_id=group, handler=always_fail)
    p.consumer.max_consecutive_failures = 3
    p.consumer.max_attempts = 1
    for i in range(6):
        p.write(f"h{i}", 1)
    while p.relay.pending():
        p.relay.relay_once()
    stop = threading.Event()
    worker = threading.Thread(target=p.consumer.run, args=(stop,))
    worker.start()
    worker.join(60)
    assert not worker.is_alive(), "the consumer should have stopped by itself"
    assert p.consumer.halted is not None
    # Two were dead-lettered; the halting message and the rest were not committed,
    # so the group, once its handler is fixed, still gets every one of them.
    p.consumer.close_consumer()
    dead = {m.key for m in read_messages(stack["bus"], "pb.transactions.deals.dlq", 2)}
    assert len(dead) == 2
    fixed = make_pipeline(group_id=group, handler=record)
    rows = drain(fixed, 4)
    assert {r[0] for r in rows} == {f"h{i}" for i in range(6)} - dead


def test_a_runner_knows_when_it_has_reached_the_end_of_the_log(pipeline, stack):
    pipeline.write("r1", 3)
    while pipeline.relay.pending():
        pipeline.relay.relay_once()
    ends = stack["bus"].end_offsets(["pb.transactions.deals"])
    assert not pipeline.consumer.reached(ends)
    wait_until(lambda: pipeline.consumer.run_once() >= 0 and pipeline.consumer.reached(ends), timeout_s=30,
               message="the runner to reach the end")
    assert len(pipeline.applied_rows()) == 3


def test_a_failure_in_the_middle_of_a_batch_keeps_what_came_before_and_the_order_after(make_pipeline, record):
    """A batch is one transaction; an event that fails once is retried on its own, and the rest follow it."""
    failed_once: set[str] = set()

    def flaky(uow, event):
        if event.subject == "b" and event.sequence == 2 and "b2" not in failed_once:
            failed_once.add("b2")
            raise RuntimeError("transient")
        record(uow, event)

    p = make_pipeline(handler=flaky)
    p.write("b", 4)
    drain(p, 4)
    assert [r[1] for r in p.applied_rows()] == [1, 2, 3, 4]
    assert failed_once == {"b2"}
    assert p.consumer.applied == 4


def test_a_batch_handler_gets_each_new_event_once_and_a_failing_batch_falls_back_to_one_event_at_a_time(
    stack, make_pipeline, record
):
    """The set-wise path: one call per polled batch with only the events this consumer has not applied; when
    it fails, the batch is applied again event by event, so the poison event alone goes to the DLQ."""
    batches: list[list[str]] = []

    def record_all(uow, events):
        batches.append([e.subject for e in events])
        if any(e.data.get("poison") for e in events):
            raise ValueError("cannot apply this batch")
        for event in events:
            record(uow, event)

    def one_by_one(uow, event):
        if event.data.get("poison"):
            raise ValueError("cannot apply this")
        record(uow, event)

    group = f"batch-{uuid.uuid4().hex[:6]}"
    p = make_pipeline(group_id=group, handler=one_by_one)
    p.consumer.batch_handler = record_all
    p.write("a", 3)
    drain(p, 3)
    assert batches and sum(len(b) for b in batches) == 3
    # The same consumer reading the log again from the start (a new group) finds every id claimed already.
    again = make_pipeline(handler=one_by_one)
    again.consumer.batch_handler = record_all
    wait_until(lambda: again.consumer.run_once() >= 0 and again.consumer.positions, timeout_s=30,
               message="the second group to read the log")
    assert sum(len(b) for b in batches) == 3 and len(p.applied_rows()) == 3

    with p.uow() as uow:
        uow.emit(event_type=EVENT_TYPE, aggregate_type="deal", aggregate_id="p1", data={"poison": True})
        uow.emit(event_type=EVENT_TYPE, aggregate_type="deal", aggregate_id="ok1", data={"x": 1})
        uow.commit()
    rows = drain(p, 4)
    assert [r[0] for r in rows] == ["a", "a", "a", "ok1"]
    messages = read_messages(stack["bus"], "pb.transactions.deals.dlq", 1)
    assert [m.key for m in messages] == ["p1"] and "cannot apply this" in messages[0].headers["pb-dlq-reason"]
    assert p.consumer.applied == 4


def test_a_database_outage_in_the_handler_delays_the_event_and_never_dead_letters_it(stack, make_pipeline, record):
    """The handler's statements fail as they do while PostgreSQL restarts (OperationalError), more times than the
    retries of one event: the event is applied once the database answers, and nothing reaches the DLQ. (Before,
    the three quick retries ran out during the outage and the event was dead-lettered: a chaos run lost the release
    of a pledge from the projections that way.)"""
    failures = {"left": 5}

    def flaky(uow, event):
        if failures["left"] > 0:
            failures["left"] -= 1
            raise OperationalError("UPDATE deal_facts ...", {}, Exception("server closed the connection unexpectedly"))
        record(uow, event)

    p = make_pipeline(handler=flaky)
    p.write("outage-1", 1)
    while p.relay.pending():
        p.relay.relay_once()
    stop = threading.Event()
    worker = threading.Thread(target=p.consumer.run, args=(stop,))
    worker.start()
    try:
        wait_until(lambda: len(p.applied_rows()) == 1, timeout_s=60, message="the event applied after the outage")
    finally:
        stop.set()
        worker.join(30)
    assert failures["left"] == 0
    assert [r[0] for r in p.applied_rows()] == ["outage-1"]
    assert p.consumer.dead_lettered == 0 and p.consumer.halted is None


class _PgError(Exception):
    def __init__(self, message: str, sqlstate: str | None):
        super().__init__(message)
        self.sqlstate = sqlstate


@pytest.mark.parametrize(("error", "away"), [
    (OperationalError("SELECT 1", {}, _PgError("connection refused", None)), True),
    (OperationalError("SELECT 1", {}, _PgError("server closed the connection", "08006")), True),
    (OperationalError("SELECT 1", {}, _PgError("terminating connection due to administrator command", "57P01")), True),
    (OperationalError("SELECT 1", {}, _PgError("the database system is starting up", "57P03")), True),
    (OperationalError("SELECT 1", {}, _PgError("canceling statement due to statement timeout", "57014")), False),
    (OperationalError("SELECT 1", {}, _PgError("index row size exceeds btree maximum", "54000")), False),
    (OperationalError("SELECT 1", {}, _PgError("deadlock detected", "40P01")), False),
    (OperationalError("SELECT 1", {}, sqlite3.OperationalError("database is locked")), True),
    (OperationalError("SELECT x", {}, sqlite3.OperationalError("no such column: x")), False),
    (IntegrityError("INSERT", {}, _PgError("duplicate key", "23505")), False),
    (ValueError("not a database error"), False),
])
def test_only_errors_of_a_database_that_is_away_count_as_an_outage(error, away):
    """An outage delays the event (and answers 503); a statement the database refuses is a fault of its own, retried
    and dead-lettered (or a 500) as before, so that a bad event cannot halt a consumer for ever."""
    assert database_away(error) is away
