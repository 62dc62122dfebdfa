"""The relay under a bus that keeps refusing one event, and under one key's long backlog, on the embedded default
and on PostgreSQL + real Kafka: the row is parked after its tries, its key waits behind it, every other key flows,
and an admin sees the parked rows (list, metric) and sends them again."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from pbkit.bus.base import BusError
from pbkit.outbox import unpark
from pbkit.service import create_app
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


@pytest.mark.integration
@pytest.mark.parametrize("stack", ["postgres+kafka"], indirect=True)  # the local log takes a message of any size
def test_an_event_too_large_for_kafka_is_parked_and_the_rest_flows(make_pipeline):
    """No double here: the real producer refuses a message over its 1 MB request size, every time."""
    p = make_pipeline()
    p.relay.max_attempts = 2
    with p.uow() as uow:
        uow.emit(event_type="pb.deal.submitted.v1", aggregate_type="deal", aggregate_id="deal-huge",
                 data={"note": "x" * 1_100_000})
        uow.commit()
    p.write("deal-a", 1)
    rounds(p.relay, 2)
    (parked,) = outbox_rows(p)
    assert parked.aggregateid == "deal-huge" and parked.parked_at is not None and parked.attempts == 2
    assert "MessageSizeTooLarge" in parked.last_error
    assert [(key, seq) for key, seq, _ in published(p)] == [("deal-a", 1)]


# The admin's view: list, metric and retry, through a service's HTTP API.


@pytest.fixture
def admin_client(stack, make_service_kit, make_pipeline):
    """A service on the stack's database and a refusing bus; its relay is driven by the test, round by round."""
    bus = RefusingBus(stack["bus"])
    service = make_service_kit(bus=bus, relay_enabled=False, relay_max_attempts=2)
    with TestClient(create_app(service, title="kit-test", description="test", routers=[])) as client:
        client.service, client.bus = service, bus
        client.pipeline = make_pipeline(bus=bus)  # writes the rows; its consumer shows what was published
        yield client


def parked_metric(client) -> float:  # noqa: ANN001
    (line,) = [ln for ln in client.get("/metrics").text.splitlines() if ln.startswith("pb_outbox_parked ")]
    return float(line.split()[1])


def test_an_admin_lists_parked_rows_sees_the_metric_and_retries_one(admin_client, test_keys):
    c, admin = admin_client, test_keys.headers("admin", sub="ops")
    c.pipeline.write(POISON, 2)
    c.pipeline.write("deal-a", 1)
    rounds(c.service.relay, 2)
    assert parked_metric(c) == 1.0
    page = c.get("/api/v1/outbox/parked", headers=admin).json()
    (item,) = page["items"]
    assert page["next_cursor"] is None
    assert (item["aggregateid"], item["sequence"], item["attempts"], item["held_back"]) == (POISON, 1, 2, 1)
    assert item["type"] == "pb.deal.submitted.v1" and "too large" in item["last_error"] and item["parked_at"]

    missing = c.post("/api/v1/outbox/parked/0190b8a0-0000-7000-8000-000000000000/retry", headers=admin)
    assert missing.status_code == 404 and missing.headers["content-type"].startswith("application/problem+json")
    c.bus.refused.clear()
    retried = c.post(f"/api/v1/outbox/parked/{item['id']}/retry", headers={**admin, "Idempotency-Key": "r1"})
    assert retried.status_code == 200 and retried.json() == {"retried": 1}
    again = c.post(f"/api/v1/outbox/parked/{item['id']}/retry", headers={**admin, "Idempotency-Key": "r1"})
    assert again.json() == {"retried": 1}  # the first answer, replayed
    assert c.get("/api/v1/outbox/parked", headers=admin).json()["items"] == []
    assert parked_metric(c) == 0.0
    assert c.service.relay.relay_once() == 2
    assert [(key, seq) for key, seq, _ in published(c.pipeline) if key == POISON] == [(POISON, 1), (POISON, 2)]
    audit = c.get("/api/v1/audit", params={"actor": "ops"}, headers=admin).json()["items"]
    assert [(a["action"], a["target_id"]) for a in audit] == [("outbox.retry", item["id"])]


def test_an_admin_pages_through_parked_rows_and_retries_them_all(admin_client, test_keys):
    c, admin = admin_client, test_keys.headers("admin")
    c.bus.refused = {"deal-x", "deal-y", "deal-z"}
    for key in sorted(c.bus.refused):
        c.pipeline.write(key, 1)
    rounds(c.service.relay, 2)
    seen, cursor = [], None
    while True:
        page = c.get("/api/v1/outbox/parked", params={"limit": 2} | ({"cursor": cursor} if cursor else {}),
                     headers=admin).json()
        seen += [i["aggregateid"] for i in page["items"]]
        if (cursor := page["next_cursor"]) is None:
            break
    assert seen == ["deal-x", "deal-y", "deal-z"]
    c.bus.refused.clear()
    assert c.post("/api/v1/outbox/parked/retry", headers=admin).json() == {"retried": 3}
    assert c.post("/api/v1/outbox/parked/retry", headers=admin).json() == {"retried": 0}
    assert c.service.relay.relay_once() == 3
    with c.service.session_factory() as session:
        assert session.execute(select(func.count()).select_from(c.service.tables.outbox)).scalar_one() == 0


def test_only_an_admin_sees_or_retries_parked_rows(admin_client, test_keys):
    c = admin_client
    for role in ("viewer", "partner", "bank"):
        h = test_keys.headers(role, org_id="org-1") if role == "bank" else test_keys.headers(role)
        assert c.get("/api/v1/outbox/parked", headers=h).status_code == 403
        assert c.post("/api/v1/outbox/parked/retry", headers=h).status_code == 403
        r = c.post("/api/v1/outbox/parked/0190b8a0-0000-7000-8000-000000000000/retry", headers=h)
        assert r.status_code == 403 and r.headers["content-type"].startswith("application/problem+json")
    assert c.get("/api/v1/outbox/parked").status_code == 401
    admin = test_keys.headers("admin")
    assert c.post("/api/v1/outbox/parked/%00/retry", headers=admin).status_code == 422
    assert c.post(f"/api/v1/outbox/parked/{'x' * 37}/retry", headers=admin).status_code == 422
    assert c.get("/api/v1/outbox/parked", params={"cursor": "WyJcdWQ4MDAiXQ"}, headers=admin).status_code == 422
