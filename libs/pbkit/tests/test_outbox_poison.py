"""The relay under a bus that keeps refusing one event, and under one key's long backlog, on the embedded default
and on PostgreSQL + real Kafka: the row is parked after its tries, its key waits behind it, every other key flows."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from pbkit.bus.base import BusError
from pbkit.outbox import unpark
from pbkit.testing import wait_until

POISON = "deal-poison"


class RefusingBus:
    """The test stack's real bus, except that it refuses every message of the keys in `refused` (as a broker
    refuses a message too large for it), and with `up=False` refuses everything and fails its ping (an outage)."""

    def __init__(self, bus, refused=(POISON,)):  # noqa: ANN001
        self.inner = bus
        self.refused = set(refused)
        self.up = True

    def publish(self, topic: str, key: str | None, value: bytes, headers: dict[str, str]):  # noqa: ANN201
        if not self.up:
            raise BusError("broker unreachable")
        if key in self.refused:
            raise BusError(f"message of {key} refused: too large")
        return self.inner.publish(topic, key, value, headers)

    def ping(self, timeout: float) -> bool:
        return self.up and self.inner.ping(timeout)

    def __getattr__(self, name: str):  # noqa: ANN204 - the rest of the EventBus port, unchanged
        return getattr(self.inner, name)


@pytest.fixture
def refusing(stack, make_pipeline):
    bus = RefusingBus(stack["bus"])
    pipeline = make_pipeline(bus=bus)
    pipeline.relay.max_attempts = 3
    return bus, pipeline


def rounds(relay, n: int) -> None:
    """`n` relay rounds, as the relay's loop runs them (a round with a refused row raises, and the loop backs off)."""
    for _ in range(n):
        try:
            relay.relay_once()
        except BusError:
            pass


def published(pipeline) -> list[tuple[str, int, str]]:  # noqa: ANN001
    """(key, sequence, event id) of every event on the bus so far, in the order the consumer applied them."""
    ends = pipeline.bus.end_offsets(["pb.transactions.deals"])
    wait_until(lambda: pipeline.consumer.run_once() >= 0 and pipeline.consumer.reached(ends), timeout_s=60,
               interval_s=0.0, message="the consumer to reach the end of the log")
    return pipeline.applied_rows()


def outbox_rows(pipeline):  # noqa: ANN001, ANN201
    o = pipeline.relay.outbox
    with pipeline.session_factory() as session:
        return session.execute(select(o).order_by(o.c.position)).all()


def test_a_row_the_bus_keeps_refusing_is_parked_after_the_cap_and_the_other_keys_flow(refusing):
    bus, p = refusing
    p.write(POISON, 1)
    p.write("deal-a", 2)
    p.write("deal-b", 1)
    rounds(p.relay, 3)
    (parked,) = outbox_rows(p)
    assert parked.aggregateid == POISON and parked.parked_at is not None
    assert parked.attempts == 3 and "refused: too large" in parked.last_error
    assert p.relay.parked() == 1
    # The round no longer fails on it: the rows written from now on go out at once, in a clean round.
    p.write("deal-c", 1)
    assert p.relay.relay_once() == 1
    assert sorted((key, seq) for key, seq, _ in published(p)) == [("deal-a", 1), ("deal-a", 2), ("deal-b", 1), ("deal-c", 1)]


def test_the_later_rows_of_a_parked_key_wait_behind_it_and_follow_it_once_retried(refusing):
    bus, p = refusing
    p.write(POISON, 1)
    rounds(p.relay, 3)
    p.write(POISON, 2)  # written after the first was parked
    bus.refused.clear()  # the bus would take them all now: only the parked row holds the key back
    rounds(p.relay, 3)
    assert [(r.sequence, r.parked_at is not None) for r in outbox_rows(p)] == [(1, True), (2, False), (3, False)]
    assert published(p) == []
    with p.session_factory() as session:
        (retried,) = unpark(session, p.relay.outbox)
        session.commit()
    assert p.relay.relay_once() == 3
    assert [(key, seq) for key, seq, _ in published(p)] == [(POISON, 1), (POISON, 2), (POISON, 3)]
    assert published(p)[0][2] == retried


def test_an_outage_of_the_bus_parks_nothing(refusing):
    bus, p = refusing
    bus.refused.clear()
    p.write("deal-a", 2)
    p.write("deal-b", 1)
    bus.up = False
    rounds(p.relay, 6)  # twice the cap
    rows = outbox_rows(p)
    assert len(rows) == 3 and p.relay.parked() == 0
    assert {r.attempts for r in rows} == {0}
    assert {r.last_error for r in rows if r.sequence == 1} == {"broker unreachable"}
    bus.up = True
    assert p.relay.relay_once() == 3


def test_a_long_backlog_on_one_key_does_not_stall_another_key(make_pipeline):
    p = make_pipeline()
    p.relay.batch_size = 100
    p.write("deal-hot", 500)
    p.write("deal-cold", 1)
    assert p.relay.relay_once() == 101
    assert [key for key, _, _ in published(p)].count("deal-cold") == 1  # in the first round, not the sixth
    while p.relay.relay_once():
        pass
    hot = [seq for key, seq, _ in published(p) if key == "deal-hot"]
    assert hot == list(range(1, 501))


def test_a_parked_key_takes_no_place_in_the_batch(refusing):
    bus, p = refusing
    p.relay.batch_size = 2
    p.write(POISON, 1)
    rounds(p.relay, 3)
    p.write(POISON, 5)
    p.write("deal-a", 2)
    assert p.relay.relay_once() == 2
    assert [(key, seq) for key, seq, _ in published(p)] == [("deal-a", 1), ("deal-a", 2)]
